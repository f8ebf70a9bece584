"""Confinement of student code: hidden instructor files, no network, memory and process caps, clean kills."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from solutions.instructor import isolation

MODE = isolation.detect_mode()
pytestmark = pytest.mark.skipif(MODE == "none", reason="needs mount/net/PID namespaces (unshare)")
UID = isolation.DEFAULT_UID_BASE + 90  # a slot no grading run of the suite uses


def run(tmp_path: Path, code: str, timeout: float = 30, hide=(), limits=None) -> tuple[isolation.Outcome, str]:
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / "probe.py").write_text(textwrap.dedent(code))
    isolation.prepare_tree(box, UID)
    log = tmp_path / "log.txt"
    outcome = isolation.run_confined(
        [sys.executable, str(box / "probe.py")],
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=box, visible=box, hide=list(hide) + isolation.private_homes(), expose=isolation.interpreter_paths(),
        limits=limits or isolation.Limits(processes=64, memory_bytes=2 << 30), timeout=timeout, log_path=log, uid=UID,
        mode=MODE,
    )
    return outcome, log.read_text()


@pytest.fixture
def secret():
    """A folder of instructor files beside (not under) the grading folders, as solutions/ is."""
    folder = Path(tempfile.mkdtemp(prefix="cs231n-secret-"))
    (folder / "reference.py").write_text("ANSWER = 42")
    yield folder
    shutil.rmtree(folder)


def uid_processes(uid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


def test_hidden_paths_are_empty_and_the_visible_folder_is_usable(tmp_path, secret):
    outcome, log = run(tmp_path, f"""
        import os
        print("secret:", os.listdir({str(secret)!r}))
        open("written.txt", "w").write("ok")
        print("home hidden:", not os.path.exists(os.path.expanduser("~root/.bashrc")))
    """, hide=[secret])
    assert outcome.returncode == 0, log
    assert "secret: []" in log
    assert (tmp_path / "box" / "written.txt").read_text() == "ok"
    assert (secret / "reference.py").read_text() == "ANSWER = 42"


def test_no_network_even_to_a_server_on_the_graders_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(20)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True).start()
    outcome, log = run(tmp_path, f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3)
            print("CONNECTED")
        except OSError as error:
            print("refused:", type(error).__name__)
        try:
            socket.create_connection(("93.184.216.34", 80), timeout=3)
            print("INTERNET")
        except OSError as error:
            print("no route:", error.errno)
        own = socket.socket(); own.bind(("127.0.0.1", 0)); own.listen()  # its own loopback works (kernels)
        print("own loopback ok")
    """)
    server.close()
    assert outcome.returncode == 0, log
    assert "CONNECTED" not in log and "INTERNET" not in log
    assert "refused:" in log and "no route:" in log and "own loopback ok" in log
    assert accepted in ([], [None])


def _accept(server):
    try:
        server.accept()
        return "accepted"
    except OSError:
        return None


def test_a_huge_allocation_fails_inside_without_harming_the_grader(tmp_path):
    outcome, log = run(tmp_path, """
        import numpy as np
        try:
            np.ones(30 * 2**30 // 8)
        except MemoryError as error:
            print("MemoryError:", str(error)[:40])
    """)
    assert outcome.returncode == 0, log
    assert "MemoryError: Unable to allocate 30.0 GiB" in log


def test_a_fork_bomb_is_capped_and_nothing_survives_the_run(tmp_path):
    outcome, log = run(tmp_path, """
        import os, time
        born = 0
        try:
            while True:
                if os.fork() == 0:
                    os.setsid()  # try to escape the process group as well
                    time.sleep(600)
                    os._exit(0)
                born += 1
        except OSError as error:
            print("capped after", born, type(error).__name__)
    """)
    assert outcome.returncode == 0, log
    capped = int(log.split("capped after ")[1].split()[0])
    assert 0 < capped < 64
    assert uid_processes(UID) == []


def test_a_hang_is_killed_at_the_budget_with_everything_it_started(tmp_path):
    outcome, log = run(tmp_path, """
        import os, signal, subprocess, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sleep", "600"], start_new_session=True)
        print("looping", flush=True)
        while True:
            pass
    """, timeout=3)
    assert outcome.timed_out and outcome.returncode is None
    assert "looping" in log
    assert outcome.seconds < 15
    assert uid_processes(UID) == []


def test_os_exit_ends_only_the_command_with_its_code(tmp_path):
    outcome, log = run(tmp_path, "import os\nos._exit(7)\n")
    assert outcome.returncode == 7 and not outcome.timed_out


def test_uids_of_existing_accounts_are_refused():
    with pytest.raises(ValueError, match=r"0 \(root\) belong to existing accounts; choose a free range with --uid-base"):
        isolation.check_uid_range(0, 1)


def test_a_grading_uid_held_by_another_run_is_refused_and_freed_when_that_run_ends():
    uids = (UID + 1, 2)
    with isolation.claim_uids(*uids):
        with pytest.raises(RuntimeError, match=rf"the grading uid {UID + 2} is in use by another grading run .*--uid-base"):
            with isolation.claim_uids(UID + 2, 1):
                pass
    with isolation.claim_uids(*uids):  # released on exit: a later run gets them
        pass


def test_a_relative_command_is_refused(tmp_path):
    with pytest.raises(ValueError, match="argv\\[0\\] must be an absolute path"):
        isolation.run_confined(["python"], env={}, cwd=tmp_path, visible=tmp_path, hide=[], limits=isolation.Limits(),
                               timeout=1, log_path=tmp_path / "log", uid=None)


@pytest.mark.skipif(os.geteuid() != 0, reason="the per-slot uid is only used when grading as root")
def test_student_code_cannot_undo_the_masks(tmp_path, secret):
    outcome, log = run(tmp_path, f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        print("umount:", libc.umount2({str(secret)!r}.encode(), 2), ctypes.get_errno())
        print("uid:", os.getuid())
        print("after:", os.listdir({str(secret)!r}))
    """, hide=[secret])
    assert outcome.returncode == 0, log
    assert f"uid: {UID}" in log
    assert "umount: -1 1" in log  # EPERM
    assert "after: []" in log
