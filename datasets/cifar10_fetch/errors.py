"""Exceptions whose messages are shown to the user as they are: what went wrong, what was expected, what to do.

``translate_os_error`` turns the disk errors students meet (disk full, permission denied, read-only file
system) into those exceptions; network errors are classified in ``download``.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from pathlib import Path

MIRROR_HINT = (
    "To use a mirror or a copy you already have, set CIFAR10_URL (several URLs may be given, separated by "
    "spaces, tried in order) and its checksum, e.g.\n"
    "  CIFAR10_URL=file:///path/to/cifar-10-python.tar.gz CIFAR10_MD5=<md5 of that file> "
    "bash datasets/get_datasets.sh"
)
DIR_HINT = "set CIFAR10_DIR=/some/writable/place/cifar-10-batches-py (the loader reads the same variable)"


class FetchError(Exception):
    """A failure explained to the user; ``exit_code`` is the process exit status."""

    exit_code = 1


class UsageError(FetchError):
    """Bad option or environment variable."""

    exit_code = 2


class SourceFailed(FetchError):
    """One source (URL or file) cannot deliver the archive, and retrying it will not help."""


class TransientFailure(SourceFailed):
    """One attempt on a source failed in a way a retry may fix (dropped connection, timeout, HTTP 503)."""


class VerificationFailed(FetchError):
    """The archive's size or checksum is not the expected one."""


class UnsafeArchive(FetchError):
    """A member would land outside the destination, or is a link or a device."""


class UnsupportedArchive(FetchError):
    """The file is not a tar archive laid out like CIFAR-10's."""


class NoSpace(FetchError):
    """The disk (or a file-size limit) refused to store the data."""


class PermissionDenied(FetchError):
    """The destination or the download folder cannot be written."""


class Busy(FetchError):
    """Another run of the fetch command holds the lock on the destination's folder."""


def free_space_note(path: Path) -> str:
    """``'N MB free in DIR'`` for the nearest existing ancestor of ``path``, or ``''`` if it cannot be read."""
    probe = Path(path)
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(str(probe)).free
    except OSError:
        return ""
    return f"{free / 1e6:,.1f} MB free in {probe}"


def translate_os_error(exc: OSError, action: str, path: Path) -> Exception:
    """Map a disk ``OSError`` raised while ``action`` (e.g. ``'writing'``) on ``path`` to a ``FetchError``.

    Returns the exception to raise (the caller raises it ``from exc``); errors without a clearer
    explanation come back as a ``FetchError`` that still names the action, the path and the OS message.
    """
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        note = free_space_note(path)
        return NoSpace(
            f"No room to store the data: {action} {path} failed ({reason}"
            + (f"; {note}" if note else "")
            + ").\nCIFAR-10 needs about 350 MB while it is fetched (170 MB archive + 180 MB unpacked, and 180 MB "
            "more while an old copy is replaced), 180 MB afterwards.\nWhat to do: free some space, or " + DIR_HINT + "."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PermissionDenied(
            f"Permission denied: {action} {path} failed ({reason}).\n"
            f"What to do: fix the permissions of {Path(path).parent}, or {DIR_HINT}."
        )
    return FetchError(f"{action} {path} failed: {reason}.")


@contextlib.contextmanager
def disk_errors(action: str, path: Path):
    """Re-raise disk ``OSError`` inside the block as the matching ``FetchError`` (see ``translate_os_error``)."""
    try:
        yield
    except OSError as exc:
        raise translate_os_error(exc, action, path) from exc
