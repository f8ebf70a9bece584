"""Size and checksum of the archive, checked before anything is unpacked."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, Iterable

from .errors import FetchError, VerificationFailed, disk_errors
from .progress import make_progress
from .sources import Expected

READ_BYTES = 1 << 20


def file_digests(path: Path, algorithms: Iterable[str], progress=None) -> Dict[str, str]:
    """Hex digests of ``path`` for each hashlib algorithm name, computed in one pass over the file.

    ``progress``, when given, receives ``update(n_bytes)`` for every block read.
    """
    hashers = {name: hashlib.new(name) for name in algorithms}
    with disk_errors("reading", path), open(path, "rb") as source:
        for block in iter(lambda: source.read(READ_BYTES), b""):
            for hasher in hashers.values():
                hasher.update(block)
            if progress is not None:
                progress.update(len(block))
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def describe_content(path: Path) -> str:
    """One sentence on what the file looks like, to explain a mismatch (an HTML page, an empty file ...)."""
    with open(path, "rb") as source:
        head = source.read(512)
    if not head:
        return "The file is empty."
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<title")):
        snippet = head[:100].decode("utf-8", "replace").strip().replace("\n", " ")
        return f"It is an HTML page, not an archive; it begins {snippet!r}."
    if head[:2] == b"\x1f\x8b":
        return "It is a gzip file: cut short, corrupted, or another archive."
    return f"It does not start like a .tar.gz archive (first bytes {head[:8]!r})."


_WHAT_TO_DO = (
    "Nothing was unpacked.\nWhat to do: if the file was cut short or damaged in transit, run the command again "
    "for a fresh download. If this source serves a different build of CIFAR-10 on purpose, set CIFAR10_MD5 or "
    "CIFAR10_SHA256 to its checksum."
)


def verify_archive(path: Path, expected: Expected, origin: str, quiet: bool = True) -> Dict[str, str]:
    """Check ``path`` against ``expected``; return the computed digests.

    Parameters
    ----------
    path : Path
        The archive on disk.
    expected : Expected
        Its size (when known) and checksums; every given checksum must match.
    origin : str
        Where the file came from (URL or path), named in the error message.
    quiet : bool
        No progress bar.

    Raises
    ------
    VerificationFailed
        Wrong size or checksum; the message gives the expected and the actual values and what to do.
    """
    if not path.is_file():
        raise FetchError(f"{path} does not exist or is not a file (source {origin}).")
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        kind = "cut short" if size < expected.size else "larger than expected"
        raise VerificationFailed(
            f"The archive from {origin} has {size:,} bytes but {expected.size:,} were expected "
            f"({expected.describe()}): it is {kind}. {describe_content(path)}\n{_WHAT_TO_DO}"
        )
    progress = make_progress(size, "verify", quiet=quiet)
    try:
        digests = file_digests(path, expected.algorithms(), progress)
    finally:
        progress.close()
    wrong = [name for name in expected.algorithms() if digests[name] != getattr(expected, name)]
    if wrong:
        lines = "\n".join(
            f"  expected {name} {getattr(expected, name)}\n  got      {name} {digests[name]}" for name in wrong
        )
        raise VerificationFailed(
            f"The archive from {origin} ({size:,} bytes) does not have the expected checksum:\n{lines}\n"
            f"{describe_content(path)}\n{_WHAT_TO_DO}"
        )
    return digests
