"""Putting a verified archive in place: safe unpacking, the atomic swap, the lock, the clean-up.

Unpacking writes only plain files directly under ``cifar-10-batches-py/``, through our own code (never
``TarFile.extract``): absolute names, ``..``, links, devices and duplicate names make the whole archive
refused. Each file is hashed while it is written, which gives the manifest without a second pass. The
files land in a temporary folder beside the destination; on any failure, and on Ctrl-C, it is removed.

The swap is two renames in the destination's folder (old copy aside, new copy in); Ctrl-C and SIGTERM
are held back between them, so at every moment either the old or the new copy is at the destination.
Only a power cut between the renames could leave the old copy aside: the next run puts it back.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import shutil
import signal
import tarfile
import tempfile
import threading
import uuid
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, Tuple

from . import (
    DIR_HINT,
    EXTRACT_PREFIX,
    FOLDER_NAME,
    LOCK_NAME,
    OLD_COPY_PREFIX,
    REQUIRED_FILES,
    TEMP_PREFIX,
    UNPACKED_TO_ARCHIVE_RATIO,
    FetchError,
    NoSpace,
    PermissionDenied,
    disk_errors,
    human_bytes,
    make_progress,
)
from .verify import build_manifest, check_copy, write_manifest

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# CIFAR-10 unpacks to about 180 MB; anything that unpacks to more is not this data set (or a gzip bomb).
MAX_UNPACKED_BYTES = 1 << 30
BLOCK_BYTES = 1 << 20
# Errors a damaged or foreign compressed stream raises while it is read (gzip.BadGzipFile is an OSError).
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError)
_LAYOUT_HINT = (
    "Expected a .tar.gz laid out like the canonical cifar-10-python.tar.gz: plain files data_batch_1..5, "
    "test_batch, batches.meta and readme.html under a top folder cifar-10-batches-py/."
)


class UnsafeArchive(FetchError):
    """A member would land outside the destination, or is a link or a device."""


class UnsupportedArchive(FetchError):
    """The file is not a tar archive laid out like CIFAR-10's."""


class Busy(FetchError):
    """Another run of the fetch command holds the lock on the destination's folder."""


def _unsafe(archive: Path, name: str, why: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"Refusing to unpack {archive}: member {name!r} {why}. A CIFAR-10 archive holds only plain files "
        "under cifar-10-batches-py/; this one is damaged or was built to write elsewhere. Nothing was "
        "unpacked and the destination is untouched.\nWhat to do: get the archive from another source "
        "(CIFAR10_URL)."
    )


def _unsupported(archive: Path, what: str) -> UnsupportedArchive:
    return UnsupportedArchive(f"Unsupported archive {archive}: {what}.\n{_LAYOUT_HINT}")


def member_parts(archive: Path, name: str) -> Tuple[str, ...]:
    """Path components of a member name, refusing names that could leave the destination folder.

    ``'cifar-10-batches-py/./data_batch_1'`` -> ``('cifar-10-batches-py', 'data_batch_1')``.
    """
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise _unsafe(archive, name, "has an absolute path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise _unsafe(archive, name, "climbs out of the destination with '..'")
    if any("\\" in part or ":" in part for part in parts):
        raise _unsafe(archive, name, "contains '\\' or ':', which Windows reads as a path separator or stream")
    return parts


def _members(tar: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    iterator = iter(tar)
    while True:
        try:
            member = next(iterator)
        except StopIteration:
            return
        except _READ_ERRORS as exc:
            raise _unsupported(archive, f"it is damaged ({exc.__class__.__name__}: {exc})") from exc
        yield member


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, archive: Path) -> Tuple[int, str]:
    """Write one regular member to ``dest`` (which must not exist); return (size in bytes, sha256 hex)."""
    source = tar.extractfile(member)
    hasher = hashlib.sha256()
    size = 0
    with disk_errors("writing", dest), open(dest, "xb") as out:
        while True:
            try:
                block = source.read(BLOCK_BYTES)
            except _READ_ERRORS as exc:
                raise _unsupported(archive, f"it is damaged inside {member.name} ({exc})") from exc
            if not block:
                break
            out.write(block)
            hasher.update(block)
            size += len(block)
        out.flush()
        # The folder is renamed into place next: its files must be on disk first, or a crash right after
        # the rename could leave a "complete" folder with empty files.
        os.fsync(out.fileno())
    if size != member.size:
        raise _unsupported(archive, f"{member.name} ends after {size:,} of its {member.size:,} bytes")
    return size, hasher.hexdigest()


def _unpack_members(archive: Path, root: Path, quiet: bool) -> Dict[str, Tuple[int, str]]:
    files: Dict[str, Tuple[int, str]] = {}
    unpacked = 0
    with disk_errors("reading", archive):
        raw = open(archive, "rb")
    with raw:
        try:
            tar = tarfile.open(fileobj=raw, mode="r:*")
        except _READ_ERRORS as exc:
            raise _unsupported(archive, f"it is not a tar archive Python can read ({exc})") from exc
        progress = make_progress(archive.stat().st_size, "unpack", quiet=quiet)
        shown = 0
        try:
            with tar:
                for member in _members(tar, archive):
                    parts = member_parts(archive, member.name)
                    if not (member.isreg() or member.isdir()):
                        kind = "a link" if (member.issym() or member.islnk()) else "a device or special file"
                        raise _unsafe(archive, member.name, f"is {kind}")
                    if not parts:
                        continue
                    if parts[0] != FOLDER_NAME:
                        raise _unsupported(archive, f"member {member.name!r} is not under {FOLDER_NAME}/")
                    if member.isdir():
                        if len(parts) > 1:
                            raise _unsupported(archive, f"it holds a sub-folder {member.name!r}")
                        root.mkdir(exist_ok=True)
                        continue
                    if len(parts) != 2:
                        raise _unsupported(archive, f"member {member.name!r} is in a sub-folder")
                    name = parts[1]
                    if name in files:
                        raise _unsafe(archive, member.name, "appears twice (a later copy would overwrite the first)")
                    if name.startswith(TEMP_PREFIX):
                        raise _unsupported(archive, f"member {member.name!r} uses a name this tool reserves")
                    unpacked += member.size
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise _unsupported(
                            archive, f"it unpacks to more than {human_bytes(MAX_UNPACKED_BYTES)}; CIFAR-10 is 180 MB"
                        )
                    with disk_errors("creating", root):
                        root.mkdir(exist_ok=True)
                    files[name] = _copy_member(tar, member, root / name, archive)
                    # The bar counts compressed bytes read, so it ends at the archive's size.
                    progress.update(raw.tell() - shown)
                    shown = raw.tell()
        finally:
            progress.close()
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        raise _unsupported(archive, f"it has no {', '.join(FOLDER_NAME + '/' + name for name in missing)}")
    return files


def unpack(archive: Path, workdir: Path, source: dict, quiet: bool = True) -> Path:
    """Unpack ``archive`` into a new temporary folder inside ``workdir`` and write the manifest.

    Parameters
    ----------
    archive : Path
        A verified ``.tar.gz`` (any compression ``tarfile`` reads is accepted).
    workdir : Path
        The destination's parent folder; the temporary folder ``.cifar10-extract-*`` is made there so
        that the final rename stays on one file system (and so is atomic).
    source : dict
        Where the archive came from (URL, size, checksums), recorded in the manifest.
    quiet : bool, default True
        No progress bar.

    Returns
    -------
    Path
        ``workdir/.cifar10-extract-XXXX/cifar-10-batches-py``, complete, with its manifest.

    Raises
    ------
    UnsafeArchive, UnsupportedArchive, NoSpace, PermissionDenied
        Nothing is left behind in these cases, nor on KeyboardInterrupt.
    """
    need = int(archive.stat().st_size * UNPACKED_TO_ARCHIVE_RATIO)
    free = shutil.disk_usage(str(workdir)).free
    if free < need:
        raise NoSpace(
            f"Not enough free space in {workdir} to unpack CIFAR-10: about {human_bytes(need)} is needed, "
            f"{human_bytes(free)} is free.\nWhat to do: free some space, or {DIR_HINT}."
        )
    with disk_errors("creating a temporary folder in", workdir):
        scratch = Path(tempfile.mkdtemp(prefix=EXTRACT_PREFIX, dir=str(workdir)))
    try:
        root = scratch / FOLDER_NAME
        files = _unpack_members(archive, root, quiet)
        write_manifest(root, build_manifest(files, source))
        fsync_folder(root)
        return root
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


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


def _rename_into_place(new_copy: Path, target: Path) -> Optional[Path]:
    """The swap's two renames (old copy aside, new copy in), made durable; returns where the old copy went."""
    aside = None
    if os.path.lexists(target):
        aside = target.parent / f"{OLD_COPY_PREFIX}{uuid.uuid4().hex[:12]}"
        os.replace(target, aside)
    try:
        os.replace(new_copy, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    fsync_folder(target.parent)
    return aside


def swap_into_place(new_copy: Path, target: Path, say: Callable[[str], None]) -> None:
    """Move ``new_copy`` to ``target`` (same folder), replacing the folder there if any.

    The replaced folder is renamed aside first and deleted only once the new copy is in place; Ctrl-C and
    SIGTERM wait until both renames are done.
    """
    with disk_errors("renaming into", target), interrupts_deferred():
        aside = _rename_into_place(new_copy, target)
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


def tidy(target: Path, say: Callable[[str], None]) -> None:
    """Remove what an interrupted run left beside a good copy, when there is any and the lock is free."""
    workdir = target.parent
    if not any(path for prefix in (EXTRACT_PREFIX, OLD_COPY_PREFIX) for path in workdir.glob(prefix + "*")):
        return
    try:
        with exclusive_lock(workdir):
            recover_and_clean(target, say)
    except (Busy, PermissionDenied):
        pass  # Another run is busy there, or the folder is read-only: the leftovers wait for a later run.
