"""The grading sandbox: an allow-listed view, no network, caps per run, nothing left behind, clean kills."""

from __future__ import annotations

import os
import subprocess
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from instructor.grade import cgroup
from instructor.grade import sandbox
from instructor.grade.runtime import frames
from leftovers import files_named

UID_BASE = sandbox.DEFAULT_UID_BASE + 90  # a range no grading run of the suite uses
AS_ROOT = os.geteuid() == 0


SANDBOX_PROBLEM = sandbox.Sandbox(uid_base=UID_BASE).problem()
needs_sandbox = pytest.mark.skipif(SANDBOX_PROBLEM is not None, reason=f"no grading sandbox here: {SANDBOX_PROBLEM}")


def run(code: str, tmp_path: Path, binds=(), limits=None, deadline: float = 60, slot: int = 0):
    """Run ``code`` in a sandbox; return (outcome, stdout text, log text)."""
    box = sandbox.Sandbox(limits or sandbox.Limits(memory_bytes=1 << 30, processes=64), uid_base=UID_BASE)
    log = tmp_path / f"log-{uuid.uuid4().hex[:6]}.txt"
    started = box.start([sys.executable, "-I", "-c", textwrap.dedent(code)], binds=list(binds),
                        env={"PATH": "/usr/bin:/bin"}, slot=slot, log_path=log)
    try:
        out = started.read_all(time.monotonic() + deadline)
    except sandbox.Timeout:
        started.timed_out = True
        out = b""
    outcome = started.finish(grace=5)
    return outcome, out.decode(errors="replace"), log.read_text(errors="replace")


@pytest.fixture
def instructor_files():
    """World-readable instructor files beside (not under) what the sandbox is given, as solutions/ is."""
    folder = Path(tempfile.mkdtemp(prefix="cs231n-secret-"))
    (folder / "reference.py").write_text("ANSWER = 42")
    os.chmod(folder, 0o755)
    os.chmod(folder / "reference.py", 0o644)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def given(tmp_path):
    """A read-only input folder, as a submission's is."""
    folder = tmp_path / "given"
    folder.mkdir()
    (folder / "work.py").write_text("print('student work')")
    os.chmod(folder, 0o755)
    os.chmod(folder / "work.py", 0o644)
    return folder


@needs_sandbox
def test_the_sandbox_sees_only_what_it_is_given(tmp_path, instructor_files, given):
    repo = Path(__file__).resolve().parents[2]
    outcome, out, log = run(f"""
        import os
        print("top:", sorted(os.listdir("/")))
        print("secret:", os.path.exists({str(instructor_files)!r}))
        print("solutions:", os.path.exists({str(repo / "solutions")!r}), os.path.exists({str(repo / ".git")!r}))
        print("repo:", sorted(os.listdir({str(repo)!r})))
        print("given:", open("/in/work.py").read())
        print("home:", os.path.exists("/root/.bashrc"), os.path.exists("/home"), os.path.exists("/etc/passwd"))
        try:
            open("/in/planted.py", "w")
        except OSError as error:
            print("write given:", error.errno)
        try:
            open("/usr/planted", "w")
        except OSError as error:
            print("write usr:", error.errno)
        open("/tmp/mine.txt", "w").write("ok")
        print("tmp ok")
    """, tmp_path, binds=[sandbox.Bind(given, "/in")])
    assert outcome.returncode == 0, log
    assert "secret: False" in out
    assert "solutions: False False" in out
    assert "repo: ['.venv']" in out or "repo: []" in out  # only the environment, where it lives in the repo
    assert "given: print('student work')" in out
    assert "home: False False False" in out
    assert "write given: 30" in out and "write usr: 30" in out  # EROFS
    assert "tmp ok" in out
    assert sorted(os.listdir(given)) == ["work.py"]
    top = eval(out.split("top: ")[1].splitlines()[0])
    assert set(top) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr",
                        "in", *{Path(p).parts[1] for p in (sys.base_prefix, sys.prefix)}}


@needs_sandbox
def test_tmp_is_private_to_each_run_and_gone_after_it(tmp_path):
    marker = f"stash-{uuid.uuid4().hex}"
    outcome, out, log = run(f"""
        for folder in ("/tmp", "/dev/shm"):
            open(folder + "/{marker}", "w").write("the reference, copied")
        print("stashed")
    """, tmp_path)
    assert outcome.returncode == 0 and "stashed" in out, log
    outcome, out, log = run(f"""
        import os
        print("found:", [f for f in ("/tmp/{marker}", "/dev/shm/{marker}") if os.path.exists(f)])
    """, tmp_path)
    assert "found: []" in out, log
    assert not files_named(Path(tempfile.gettempdir()), marker)
    assert not Path("/dev/shm", marker).exists()


def _serve(server: socket.socket, accepted: list) -> None:
    try:
        connection, _ = server.accept()
        accepted.append("accepted")
        connection.close()
    except OSError:
        pass


@needs_sandbox
def test_no_network_at_all_not_even_the_hosts_loopback_or_unix_sockets(tmp_path):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    tcp.settimeout(15)
    port = tcp.getsockname()[1]
    socket_dir = Path(tempfile.mkdtemp(prefix="cs231n-socket-"))
    os.chmod(socket_dir, 0o755)
    path = str(socket_dir / "service.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(path)
    os.chmod(path, 0o777)
    unix.listen()
    unix.settimeout(15)
    abstract_name = f"\0cs231n-test-{uuid.uuid4().hex}"
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(abstract_name)
    abstract.listen()
    abstract.settimeout(15)
    accepted: list = []
    threads = [threading.Thread(target=_serve, args=(s, accepted), daemon=True) for s in (tcp, unix, abstract)]
    for thread in threads:
        thread.start()
    try:
        outcome, out, log = run(f"""
            import socket
            def attempt(label, family, address):
                try:
                    s = socket.socket(family)
                    s.settimeout(3)
                    s.connect(address)
                    print(label, "CONNECTED")
                except OSError as error:
                    print(label, "refused", error.errno)
            attempt("tcp", socket.AF_INET, ("127.0.0.1", {port}))
            attempt("unix", socket.AF_UNIX, {path!r})
            attempt("abstract", socket.AF_UNIX, {abstract_name!r})
            own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen()  # its own loopback works (kernels)
            print("own loopback ok")
        """, tmp_path)
    finally:
        for server in (tcp, unix, abstract):
            server.close()
        for thread in threads:
            thread.join(timeout=20)
        shutil.rmtree(socket_dir)
    assert outcome.returncode == 0, log
    assert "CONNECTED" not in out
    assert out.count("refused") == 3 and "own loopback ok" in out
    assert accepted == []


@needs_sandbox
@pytest.mark.skipif(cgroup.detect() is None, reason="no cgroup can be created here (grading as an ordinary user)")
def test_the_memory_cap_holds_for_all_processes_of_a_run_together(tmp_path):
    limit = 1 << 30
    outcome, out, log = run("""
        import os, time
        import numpy as np
        children = []
        for _ in range(4):  # each under the per-process cap, together far over the run's
            pid = os.fork()
            if pid == 0:
                block = np.ones(700 * 2**20 // 8)
                time.sleep(5)
                os._exit(0)
            children.append(pid)
        print("statuses:", [os.waitpid(pid, 0)[1] for pid in children])
    """, tmp_path, limits=sandbox.Limits(memory_bytes=limit, processes=64))
    statuses = eval(out.split("statuses: ")[1].splitlines()[0]) if "statuses: " in out else None
    assert statuses is not None and any(status != 0 for status in statuses), (out, log)
    assert outcome.memory_kills >= 1
    assert outcome.peak_memory_bytes is not None and outcome.peak_memory_bytes <= limit


@needs_sandbox
def test_a_huge_allocation_fails_inside_without_harming_the_grader(tmp_path):
    outcome, out, log = run("""
        import numpy as np
        try:
            np.ones(30 * 2**30 // 8)
        except MemoryError as error:
            print("MemoryError:", str(error)[:40])
    """, tmp_path)
    assert outcome.returncode == 0, log
    assert "MemoryError: Unable to allocate 30.0 GiB" in out


@needs_sandbox
def test_a_fork_bomb_is_capped_and_nothing_survives_the_run(tmp_path):
    outcome, out, log = run("""
        import os, time
        born = 0
        try:
            while True:
                if os.fork() == 0:
                    os.setsid()  # try to leave the process group as well
                    time.sleep(600)
                    os._exit(0)
                born += 1
        except OSError as error:
            print("capped after", born, type(error).__name__)
    """, tmp_path)
    assert outcome.returncode == 0, log
    capped = int(out.split("capped after ")[1].split()[0])
    assert 0 < capped < 64
    if AS_ROOT:
        assert sandbox.uid_processes(UID_BASE) == []


@needs_sandbox
def test_a_hang_is_killed_at_the_deadline_with_everything_it_started(tmp_path):
    started = time.monotonic()
    outcome, out, log = run("""
        import signal, subprocess
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sleep", "600"], start_new_session=True)
        while True:
            pass
    """, tmp_path, deadline=3)
    assert outcome.timed_out and outcome.returncode is None
    assert time.monotonic() - started < 20
    if AS_ROOT:
        assert sandbox.uid_processes(UID_BASE) == []


@needs_sandbox
def test_os_exit_ends_only_the_command_with_its_code(tmp_path):
    outcome, _, log = run("import os\nos._exit(7)\n", tmp_path)
    assert outcome.returncode == 7 and not outcome.timed_out, log


@needs_sandbox
@pytest.mark.skipif(not AS_ROOT, reason="the grading uids are only used when grading as root")
def test_student_code_runs_as_an_unprivileged_uid_that_cannot_regain_root(tmp_path):
    outcome, out, log = run("""
        import ctypes, os
        print("uid:", os.getuid(), os.geteuid())
        try:
            os.setuid(0)
        except OSError as error:
            print("setuid:", error.errno)
        libc = ctypes.CDLL(None, use_errno=True)
        print("mount:", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())
        print("unshare:", libc.unshare(0x10000000), ctypes.get_errno())  # a new user namespace
    """, tmp_path, slot=1)
    assert outcome.returncode == 0, log
    assert f"uid: {UID_BASE + 1} {UID_BASE + 1}" in out
    assert "setuid: 1\n" in out or "setuid: 22\n" in out  # EPERM, or EINVAL: no uid 0 exists in the sandbox
    assert "mount: -1 1\n" in out  # EPERM
    assert "unshare: -1 " in out  # no nested user namespace either


def test_without_bubblewrap_the_grader_refuses_and_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match=r"bubblewrap \(`bwrap`\) is not installed: install bubblewrap"):
        sandbox.Sandbox().check()
    sandbox.Sandbox(unsafe=True).check()  # the explicit way past does not need it


def test_a_relative_command_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"argv\[0\] must be an absolute path"):
        sandbox.Sandbox().start(["python"], binds=[], env={}, slot=0, log_path=tmp_path / "log")


def test_uids_of_existing_accounts_are_refused():
    with pytest.raises(ValueError, match=r"0 \(root\) belong to existing accounts; choose a free range with --uid-base"):
        sandbox.check_uid_range(0, 1)


def test_a_grading_uid_held_by_another_run_is_refused_and_freed_when_that_run_ends():
    base = UID_BASE + 500  # clear of the ranges the grading tests claim
    with sandbox.claim_uids(base, 2):
        with pytest.raises(RuntimeError, match=rf"the grading uid {base + 1} is in use by another grading run .*--uid-base"):
            with sandbox.claim_uids(base + 1, 1):
                pass
        assert sandbox.free_uid_base(2, start=base) == base + 16  # the next range along
    with sandbox.claim_uids(base, 2):  # released on exit: a later run gets them
        pass


# ------------------------------------------------------------------------------------------------ frames

def test_frames_carry_arrays_of_every_numeric_kind_and_zero_dimensional_ones():
    arrays = {"loss": np.asarray(1.5), "dW": np.arange(6.0).reshape(2, 3), "labels": np.array([1, 2], dtype=np.int64),
              "flags": np.array([True, False])}
    (header, got), = frames.Decoder().feed(frames.encode({"ok": True}, arrays))
    assert header["ok"] is True
    for name, value in arrays.items():
        assert got[name].shape == value.shape and got[name].dtype == value.dtype and np.array_equal(got[name], value)


def test_a_frame_fed_byte_by_byte_arrives_once_whole():
    data = frames.encode({"name": "x"}, {"a": np.arange(10)})
    decoder = frames.Decoder()
    received = [frame for byte in data for frame in decoder.feed(bytes([byte]))]
    assert len(received) == 1 and np.array_equal(received[0][1]["a"], np.arange(10))


@pytest.mark.parametrize("header, message", [
    ({"arrays": [["x", "<f8", [1 << 40]]]}, "declare more than"),  # a header that claims 8 TB
    ({"arrays": [["x", "|O", [3]]]}, "only numbers are accepted"),  # objects would mean pickles
    ({"arrays": [["x", "<U8", [3]]]}, "only numbers are accepted"),
    ({"arrays": [["x", "<f8", [-1]]]}, "invalid shape"),
    ({"arrays": [["x", "<f8", [2]], ["x", "<f8", [2]]]}, "declared twice"),
    ({"arrays": "all of them"}, "not a list"),
])
def test_a_lying_or_dangerous_header_is_refused_before_its_payload_is_read(header, message):
    import json
    import struct

    text = json.dumps(header).encode()
    with pytest.raises(frames.FrameError, match=message):
        frames.Decoder(max_payload=1 << 20).feed(struct.pack(">4sI", frames.MAGIC, len(text)) + text)


def test_garbage_and_oversized_headers_are_refused():
    with pytest.raises(frames.FrameError, match="does not start a frame"):
        frames.Decoder().feed(b"PK\x03\x04 a zip bomb perhaps")
    with pytest.raises(frames.FrameError, match="over the limit"):
        frames.Decoder(max_header=100).feed(frames.MAGIC + (1 << 30).to_bytes(4, "big"))
    with pytest.raises(frames.FrameError, match="not JSON"):
        frames.Decoder().feed(frames.MAGIC + (4).to_bytes(4, "big") + b"\xff\xfe{]")


def test_the_callers_check_runs_before_the_payload_is_kept():
    def accept(header):
        if [entry[0] for entry in header["arrays"]] != ["dW"]:
            raise frames.FrameError("unexpected outputs")

    decoder = frames.Decoder(accept=accept)
    data = frames.encode({"ok": True}, {"secret": np.zeros(1000)})
    with pytest.raises(frames.FrameError, match="unexpected outputs"):
        decoder.feed(data[:200])  # the header alone is enough to refuse


@pytest.mark.skipif(cgroup.detect() is None, reason="no cgroup can be created here (grading as an ordinary user)")
def test_groups_live_under_their_grading_process_and_a_dead_process_s_are_swept():
    group = cgroup.create(1 << 30, 64)
    try:
        assert all(folder.parent in cgroup.run_folders() for folder in group.folders)
    finally:
        group.kill_and_remove()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a grading process that was killed: its pid is free, its group folders stay behind
    left = [folder / "left-behind" for folder in cgroup.run_folders(gone.pid)]
    for folder in left:
        folder.mkdir(parents=True)
    cgroup.create(1 << 30, 64).kill_and_remove()  # the next group made sweeps
    assert not any(folder.parent.exists() for folder in left)
