"""Start bubblewrap for the grader: what bubblewrap cannot do for itself when started unprivileged.

Usage (by :mod:`instructor.grade.sandbox`, never by hand; as root inside
``unshare --mount --propagation private``, so the mounts below are seen by this process tree only)::

    python -I launch.py SPEC_JSON

In order, each step only when the spec asks for it:

1. join the run's control groups (before anything is forked, so every later process counts against them);
2. bind each read-only input at ``stage/N`` on a fresh tmpfs: the unprivileged user that runs bubblewrap
   may not be able to traverse the folders above an input (a Python installed in root's home, a 0700
   temporary folder), and bubblewrap resolves its sources as that user;
3. become the subreaper of everything below: bubblewrap's monitor exits as soon as it knows the exit code,
   before its PID namespace has been reaped, and orphans otherwise wait for the machine's init to reap them
   (seconds on some machines, during which they still count against the grading uid); this process waits
   until every one of them is gone, so the grader knows the run is over when this process is;
4. fork; the child sets the resource limits (every process of the sandbox inherits them), drops to the
   grading uid (no supplementary groups) and execs bubblewrap, which builds the sandbox from nothing but what
   the grader listed. SIGTERM to this process kills bubblewrap, and with it the sandbox.

Standard library only; it runs before, and outside, anything the submission controls.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36
LIMITS = {
    "as_bytes": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "cpu_seconds": resource.RLIMIT_CPU,
    "fsize_bytes": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core_bytes": resource.RLIMIT_CORE,
}


def _mount(*args):
    subprocess.run(["mount", *args], check=True, stdin=subprocess.DEVNULL)


def main():
    spec = json.loads(sys.argv[1])
    for procs in spec.get("cgroup_procs", []):
        with open(procs, "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))
    stage = spec.get("stage")
    if stage:
        _mount("-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", stage["dir"])
        for index, source in enumerate(stage["sources"]):
            target = os.path.join(stage["dir"], str(index))
            os.mkdir(target, 0o755)
            _mount("--bind", source, target)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = os.fork()
    if child == 0:
        _become_sandbox(spec)
    # The pipes to the grader are the sandbox's: this process keeps none of them open.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGTERM, lambda *_: _kill(child))
    code = 125
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            code = code if code >= 0 else 128 - code
    sys.exit(code)


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _become_sandbox(spec):
    try:
        for name, value in spec.get("limits", {}).items():
            if value is not None:
                resource.setrlimit(LIMITS[name], (int(value), int(value)))
        if spec.get("uid") is not None:
            os.setgroups([])
            os.setgid(spec["uid"])
            os.setuid(spec["uid"])
        os.execv(spec["argv"][0], spec["argv"])
    except BaseException as error:  # say why the sandbox could not start, then die
        print(f"launch: cannot start {spec['argv'][0]}: {error}", file=sys.stderr, flush=True)
        os._exit(125)


if __name__ == "__main__":
    main()
