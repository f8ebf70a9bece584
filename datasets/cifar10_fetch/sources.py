"""Where the archive comes from and what it must look like, read from the environment.

``CIFAR10_URL`` holds one or more sources separated by white space, tried in order: ``http://`` or
``https://`` URLs, ``file://`` URLs, or plain paths of a local copy. ``CIFAR10_MD5`` and/or
``CIFAR10_SHA256`` give the archive's checksum; without them the canonical archive's md5 and size apply,
so a mirror that serves the very same file needs no checksum.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple

from .errors import UsageError
from .layout import CANONICAL_MD5, CANONICAL_SIZE, CANONICAL_URL

_HEX_LENGTH = {"md5": 32, "sha256": 64}


@dataclass(frozen=True)
class Expected:
    """What the archive must be: its checksums (lower-case hex) and, when known, its size in bytes."""

    md5: Optional[str]
    sha256: Optional[str]
    size: Optional[int]

    def algorithms(self) -> Tuple[str, ...]:
        """Names of the hashlib algorithms to compute, e.g. ``('md5',)``."""
        return tuple(name for name in ("md5", "sha256") if getattr(self, name))

    def as_dict(self) -> dict:
        return {"md5": self.md5, "sha256": self.sha256, "size": self.size}

    def describe(self) -> str:
        parts = [f"{name} {getattr(self, name)}" for name in self.algorithms()]
        if self.size is not None:
            parts.append(f"{self.size:,} bytes")
        return ", ".join(parts)


@dataclass(frozen=True)
class Source:
    """One place to get the archive from: ``url`` as the user wrote it, ``path`` for a local file."""

    url: str
    path: Optional[Path] = None

    @property
    def is_local(self) -> bool:
        return self.path is not None


def _digest(env: Mapping[str, str], name: str, algorithm: str) -> Optional[str]:
    value = env.get(name, "").strip()
    if not value:
        return None
    # Accept the output of md5sum/sha256sum, or the path of such a `.md5`/`.sha256` file, as well as bare hex.
    candidate = Path(value).expanduser()
    if not re.fullmatch(r"[0-9a-fA-F]+", value) and candidate.is_file():
        value = candidate.read_text(encoding="ascii", errors="replace").strip()
    token = value.split()[0].lower() if value.split() else ""
    if not re.fullmatch(r"[0-9a-f]{%d}" % _HEX_LENGTH[algorithm], token):
        raise UsageError(
            f"{name}={env.get(name)!r} is not a{'n' if algorithm == 'md5' else ''} {algorithm} checksum: "
            f"expected {_HEX_LENGTH[algorithm]} hexadecimal digits (the first word of `{algorithm}sum FILE`), "
            f"or the path of a file holding them.\nWhat to do: fix or unset {name}."
        )
    return token


def read_expected(env: Mapping[str, str]) -> Expected:
    """The checksums (and size) the archive must match, from ``CIFAR10_MD5`` / ``CIFAR10_SHA256``."""
    md5 = _digest(env, "CIFAR10_MD5", "md5")
    sha256 = _digest(env, "CIFAR10_SHA256", "sha256")
    if md5 is None and sha256 is None:
        return Expected(md5=CANONICAL_MD5, sha256=None, size=CANONICAL_SIZE)
    size = CANONICAL_SIZE if md5 == CANONICAL_MD5 else None
    return Expected(md5=md5, sha256=sha256, size=size)


def parse_source(text: str) -> Source:
    """One entry of ``CIFAR10_URL``: an ``http(s)://`` or ``file://`` URL, or a local path."""
    parsed = urllib.parse.urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        if not parsed.netloc:
            raise UsageError(f"CIFAR10_URL entry {text!r} has no host name. Expected e.g. https://host/path.tar.gz.")
        return Source(url=text)
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(
                f"CIFAR10_URL entry {text!r} names the host {parsed.netloc!r}: file:// URLs must be local, "
                "as file:///absolute/path/cifar-10-python.tar.gz (three slashes)."
            )
        # url2pathname handles Windows drive letters; imported here as urllib.request is slow to load.
        from urllib.request import url2pathname

        return Source(url=text, path=Path(url2pathname(parsed.path)))
    # No scheme (or a Windows drive letter such as C:) means a path on this machine.
    if scheme == "" or len(scheme) == 1:
        return Source(url=text, path=Path(text).expanduser())
    raise UsageError(
        f"CIFAR10_URL entry {text!r} uses the unsupported scheme {scheme!r}.\n"
        "Expected http://, https://, file:// or a plain path of a local copy."
    )


def read_sources(env: Mapping[str, str]) -> Tuple[Source, ...]:
    """The sources to try in order: the entries of ``CIFAR10_URL``, or the canonical URL when it is unset."""
    entries = env.get("CIFAR10_URL", "").split()
    if not entries:
        return (Source(url=CANONICAL_URL),)
    return tuple(parse_source(entry) for entry in entries)
