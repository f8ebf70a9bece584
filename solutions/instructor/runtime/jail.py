"""Run one command confined: hidden instructor paths, no network, resource limits, an unprivileged user.

Usage (by :mod:`solutions.instructor.isolation`, never by hand)::

    unshare --mount --net --pid --fork --kill-child --mount-proc python -I jail.py SPEC.json

The spec (JSON) names ``argv``, ``env``, ``cwd``, the folder the command may see (``visible``), the paths
to hide (``hide``), paths under them to bind back read-only (``expose``, e.g. a Python installed in root's
home), ``uid``/``gid`` to drop to (when started as root), ``limits`` for ``setrlimit`` and
``namespaces`` (whether this process runs inside fresh mount/net/pid namespaces).

Inside the namespaces this process is PID 1: it mounts an empty tmpfs over each hidden path, binds the
visible folder back at its own path, brings up the loopback interface (Jupyter kernels talk to the grader
over 127.0.0.1), then forks the command with the limits and the unprivileged user and reaps every orphan.
When the command exits, this process exits and the kernel kills whatever the command left behind (forked
children, a detached kernel, a fork bomb), because the PID namespace ends with its first process.

This file is copied next to the work it confines and runs with the standard library only: the instructor
package itself is hidden from the command.
"""

import ctypes
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
LIMITS = {
    "as_bytes": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "cpu_seconds": resource.RLIMIT_CPU,
    "fsize_bytes": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core_bytes": resource.RLIMIT_CORE,
}

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data):
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target} failed: {os.strerror(error)}")


def _hide(path):
    """Mount an empty, root-owned, read-only-for-others tmpfs (or /dev/null for a file) over ``path``."""
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    elif os.path.exists(path):
        _mount("/dev/null", path, None, MS_BIND, None)


def _loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _confine_filesystem(spec):
    """Hide ``spec["hide"]``, then bind back the visible folder (read-write) and ``spec["expose"]`` (read-only).

    Paths to bind back are opened before the masks go up, so they stay reachable through their handles.
    """
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    keep = [(spec["visible"], False)] + [(path, True) for path in spec.get("expose", [])]
    handles = [(path, read_only, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path, read_only in keep]
    for path in spec["hide"]:
        _hide(path)
    for path, read_only, handle in handles:
        if any(_under(path, hidden) for hidden in spec["hide"]):
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC, None)
            if read_only:
                _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, None)
        os.close(handle)


def _lock_mounts():
    """In a user namespace the command keeps capabilities over its mounts and could unmount the masks.

    A second user+mount namespace, owned by a less privileged user namespace, makes the masks permanent
    (the kernel locks mounts inherited across that boundary).
    """
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"could not lock the mounts: {os.strerror(error)}")


def _child(spec):
    for name, value in spec.get("limits", {}).items():
        if value is not None:
            resource.setrlimit(LIMITS[name], (int(value), int(value)))
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
    os.chdir(spec["cwd"])
    os.umask(0o022)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    if spec["namespaces"]:
        _confine_filesystem(spec)
        _loopback_up()
        if spec.get("lock_mounts"):
            _lock_mounts()
    else:
        os.setsid()  # without a PID namespace the grader kills the whole process group instead
    child = os.fork()
    if child == 0:
        try:
            _child(spec)
        except BaseException as error:  # report why the command could not start, then die
            print(f"jail: cannot start {spec['argv'][0]}: {error}", file=sys.stderr)
            os._exit(125)
    # Forward polite termination to the command; everything else dies with this process.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGKILL))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            sys.exit(125)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
