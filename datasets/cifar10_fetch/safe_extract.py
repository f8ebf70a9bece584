"""Unpack the verified archive into a temporary folder beside the destination, safely.

Only plain files directly under ``cifar-10-batches-py/`` are written, through our own code (never
``TarFile.extract``): absolute names, ``..``, links, devices and duplicate names make the whole archive
refused. Each file is hashed while it is written, which gives the manifest without a second pass. On any
failure, and on Ctrl-C, the temporary folder is removed and the destination is never touched.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Dict, Iterator, Tuple

from .errors import DIR_HINT, NoSpace, UnsafeArchive, UnsupportedArchive, disk_errors
from .layout import (
    EXTRACT_PREFIX,
    FOLDER_NAME,
    MAX_UNPACKED_BYTES,
    REQUIRED_FILES,
    TEMP_PREFIX,
    UNPACKED_TO_ARCHIVE_RATIO,
)
from .install import fsync_folder
from .manifest import build_manifest, write_manifest
from .progress import human_bytes, make_progress

BLOCK_BYTES = 1 << 20
# Errors a damaged or foreign compressed stream raises while it is read (gzip.BadGzipFile is an OSError).
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError)
_LAYOUT_HINT = (
    "Expected a .tar.gz laid out like the canonical cifar-10-python.tar.gz: plain files data_batch_1..5, "
    "test_batch, batches.meta and readme.html under a top folder cifar-10-batches-py/."
)


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
                    progress.update_to(raw.tell())
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
    quiet : bool
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

