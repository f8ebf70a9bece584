"""One control group per sandboxed run: memory and process caps that hold for the whole submission.

Resource limits (``setrlimit``) count per process: four children could each hold the address-space cap.
A control group counts every process of the run together, and its memory count includes what they keep
in the sandbox's tmpfs. The kernel's own cgroup v2 (one ``memory`` + ``pids`` hierarchy) and v1 (one
hierarchy per controller) are both supported; creating groups needs root (or a delegated subtree), so an
ordinary user grades with rlimits only, and the grader says which caps held.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_PREFIX = "cs231n-grading"


@dataclasses.dataclass
class Group:
    """A control group created for one run: its folders (one per v1 controller, or the one v2 folder)."""

    version: int
    folders: list[Path]

    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` files a process writes its pid to, to join the group."""
        return [folder / "cgroup.procs" for folder in self.folders]

    def pids(self) -> set[int]:
        found = set()
        for path in self.procs_files():
            try:
                found.update(int(line) for line in path.read_text().split())
            except (OSError, ValueError):
                continue
        return found

    def peak_memory(self) -> int | None:
        """Most memory the group held at once, in bytes (None when the kernel does not say)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        for folder in self.folders:
            path = folder / name
            if path.is_file():
                try:
                    return int(path.read_text().strip())
                except (OSError, ValueError):
                    return None
        return None

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process the group ever held, exited ones included (None if not counted)."""
        for folder in self.folders:
            try:
                if self.version == 2:
                    for line in (folder / "cpu.stat").read_text().splitlines():
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
                elif (folder / "cpuacct.usage").is_file():
                    return int((folder / "cpuacct.usage").read_text()) / 1e9
            except (OSError, ValueError):
                return None
        return None

    def out_of_memory_kills(self) -> int:
        """How many processes the kernel killed for the group's memory cap."""
        for folder in self.folders:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    text = (folder / name).read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def kill_and_remove(self, timeout: float = 20.0) -> None:
        """SIGKILL every process left in the group, wait until it is empty, then remove it."""
        deadline = time.monotonic() + timeout
        kill_file = self.folders[0] / "cgroup.kill" if self.version == 2 else None
        while True:
            pids = self.pids()
            if not pids:
                break
            if kill_file is not None and kill_file.exists():
                kill_file.write_text("1")
            else:
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        # A group whose last process has just exited can stay busy for a moment.
        for folder in self.folders:
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break  # still busy: an empty group costs nothing but a folder
                    time.sleep(0.02)


def detect() -> tuple[int, list[Path]] | None:
    """``(version, [parent folders])`` where this process can create capped groups, else None."""
    if os.geteuid() != 0:
        return None
    unified = CGROUP_ROOT / "cgroup.controllers"
    if unified.is_file() and {"memory", "pids"} <= set(unified.read_text().split()):
        return 2, [CGROUP_ROOT / GROUP_PREFIX]
    v1 = [CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"]
    if all((folder / "cgroup.procs").is_file() for folder in v1):
        # cpuacct counts the group's CPU time, which the grader uses to time student code.
        accounting = [folder for folder in (CGROUP_ROOT / "cpuacct", CGROUP_ROOT / "cpu,cpuacct")
                      if (folder / "cgroup.procs").is_file()][:1]
        return 1, [folder / GROUP_PREFIX for folder in v1 + accounting]
    return None


def run_folder_name(pid: int | None = None) -> str:
    """The folder that holds the groups of one grading process (``run-<pid>``), under each parent.

    Grouping each process's groups apart lets it, and its tests, check its own and nothing else, and lets a
    later run remove what a process killed mid-run (a Dask worker, say) could not.
    """
    return f"run-{os.getpid() if pid is None else pid}"


def run_folders(pid: int | None = None) -> list[Path]:
    """This process's (or ``pid``'s) group folders, one per controller; empty where no group can be made."""
    found = detect()
    return [parent / run_folder_name(pid) for parent in found[1]] if found else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(parent: Path) -> None:
    """Remove the groups left under ``parent`` by grading processes that are gone, where they are empty."""
    for folder in parent.glob("run-*"):
        pid = folder.name[len("run-"):]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        for group in [g for g in folder.iterdir() if g.is_dir()] + [folder]:
            try:
                group.rmdir()  # refused while a process is still in it: left for a later sweep
            except OSError:
                continue


def create(memory_bytes: int, processes: int) -> Group | None:
    """A new group capped at ``memory_bytes`` (no swap) and ``processes``; None where none can be made."""
    found = detect()
    if found is None:
        return None
    version, parents = found
    name = uuid.uuid4().hex[:16]
    folders = []
    try:
        for parent in parents:
            for level in (parent, parent / run_folder_name()):
                level.mkdir(exist_ok=True)
                if version == 2:
                    # A v2 group hands controllers to its children only when asked to.
                    (level / "cgroup.subtree_control").write_text("+memory +pids")
            sweep_stale(parent)
            folder = parent / run_folder_name() / name
            folder.mkdir()
            folders.append(folder)
        group = Group(version, folders)
        if version == 2:
            (folders[0] / "memory.max").write_text(str(memory_bytes))
            swap = folders[0] / "memory.swap.max"
            if swap.exists():
                swap.write_text("0")
            (folders[0] / "pids.max").write_text(str(processes))
        else:
            memory, pids = folders[:2]
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            swap = memory / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(processes))
        return group
    except OSError:
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:
                pass
        return None
