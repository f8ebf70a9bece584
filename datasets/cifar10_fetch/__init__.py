"""Fetch the python version of CIFAR-10: verified, resumable, mirror-aware and safe to run twice.

Four modules, one job each:

- ``cli``: the options and environment variables, the steps in order, the messages and the exit statuses.
- ``download``: streaming HTTP(S) download into a ``.part`` file with retries, back-off, timeouts and resume.
- ``verify``: the archive's size and checksum before anything is unpacked; the manifest of an unpacked copy
  and the checks that use it.
- ``install``: safe unpacking into a temporary folder, the atomic swap into place, the lock, and the
  clean-up after interrupted runs.

This file holds what all of them share: the names of the archive and of the files written beside the
destination, the base exception and the translation of disk errors, and the progress bar.

Only the standard library is used: students run this before any virtual environment exists.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import sys
import time
from pathlib import Path
from typing import Optional, TextIO

CANONICAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CANONICAL_MD5 = "c58f30108f718f92721af3b95e74349a"
CANONICAL_SIZE = 170_498_071

# The single top folder of the archive; also the default name of the destination.
FOLDER_NAME = "cifar-10-batches-py"
PICKLED_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
                 "batches.meta")
REQUIRED_FILES = PICKLED_FILES + ("readme.html",)

# Every name this tool writes beside the destination matches the project's .gitignore patterns
# `cifar-10-python.tar.gz*` and `.cifar10-*`, so no download state is ever committed by accident.
ARCHIVE_NAME = "cifar-10-python.tar.gz"
PART_NAME = ARCHIVE_NAME + ".part"
TEMP_PREFIX = ".cifar10-"
EXTRACT_PREFIX = TEMP_PREFIX + "extract-"
OLD_COPY_PREFIX = TEMP_PREFIX + "old-"
LOCK_NAME = TEMP_PREFIX + "lock"
MANIFEST_NAME = TEMP_PREFIX + "manifest.json"

# The unpacked canonical archive is about 5% larger than the archive; 1.15 leaves a margin.
UNPACKED_TO_ARCHIVE_RATIO = 1.15

DIR_HINT = "set CIFAR10_DIR=/some/writable/place/cifar-10-batches-py (the loader reads the same variable)"


class FetchError(Exception):
    """A failure explained to the user: what went wrong, what was expected, what to do.

    The message is shown as it is; ``exit_code`` is the process exit status (see ``cli`` for the others).
    """

    exit_code = 1


class SourceFailed(FetchError):
    """One source (URL or file) cannot deliver the archive, and retrying it will not help: try the next one."""


class NoSpace(FetchError):
    """The disk (or a file-size limit) refused to store the data."""


class PermissionDenied(FetchError):
    """The destination or the download folder cannot be written."""


def sidecar(path: Path) -> Path:
    """The JSON file kept beside ``path`` (a partial download's state, or a verified archive's origin)."""
    return path.with_name(path.name + ".json")


def discard(path: Path) -> None:
    """Remove ``path`` and its sidecar (missing files are fine)."""
    for each in (path, sidecar(path)):
        with disk_errors("removing", each):
            if each.exists():
                each.unlink()


def _free_space_note(path: Path) -> str:
    """``'N MB free in DIR'`` for the nearest existing ancestor of ``path``, or ``''`` if it cannot be read."""
    probe = Path(path)
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(str(probe)).free
    except OSError:
        return ""
    return f"{free / 1e6:,.1f} MB free in {probe}"


@contextlib.contextmanager
def disk_errors(action: str, path: Path):
    """Re-raise an ``OSError`` of the block as a ``FetchError`` naming ``action`` (e.g. ``'writing'``) and ``path``.

    Disk full, quota and file-size limits become ``NoSpace``, permission errors and read-only file systems
    ``PermissionDenied``, each with what to do; any other error keeps the operating system's message.
    """
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
            note = _free_space_note(path)
            raise NoSpace(
                f"No room to store the data: {action} {path} failed ({reason}" + (f"; {note}" if note else "")
                + ").\nCIFAR-10 needs about 350 MB while it is fetched (170 MB archive + 180 MB unpacked, and 180 MB "
                "more while an old copy is replaced), 180 MB afterwards.\nWhat to do: free some space, or "
                + DIR_HINT + "."
            ) from exc
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise PermissionDenied(
                f"Permission denied: {action} {path} failed ({reason}).\n"
                f"What to do: fix the permissions of {Path(path).parent}, or {DIR_HINT}."
            ) from exc
        raise FetchError(f"{action} {path} failed: {reason}.") from exc


def human_bytes(count: float) -> str:
    """``1234567`` -> ``'1.2 MB'`` (decimal units, as download sizes are usually quoted)."""
    if abs(count) < 1000:
        return f"{count:.0f} B"
    for unit in ("kB", "MB"):
        count /= 1000
        if round(abs(count), 1) < 1000:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:.1f} GB"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TextProgress:
    """``desc  45.2 MB / 170.5 MB  26%  12.3 MB/s  1:02 left`` on one line of ``stream``, for runs without tqdm.

    Parameters
    ----------
    total : int or None
        Bytes expected; None when unknown (no percentage, no time left).
    desc : str
        Label at the start of the line.
    initial : int, default 0
        Bytes already done (a resumed download); the rate counts only the bytes after them.
    stream : text stream, default sys.stderr
    interval : float, default 0.2
        On a terminal the line is redrawn at most this often (seconds).
    log_interval : float, default 5.0
        Into a log (not a terminal) a new line is written at most this often, so logs stay short.
    """

    def __init__(self, total: Optional[int], desc: str, initial: int = 0, stream: Optional[TextIO] = None,
                 interval: float = 0.2, log_interval: float = 5.0):
        self.total = total
        self.desc = desc
        self.done = initial
        self.stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = interval if self._tty else log_interval
        self._start_done = initial
        self._start = time.monotonic()
        self._last_draw = -float("inf")

    def line(self) -> str:
        """The current progress line (without line ending)."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (self.done - self._start_done) / elapsed
        text = f"{self.desc}  {human_bytes(self.done)}"
        if self.total:
            text += f" / {human_bytes(self.total)}  {100 * self.done / self.total:3.0f}%"
        text += f"  {human_bytes(rate)}/s"
        if self.total and rate > 0:
            text += f"  {_clock(max(self.total - self.done, 0) / rate)} left"
        return text

    def _draw(self, final: bool = False) -> None:
        if self._tty:
            self.stream.write("\r" + self.line().ljust(79) + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def update(self, count: int) -> None:
        """Add ``count`` bytes; redraw when the interval has passed."""
        self.done += count
        now = time.monotonic()
        if now - self._last_draw >= self._interval:
            self._last_draw = now
            self._draw()

    def close(self) -> None:
        self._draw(final=True)


class _Silent:
    """The progress bar of ``--quiet``."""

    def update(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def make_progress(total: Optional[int], desc: str, initial: int = 0, quiet: bool = False):
    """A byte progress bar on stderr with ``update(n_bytes)`` and ``close()``.

    Silent when ``quiet``; tqdm when it can be imported (the project's .venv); else ``TextProgress``.
    """
    if quiet:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return TextProgress(total, desc, initial=initial)
    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True, file=sys.stderr, mininterval=0.2,
                dynamic_ncols=True)
