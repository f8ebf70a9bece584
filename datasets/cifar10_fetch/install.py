"""Putting a new copy in place: the lock, the atomic swap, and the clean-up after interrupted runs.

The swap is two renames in the destination's folder (old copy aside, new copy in); Ctrl-C and SIGTERM
are held back between them, so at every moment either the old or the new copy is at the destination.
Only a power cut between the renames could leave the old copy aside: the next run puts it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import uuid
from pathlib import Path
from typing import Callable

from .check_copy import check_copy
from .errors import Busy, disk_errors
from .layout import EXTRACT_PREFIX, LOCK_NAME, OLD_COPY_PREFIX

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


@contextlib.contextmanager
def exclusive_lock(workdir: Path):
    """Hold ``workdir/.cifar10-lock`` for the block; raise ``Busy`` when another run holds it.

    The operating system releases the lock when a process dies, so a killed run never blocks later ones.
    """
    path = workdir / LOCK_NAME
    with disk_errors("creating", path):
        handle = open(path, "a+")
    try:
        try:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            raise Busy(
                f"Another run of the fetch command is working in {workdir} (it holds {path}).\n"
                "What to do: wait for it to finish, then run this command again."
            ) from None
        yield
    finally:
        handle.close()


@contextlib.contextmanager
def interrupts_deferred():
    """Hold back SIGINT (Ctrl-C) and SIGTERM inside the block; raise KeyboardInterrupt after it if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {number: signal.signal(number, lambda number, frame: received.append(number)) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise KeyboardInterrupt


def fsync_folder(folder: Path) -> None:
    """Make the names in ``folder`` durable (POSIX); Windows cannot open folders and needs no such step."""
    if os.name == "posix":
        descriptor = os.open(str(folder), os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def swap_into_place(new_copy: Path, target: Path, say: Callable[[str], None]) -> None:
    """Move ``new_copy`` to ``target`` (same folder), replacing the folder there if any.

    The replaced folder is renamed aside first and deleted only once the new copy is in place.
    """
    workdir = target.parent
    aside = None
    with disk_errors("renaming into", target), interrupts_deferred():
        if os.path.lexists(target):
            aside = workdir / f"{OLD_COPY_PREFIX}{uuid.uuid4().hex[:12]}"
            os.replace(target, aside)
        try:
            os.replace(new_copy, target)
        except BaseException:
            if aside is not None:
                os.replace(aside, target)
            raise
        fsync_folder(workdir)
    if aside is not None:
        try:
            shutil.rmtree(aside)
        except OSError as exc:
            say(f"Note: could not remove the previous copy {aside} ({exc.strerror}); delete it by hand.")


def recover_and_clean(target: Path, say: Callable[[str], None]) -> None:
    """Undo what an interrupted run may have left beside ``target``; call with the lock held.

    A previous copy left aside (the run died between the two renames) is put back when ``target`` is
    missing and the copy checks out; leftover temporary folders are removed.
    """
    workdir = target.parent
    if not os.path.lexists(target):
        aside = sorted(workdir.glob(OLD_COPY_PREFIX + "*"), key=lambda path: path.stat().st_mtime, reverse=True)
        for candidate in aside:
            if candidate.is_dir() and check_copy(candidate).ok:
                with disk_errors("restoring", target):
                    os.replace(candidate, target)
                say(f"Restored the previous copy of CIFAR-10 that an interrupted run had left in {candidate}.")
                break
    leftovers = [
        path
        for pattern in (EXTRACT_PREFIX + "*", OLD_COPY_PREFIX + "*")
        for path in workdir.glob(pattern)
        if path.is_dir()
    ]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    if leftovers:
        say(f"Removed {len(leftovers)} temporary folder(s) left in {workdir} by an interrupted run.")
