"""Run student code in a bubblewrap sandbox that holds only what the grader lists, and talk to it by pipe.

What a sandboxed process sees (an allow-list; bubblewrap builds the view from nothing):

- ``/usr`` and the system's library links, read-only (the Python installation, shared libraries);
- the Python installation and the grading environment at their own paths, read-only;
- the read-only inputs the caller binds (one submission's files, the grading data);
- a private ``/tmp`` (tmpfs, size-capped, gone with the sandbox), where all its writing happens;
- ``/proc`` of its own PID namespace and a minimal ``/dev``;
- no network at all (its own network namespace with loopback only, so no host socket, TCP or abstract).

It runs under a grading uid of its own when the grader is root (one per parallel slot, never a real
account), in new user, mount, PID, IPC, UTS and network namespaces, in a new session, killed with its
parent. Memory and process caps hold for the whole run through a control group (:mod:`.cgroup`) where the
grader can create one, and per process through resource limits always.

Results come back over the process's stdout as frames (:mod:`.runtime.frames`) read here with deadlines
and size caps; the grader never opens anything the sandbox could write. The sandbox's stderr is kept, cut
at :data:`LOG_LIMIT`, as the run's log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import pwd
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from instructor.grade import cgroup
from instructor.grade.runtime import frames

LAUNCHER = Path(__file__).with_name("runtime") / "launch.py"
DEFAULT_UID_BASE = 62000
LOG_LIMIT = 1 << 20  # bytes of a run's stderr kept in its log
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; "
    "Arch: `pacman -S bubblewrap`); it needs unprivileged user namespaces (on Ubuntu 24.04 and later also "
    "the AppArmor profile that the bubblewrap package ships)"
)
UNSAFE_WARNING = (
    "UNSAFE: graded without a sandbox (--unsafe-no-sandbox): student code could read the reference, the "
    "hidden tests and other submissions, and change files of the grading machine"
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here; the message says why and how to fix it."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Caps of one sandboxed run (``None`` leaves one unset).

    Attributes
    ----------
    memory_bytes : int
        Memory of the whole run (control group) and address space of each process (RLIMIT_AS).
    processes : int
        Processes and threads of the whole run (control group) and of the grading uid (RLIMIT_NPROC).
    cpu_seconds : int
        CPU time of each process (RLIMIT_CPU).
    file_bytes : int
        Largest file a process may write (RLIMIT_FSIZE).
    tmp_bytes : int
        Size of the sandbox's private ``/tmp``, where all its writing happens.
    """

    memory_bytes: int | None = 4 << 30
    processes: int | None = 256
    cpu_seconds: int | None = 3600
    file_bytes: int | None = 256 << 20
    tmp_bytes: int = 1 << 30


@dataclasses.dataclass(frozen=True)
class Bind:
    """A host folder or file shown read-only inside the sandbox at ``target`` (an absolute path)."""

    source: Path
    target: str


@dataclasses.dataclass
class Outcome:
    """How a sandboxed run ended.

    Attributes
    ----------
    returncode : int or None
        Exit code, or None when the grader killed it.
    timed_out : bool
        Killed for running over its deadline.
    seconds : float
        Wall time.
    peak_memory_bytes : int or None
        Most memory the run held at once (control group), None without one.
    memory_kills : int
        Processes the kernel killed for the run's memory cap.
    cpu_seconds : float or None
        CPU time of all the run's processes (control group), None without one.
    """

    returncode: int | None
    timed_out: bool
    seconds: float
    peak_memory_bytes: int | None = None
    memory_kills: int = 0
    cpu_seconds: float | None = None


class Timeout(Exception):
    """The sandboxed process did not answer before the deadline."""


@functools.lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    return shutil.which("bwrap")


def interpreter_binds() -> list[Bind]:
    """The Python installation and the grading environment, each at its own path, unless under /usr."""
    paths = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()})
    return [Bind(path, str(path)) for path in paths if not _under(path, Path("/usr"))]


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class Sandbox:
    """How every run of one grading session is sandboxed.

    Parameters
    ----------
    limits : Limits
        Caps of each run.
    uid_base : int
        First grading uid when the grader is root; slot ``k`` runs as ``uid_base + k``.
    unsafe : bool
        Run without bubblewrap (``--unsafe-no-sandbox``): limits and a process group only.
    account : bool
        With ``unsafe``, still give each run a control group where one can be made (the grader's own
        trusted processes, whose CPU time is compared with a sandbox's).
    """

    def __init__(self, limits: Limits = Limits(), uid_base: int = DEFAULT_UID_BASE, unsafe: bool = False,
                 account: bool = False):
        self.limits, self.uid_base, self.unsafe = limits, uid_base, unsafe
        self.as_root = os.geteuid() == 0
        self.cgroups = cgroup.detect() if account or not unsafe else None

    def check(self) -> None:
        """Raise :class:`SandboxUnavailable` (with the fix) unless a trivial sandbox starts and exits 0."""
        if self.unsafe:
            return
        if sys.platform != "linux":
            raise SandboxUnavailable(f"the grading sandbox needs Linux (this is {sys.platform}); grade on a Linux machine")
        if bubblewrap() is None:
            raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
        with tempfile.TemporaryDirectory(prefix="cs231n-probe-") as scratch:
            run = self.start([sys.executable, "-I", "-c", "print('ok')"], binds=[], env={}, slot=0,
                             log_path=Path(scratch) / "log")
            data = run.read_all(time.monotonic() + 60)
            outcome = run.finish(grace=10)
            log = (Path(scratch) / "log").read_text(errors="replace").strip()
        if outcome.returncode != 0 or data.strip() != b"ok":
            raise SandboxUnavailable(
                f"bubblewrap did not start a sandbox here (exit {outcome.returncode}: {log[-500:] or 'no message'}); "
                f"{INSTALL_HINT}"
            )

    def problem(self) -> str | None:
        """None when :meth:`check` passes, else its message (for tests and benchmarks that skip)."""
        try:
            self.check()
            return None
        except SandboxUnavailable as error:
            return str(error)

    def describe(self) -> str:
        """One line for the grading notes: what confines student code and which caps held how."""
        if self.unsafe:
            return UNSAFE_WARNING
        memory = f"{self.limits.memory_bytes >> 20} MB" if self.limits.memory_bytes else "no memory cap"
        who = f"grading uids from {self.uid_base}" if self.as_root else f"uid {os.getuid()} (the grader's own user)"
        if self.cgroups is not None:
            caps = (f"memory {memory} and {self.limits.processes} processes per sandboxed run (cgroup v"
                    f"{self.cgroups[0]}), and per process (rlimits)")
        else:
            caps = f"memory {memory} and {self.limits.processes} processes per process only (rlimits; no cgroup could be created)"
        return f"bubblewrap sandbox as {who}, no network; caps: {caps}"

    def uid(self, slot: int) -> int | None:
        return self.uid_base + slot if self.as_root and not self.unsafe else None

    def inside(self, bind: Bind) -> str:
        """Where a bound path is seen by the sandboxed process."""
        return str(bind.source) if self.unsafe else bind.target

    def start(self, argv: list[str], *, binds: list[Bind], env: dict[str, str], slot: int, log_path: Path,
              cwd: str = "/tmp") -> "Run":
        """Start ``argv`` in a new sandbox; talk to it through the returned :class:`Run`.

        Parameters
        ----------
        argv : list of str
            The command, ``argv[0]`` an absolute path as seen inside.
        binds : list of Bind
            Read-only inputs besides the system and the Python installation.
        env : dict
            The complete environment (nothing is inherited).
        slot : int
            Parallel slot, which picks the grading uid.
        log_path : Path
            Receives the first :data:`LOG_LIMIT` bytes of the process's stderr.
        cwd : str
            Working folder inside (``/tmp``, the writable tmpfs, by default).
        """
        if not Path(argv[0]).is_absolute():
            raise ValueError(f"argv[0] must be an absolute path, got {argv[0]!r}")
        binds = interpreter_binds() + list(binds)
        limits = self.limits
        uid = self.uid(slot)
        group = None
        if self.cgroups is not None:
            group = cgroup.create(limits.memory_bytes or (1 << 62), limits.processes or 4194304)
        nproc = limits.processes
        if uid is None and nproc is not None:
            nproc += _own_process_count()  # RLIMIT_NPROC counts every process of the grader's own user
        spec = {
            "cgroup_procs": [str(p) for p in group.procs_files()] if group else [],
            "limits": {"as_bytes": limits.memory_bytes, "nproc": nproc, "cpu_seconds": limits.cpu_seconds,
                       "fsize_bytes": limits.file_bytes, "core_bytes": 0},
            "uid": uid,
        }
        stage_dir = None
        prefix = [sys.executable, "-I", str(LAUNCHER)]
        if self.unsafe:
            scratch = Path(tempfile.mkdtemp(prefix="cs231n-unsafe-"))
            stage_dir = scratch
            spec["argv"] = list(argv)
            env = dict(env, HOME=str(scratch), TMPDIR=str(scratch))
            cwd = str(scratch)
        else:
            sources = [str(bind.source) for bind in binds]
            if uid is not None:
                # bubblewrap resolves its sources as the grading uid: bind them where that uid can reach.
                stage_dir = Path(tempfile.mkdtemp(prefix="cs231n-stage-"))
                os.chmod(stage_dir, 0o755)
                spec["stage"] = {"dir": str(stage_dir), "sources": sources}
                sources = [str(stage_dir / str(index)) for index in range(len(sources))]
                prefix = ["unshare", "--mount", "--propagation", "private", "--"] + prefix
            spec["argv"] = _bwrap_argv(argv, binds, sources, env, limits, uid, cwd)
        log = open(log_path, "wb")
        process = subprocess.Popen(
            prefix + [json.dumps(spec)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env if self.unsafe else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd=cwd if self.unsafe else "/", start_new_session=True,
        )
        return Run(process, group, uid, log, stage_dir)


def _own_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            count += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            continue
    return count


def _bwrap_argv(argv, binds, sources, env, limits, uid, cwd) -> list[str]:
    """bubblewrap's command line: the whole view of the sandbox, built from nothing."""
    # --disable-userns: no nested user namespace, where student code would be "root" again (of nothing, but
    # with much more of the kernel within reach).
    args = [bubblewrap() or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--hostname", "grading", "--clearenv"]
    if uid is not None:
        args += ["--uid", str(uid), "--gid", str(uid)]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for bind, source in zip(binds, sources):
        args += ["--ro-bind", source, bind.target]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--size", str(64 << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/", "--chdir", cwd, "--", *argv]
    return args


class Run:
    """A started sandbox: send it frames, receive frames, then :meth:`finish` it (always)."""

    def __init__(self, process, group, uid, log, stage_dir):
        self.process, self.group, self.uid, self.log = process, group, uid, log
        self.stage_dir = stage_dir
        self.started = time.monotonic()
        self.timed_out = False
        self.logged = 0
        self._frames: list = []
        self._out_open = self._err_open = True
        for stream in (process.stdin, process.stdout, process.stderr):
            os.set_blocking(stream.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(process.stdout, selectors.EVENT_READ, "out")
        self._selector.register(process.stderr, selectors.EVENT_READ, "err")
        self._decoder = None
        self._raw = bytearray()

    def _keep_log(self, data: bytes) -> None:
        room = LOG_LIMIT - self.logged
        if room > 0:
            self.log.write(data[:room])
            if len(data) > room:
                self.log.write(b"\n[log truncated]\n")
            self.log.flush()
        self.logged += len(data)

    def _pump(self, deadline: float, want) -> None:
        """Move bytes until ``want()`` holds, stdout closes, or the deadline (then :class:`Timeout`)."""
        while not want():
            if not self._out_open:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            for key, _ in self._selector.select(timeout=min(left, 1.0)):
                self._read_once(key)

    def cpu_seconds(self) -> float | None:
        """CPU time of every process of this sandbox so far, counted by the kernel (None without a cgroup)."""
        return self.group.cpu_seconds() if self.group is not None else None

    def expect_frames(self, decoder: frames.Decoder) -> None:
        """Read stdout as frames from now on, with ``decoder``'s limits and checks."""
        self._decoder = decoder

    def send(self, data: bytes, deadline: float) -> None:
        """Write ``data`` to the process's stdin, reading its output meanwhile (so neither side blocks)."""
        view = memoryview(data)
        self._selector.register(self.process.stdin, selectors.EVENT_WRITE, "in")
        try:
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout()
                if not self._out_open:
                    raise BrokenPipeError("the sandboxed process closed its output")
                for key, _ in self._selector.select(timeout=min(left, 1.0)):
                    if key.data == "in":
                        try:
                            view = view[os.write(self.process.stdin.fileno(), view):]
                        except BlockingIOError:
                            continue
                    else:
                        self._read_once(key)
        finally:
            self._selector.unregister(self.process.stdin)

    def _read_once(self, key) -> None:
        try:
            data = os.read(key.fileobj.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if key.data == "err":
            if data:
                self._keep_log(data)
            else:
                self._selector.unregister(key.fileobj)
                self._err_open = False
        elif not data:
            self._selector.unregister(key.fileobj)
            self._out_open = False
        elif self._decoder is None:
            self._raw += data
        else:
            self._frames.extend(self._decoder.feed(data))

    def receive(self, deadline: float):
        """The next frame ``(header, arrays)``, or None when the process closed its output first.

        Raises :class:`Timeout` at the deadline and :class:`frames.FrameError` on a malformed frame.
        """
        self._pump(deadline, lambda: bool(self._frames))
        return self._frames.pop(0) if self._frames else None

    def read_all(self, deadline: float, limit: int = 1 << 20) -> bytes:
        """Everything the process writes to stdout until it closes it (raw mode, at most ``limit`` bytes)."""
        self._pump(deadline, lambda: len(self._raw) > limit)
        return bytes(self._raw[:limit])

    def finish(self, grace: float = 0.0) -> Outcome:
        """End the run: close its input, give it ``grace`` seconds to exit by itself, then kill whatever is
        left of the sandbox, wait until every process of it is gone, and report.

        The exit code is None when the run had to be killed (or timed out).
        """
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if grace > 0 and not self.timed_out:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        killed = self.process.poll() is None
        if killed:
            self.process.send_signal(signal.SIGTERM)  # the launcher kills bubblewrap, then reaps the sandbox
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
        returncode = self.process.wait()
        if self.timed_out or killed:
            returncode = None
        # Drain what is left of stderr into the log (the pipes close when the last writer is gone).
        with contextlib.suppress(OSError, ValueError):
            while self._err_open:
                ready = self._selector.select(timeout=0.5)
                if not ready:
                    break
                for key, _ in ready:
                    self._read_once(key)
        self._selector.close()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        self.log.close()
        peak, kills, cpu = None, 0, None
        if self.group is not None:
            peak, kills = self.group.peak_memory(), self.group.out_of_memory_kills()
            cpu = self.group.cpu_seconds()  # the run is over: what is left only waits to be killed
            self.group.kill_and_remove()
        if self.uid is not None:
            _wait_until_gone(self.uid)
        if self.stage_dir is not None:
            shutil.rmtree(self.stage_dir, ignore_errors=True)
        return Outcome(returncode, self.timed_out, time.monotonic() - self.started, peak, kills, cpu)


def uid_processes(uid: int) -> list[int]:
    """PIDs of the processes owned by ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` from a child that becomes that uid (as root)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _wait_until_gone(uid: int, timeout: float = 20.0) -> None:
    """A dying PID namespace takes a moment to reap; its processes still count against the uid's limit."""
    deadline = time.monotonic() + timeout
    while uid_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if uid_processes(uid):
        _kill_uid(uid)


def check_uid_range(uid_base: int, slots: int) -> None:
    """Refuse uids that belong to accounts on this machine: sandboxed code must own nothing."""
    taken = []
    for uid in range(uid_base, uid_base + slots):
        try:
            taken.append(f"{uid} ({pwd.getpwuid(uid).pw_name})")
        except KeyError:
            continue
    if taken:
        raise ValueError(
            f"the grading uids {', '.join(taken)} belong to existing accounts; choose a free range with --uid-base"
        )


def uid_lock_path(uid: int) -> Path:
    """The lock file that marks ``uid`` as taken by a running grader on this machine."""
    return Path(tempfile.gettempdir()) / f"cs231n-grading-uid-{uid}.lock"


@contextlib.contextmanager
def claim_uids(uid_base: int, slots: int):
    """Hold the grading uids ``uid_base .. uid_base + slots - 1`` for this process, or refuse at once.

    A grader kills every process of a slot's uid when a run ends, so two graders sharing a uid would kill
    each other's student code. Each uid is claimed with an exclusive ``flock``, released by the kernel when
    this process ends, however it ends.

    Raises
    ------
    RuntimeError
        When another grading run holds one of the uids (its message names the uid and the way out).
    """
    handles = []
    try:
        for uid in range(uid_base, uid_base + slots):
            path = uid_lock_path(uid)
            handle = open(path, "a+b")
            handles.append(handle)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuntimeError(
                    f"the grading uid {uid} is in use by another grading run on this machine (lock {path}); "
                    "wait for it to finish, or give this run another range with --uid-base"
                ) from None
        yield
    finally:
        for handle in handles:
            handle.close()


def free_uid_base(slots: int, start: int = DEFAULT_UID_BASE, tries: int = 64) -> int:
    """The first ``slots``-wide range of grading uids from ``start`` that no account owns and no run holds."""
    for base in range(start, start + tries * 16, 16):
        try:
            check_uid_range(base, slots)
            with claim_uids(base, slots):
                return base
        except (ValueError, RuntimeError):
            continue
    raise RuntimeError(f"no free range of {slots} grading uids from {start}; pass --uid-base")


def make_readable(folder: Path) -> None:
    """Directories 0755 and files 0644: the sandbox reads them as another uid and writes none of them."""
    os.chmod(folder, 0o755)
    for parent, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(parent, name), 0o755)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o644)
