"""Run untrusted student code confined: own process tree, limits, no network, instructor files hidden.

Three levels, chosen once per run by :func:`detect_mode` and reported by the autograder:

``root``
    The grader runs as root and ``unshare`` works: fresh mount, network and PID namespaces; instructor
    paths are covered by empty tmpfs mounts; the command runs as a per-slot unprivileged uid (so
    ``RLIMIT_NPROC`` caps a fork bomb; root would be exempt) and cannot undo the mounts.
``user``
    An ordinary user with unprivileged user namespaces (most Linux distributions): the same namespaces
    inside a user namespace, the masks locked by a second user namespace, ``RLIMIT_NPROC`` set to the
    user's current process count plus the budget.
``none``
    Neither works (e.g. a container without namespaces): process group, resource limits and a fresh
    copy only; a ``sitecustomize`` refuses non-loopback connections, which code that wants to can undo,
    and the instructor files stay readable. The autograder prints a warning in this mode.

Whatever the level, a command that runs over its wall-clock budget is killed with everything it started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JAIL = Path(__file__).with_name("runtime") / "jail.py"
NAMESPACE_FLAGS = ["--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
DEFAULT_UID_BASE = 62000

# Refuses connections to anything but loopback; only used when no network namespace is available.
SOCKET_GUARD = '''"""Refuse network connections except to loopback (grading fallback without network namespaces)."""
import ipaddress
import socket

_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise PermissionError("network access is disabled while grading")
    return _connect(self, address)


socket.socket.connect = _guarded_connect
'''


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-process resource limits (``None`` leaves a limit as it is).

    Attributes
    ----------
    memory_bytes : int
        Address-space cap of every process (RLIMIT_AS); a larger allocation raises ``MemoryError``.
    processes : int
        Processes and threads of the confined user (RLIMIT_NPROC).
    cpu_seconds : int
        CPU time of each process (RLIMIT_CPU).
    file_bytes : int
        Largest file a process may write (RLIMIT_FSIZE).
    """

    memory_bytes: int | None = 4 << 30
    processes: int | None = 256
    cpu_seconds: int | None = 3600
    file_bytes: int | None = 256 << 20


@dataclasses.dataclass
class Outcome:
    """How a confined command ended: exit code (``None`` when killed on timeout) and wall time."""

    returncode: int | None
    timed_out: bool
    seconds: float


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.lru_cache(maxsize=1)
def detect_mode() -> str:
    """Return ``"root"``, ``"user"`` or ``"none"``: the strongest confinement this machine allows."""
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        return "none"
    probe = [sys.executable, "-I", "-c", "pass"]
    if os.geteuid() == 0 and _works([unshare, *NAMESPACE_FLAGS, *probe]):
        return "root"
    if _works([unshare, "--user", "--map-root-user", *NAMESPACE_FLAGS, *probe]):
        return "user"
    return "none"


def check_uid_range(uid_base: int, slots: int) -> None:
    """Refuse uids that belong to accounts on this machine: confined code must own nothing."""
    taken = []
    for uid in range(uid_base, uid_base + slots):
        try:
            taken.append(f"{uid} ({pwd.getpwuid(uid).pw_name})")
        except KeyError:
            continue
    if taken:
        raise ValueError(
            f"the grading uids {', '.join(taken)} belong to existing accounts; "
            "choose a free range with --uid-base"
        )


def uid_lock_path(uid: int) -> Path:
    """The lock file that marks ``uid`` as taken by a running grader on this machine."""
    return Path(tempfile.gettempdir()) / f"cs231n-grading-uid-{uid}.lock"


@contextlib.contextmanager
def claim_uids(uid_base: int, slots: int):
    """Hold the grading uids ``uid_base .. uid_base + slots - 1`` for this process, or refuse at once.

    A grader kills every process of a slot's uid when a submission ends, so two graders sharing a uid
    would kill each other's student code mid-run. Each uid is claimed with an exclusive ``flock`` on a
    file in the temporary folder; the kernel releases it when this process ends, however it ends.

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
            handle.close()  # closing releases the lock


def _user_process_count() -> int:
    uid = os.getuid()
    return sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit() and _owner(entry) == uid)


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (used where no PID namespace contains them)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def uid_processes(uid: int) -> list[int]:
    """PIDs of the processes owned by ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _owner(entry) == uid:
            found.append(int(entry.name))
    return found


def _wait_until_gone(uid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while uid_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if uid_processes(uid):
        _kill_uid(uid)  # still there: something escaped the namespace; kill it by uid


def blocking_ancestors(path: Path) -> list[Path]:
    """Ancestors of ``path`` that other users cannot traverse (e.g. a 0700 home or pytest folder)."""
    blocked = []
    for ancestor in reversed(Path(path).resolve().parents):
        try:
            if not ancestor.stat().st_mode & 0o001:
                blocked.append(ancestor)
        except OSError:
            continue
    return blocked


def prepare_tree(path: Path, uid: int | None) -> None:
    """Give the confined uid its working tree (as root); an ordinary user keeps owning it."""
    if uid is None or os.geteuid() != 0:
        return
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def run_confined(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    visible: Path,
    hide: list[Path],
    expose: list[Path] = (),
    limits: Limits,
    timeout: float,
    log_path: Path,
    uid: int | None,
    mode: str | None = None,
    poll=None,
) -> Outcome:
    """Run ``argv`` confined and wait at most ``timeout`` seconds of wall time.

    Parameters
    ----------
    argv : list of str
        The command; ``argv[0]`` must be an absolute path.
    env : dict
        Its complete environment (nothing is inherited).
    cwd, visible : Path
        Working folder, and the folder (containing it) that stays visible under the hidden paths.
    hide : list of Path
        Paths covered by empty mounts (instructor course, git history, other submissions).
    expose : list of Path
        Folders under hidden paths to bind back read-only (the Python installation, the data).
    limits : Limits
        Resource limits of every process the command starts.
    timeout : float
        Wall-clock budget in seconds; then the command and everything it started are killed.
    log_path : Path
        Receives the command's stdout and stderr.
    uid : int or None
        Unprivileged uid to run as (root mode); ``None`` keeps the current user.
    mode : str, optional
        Confinement level (default: :func:`detect_mode`).
    poll : callable, optional
        Called about five times a second while the command runs; returning True kills it (a watchdog
        for budgets finer than ``timeout``).
    """
    mode = mode or detect_mode()
    if not Path(argv[0]).is_absolute():
        raise ValueError(f"argv[0] must be an absolute path, got {argv[0]!r}")
    process_limit = limits.processes
    if mode != "root" and process_limit is not None:
        process_limit += _user_process_count()  # RLIMIT_NPROC counts all of this user's processes
    env = dict(env)
    hide, expose = list(hide), list(expose)
    if os.geteuid() == 0 and mode == "root":
        # The unprivileged uid must reach its folder and the read-only inputs: cover any ancestor it
        # cannot traverse with a world-traversable tmpfs and bind the needed folders back.
        for path in [Path(visible), *expose]:
            hide.extend(a for a in blocking_ancestors(path) if a not in hide)
    if mode == "none":
        guard_dir = Path(visible) / ".socket-guard"
        guard_dir.mkdir(exist_ok=True)
        (guard_dir / "sitecustomize.py").write_text(SOCKET_GUARD, encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard_dir), env.get("PYTHONPATH", "")]))
    spec = {
        "argv": list(argv),
        "env": env,
        "cwd": str(cwd),
        "visible": str(visible),
        "hide": [str(p) for p in hide if Path(p).exists()],
        "expose": [str(p) for p in expose if Path(p).is_dir()],
        "uid": uid if os.geteuid() == 0 else None,
        "gid": uid if os.geteuid() == 0 else None,
        "namespaces": mode in ("root", "user"),
        "lock_mounts": mode == "user",
        "limits": {
            "as_bytes": limits.memory_bytes,
            "nproc": process_limit,
            "cpu_seconds": limits.cpu_seconds,
            "fsize_bytes": limits.file_bytes,
            "core_bytes": 0,
        },
    }
    prefix = []
    if mode == "root":
        prefix = ["unshare", *NAMESPACE_FLAGS]
    elif mode == "user":
        prefix = ["unshare", "--user", "--map-root-user", *NAMESPACE_FLAGS]
    with tempfile.TemporaryDirectory(prefix="cs231n-jail-") as private:
        spec_path = Path(private) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        command = prefix + [sys.executable, "-I", str(JAIL), str(spec_path)]
        started = time.monotonic()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            deadline = started + timeout
            returncode, timed_out = None, False
            try:
                while returncode is None:
                    try:
                        returncode = process.wait(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
                    except subprocess.TimeoutExpired:
                        if time.monotonic() >= deadline:
                            timed_out = True
                            break
                        if poll is not None and poll():
                            break
            finally:
                # With namespaces the group holds `unshare`, whose death takes the PID namespace down;
                # without them the group is all we can reach.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
                if uid is not None and os.geteuid() == 0:
                    if mode == "none":
                        _kill_uid(uid)
                    # A dying PID namespace takes a moment to reap its processes; they still count against
                    # the uid's process limit, so the slot is free only once they are gone.
                    _wait_until_gone(uid)
    return Outcome(returncode=returncode, timed_out=timed_out, seconds=time.monotonic() - started)


def interpreter_paths() -> list[Path]:
    """Folders the confined Python needs: its installation and the virtual environment."""
    return sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()})


def private_homes() -> list[Path]:
    """Home folders of the grading account (credentials, shell history): always hidden from student code."""
    homes = {Path.home()}
    if os.environ.get("HOME"):
        homes.add(Path(os.environ["HOME"]))
    return sorted(p.resolve() for p in homes if p.is_dir() and p.resolve() != Path("/"))
