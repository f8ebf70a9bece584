"""Streaming HTTP(S) download into a ``.part`` file, with retries, back-off, timeouts and resume.

A partial download is resumed with an HTTP ``Range`` request (guarded by ``If-Range`` so a changed file on
the server is fetched whole again); a server that ignores ``Range`` and answers 200 is read from the start.
Beside the ``.part`` file a small JSON state records the URL, the server's validators and the checksum the
file must have, so a partial file is only resumed towards the same archive.

The command imports this module only when it has something to download, and no other module of the package
imports it: urllib.request, http.client and ssl take about 35 ms to load, a third of a run that finds the
data already in place.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Optional, Tuple

from . import (
    DIR_HINT,
    UNPACKED_TO_ARCHIVE_RATIO,
    NoSpace,
    SourceFailed,
    discard,
    disk_errors,
    human_bytes,
    make_progress,
    sidecar,
)
from .verify import Expected

CHUNK_BYTES = 256 * 1024
MAX_BACKOFF_SECONDS = 60.0
USER_AGENT = "cifar10-fetch/1.0 (datasets/fetch_cifar10.py; Python urllib)"
# Answers that mean "try again later"; every other HTTP error means this URL will not work.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<?xml")
MIRROR_HINT = (
    "To use a mirror or a copy you already have, set CIFAR10_URL (several URLs may be given, separated by "
    "spaces, tried in order) and its checksum, e.g.\n"
    "  CIFAR10_URL=file:///path/to/cifar-10-python.tar.gz CIFAR10_MD5=<md5 of that file> "
    "bash datasets/get_datasets.sh"
)


class TransientFailure(SourceFailed):
    """One attempt on a source failed in a way a retry may fix (dropped connection, timeout, HTTP 503)."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _resumable_state(part: Path, expected: Expected) -> dict:
    """The saved state of ``part`` if it may be resumed towards ``expected``; otherwise discard ``part``."""
    try:
        state = json.loads(sidecar(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    if part.exists() and isinstance(state, dict) and state.get("expected") == expected.as_dict():
        return state
    discard(part)
    return {}


def _save_state(path: Path, state: dict) -> None:
    """Write ``state`` through a temporary name, so a killed run never leaves half a file."""
    scratch = path.with_name(path.name + ".tmp")
    with disk_errors("writing", scratch):
        scratch.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(scratch, path)


def _host(url: str) -> str:
    return urllib.parse.urlparse(url).netloc or url


def _network_failure(url: str, reason: object, timeout: float) -> SourceFailed:
    """Classify a connection-level failure: no network and bad certificates are final, the rest transient."""
    host = _host(url)
    if isinstance(reason, socket.gaierror):
        return SourceFailed(
            f"Cannot reach {host} to download {url}: the host name does not resolve ({reason}). "
            f"There is no network connection, or the name is blocked.\n{MIRROR_HINT}"
        )
    if isinstance(reason, ssl.SSLCertVerificationError):
        return SourceFailed(
            f"The certificate of {host} could not be verified ({reason.verify_message}). With python.org's "
            "Python on macOS, run its 'Install Certificates.command' once.\n" + MIRROR_HINT
        )
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return SourceFailed(f"Cannot reach {host} to download {url}: {reason.strerror}.\n{MIRROR_HINT}")
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return TransientFailure(f"no answer from {host} within {timeout:g} s (--timeout)")
    if isinstance(reason, ConnectionRefusedError):
        return TransientFailure(f"{host} refused the connection")
    return TransientFailure(f"connection to {host} failed: {reason}")


def _read(response, url: str, timeout: float) -> bytes:
    """The next chunk of the body (``b''`` at its end), with socket failures turned into retries."""
    try:
        # read1 hands over whatever has arrived (up to CHUNK_BYTES), so the .part file and the progress bar
        # follow the network closely; read() would wait for a full chunk.
        return response.read1(CHUNK_BYTES) if hasattr(response, "read1") else response.read(CHUNK_BYTES)
    except (socket.timeout, TimeoutError):
        raise TransientFailure(f"no data from {_host(url)} for {timeout:g} s (--timeout)") from None
    except (http.client.HTTPException, OSError) as exc:
        raise TransientFailure(f"transfer from {_host(url)} broke off ({exc.__class__.__name__}: {exc})") from exc


def _content_range(header: Optional[str]) -> Tuple[Optional[int], Optional[int]]:
    """``'bytes 100-199/1000'`` -> ``(100, 1000)``; ``'bytes */1000'`` -> ``(None, 1000)``; unknown parts None."""
    if not header or not header.startswith("bytes "):
        return None, None
    span, _, total = header[len("bytes "):].partition("/")
    start = span.split("-")[0]
    return (int(start) if start.isdigit() else None), (int(total) if total.isdigit() else None)


def _reject_html(url: str, status: int, content_type: str, first: bytes) -> None:
    head = first[:512].lstrip().lower()
    gzip_magic = first[:2] == b"\x1f\x8b"
    if head.startswith(_HTML_STARTS) or (content_type == "text/html" and not gzip_magic):
        snippet = first[:120].decode("utf-8", "replace").strip().replace("\n", " ")
        raise SourceFailed(
            f"{url} answered with an HTML page (HTTP {status}, Content-Type {content_type}) instead of the "
            f"archive: usually an error, login or 'moved' page. It begins: {snippet!r}.\n"
            "Nothing was saved. Check the URL in a browser, or use another source.\n" + MIRROR_HINT
        )


def _check_space(folder: Path, to_download: int, total: int) -> None:
    unpacked = int(total * UNPACKED_TO_ARCHIVE_RATIO)
    need = to_download + unpacked
    free = shutil.disk_usage(str(folder)).free
    if free < need:
        raise NoSpace(
            f"Not enough free space in {folder}: fetching CIFAR-10 needs about {human_bytes(need)} "
            f"({human_bytes(to_download)} still to download, then about {human_bytes(unpacked)} unpacked) "
            f"but {human_bytes(free)} is free.\nWhat to do: free some space, or {DIR_HINT}."
        )


def _attempt(url: str, part: Path, state: dict, expected: Expected, timeout: float, quiet: bool, say) -> None:
    """One request; returns when ``part`` holds the whole file, raises ``SourceFailed`` otherwise."""
    offset = _size(part)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if state.get("url") == url and (state.get("etag") or state.get("last_modified")):
            headers["If-Range"] = state.get("etag") or state.get("last_modified")
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            _, total = _content_range(exc.headers.get("Content-Range"))
            if total == offset:
                return
            discard(part)
            raise TransientFailure(
                f"{_host(url)} cannot resume at byte {offset:,} (HTTP 416); starting over"
            ) from exc
        if exc.code in RETRY_STATUSES:
            raise TransientFailure(f"HTTP {exc.code} {exc.reason} from {_host(url)}") from exc
        raise SourceFailed(f"{url} answered HTTP {exc.code} {exc.reason}.\n{MIRROR_HINT}") from exc
    except urllib.error.URLError as exc:
        raise _network_failure(url, exc.reason, timeout) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise _network_failure(url, exc, timeout) from exc

    with response:
        status = response.status
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                discard(part)
                raise TransientFailure(f"{_host(url)} resumed at byte {start} instead of {offset:,}; starting over")
            mode = "ab"
        else:
            if offset:
                say(f"{_host(url)} does not resume downloads (HTTP {status} to a range request): starting over.")
            offset = 0
            mode = "wb"
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
        first = b""
        if offset == 0:
            first = _read(response, url, timeout)
            _reject_html(url, status, response.headers.get_content_type(), first)
        if expected.size is not None and total is not None and total != expected.size:
            raise SourceFailed(
                f"{url} offers a file of {total:,} bytes, but the expected archive has {expected.size:,} bytes "
                f"({expected.describe()}). If this source serves a different build of CIFAR-10, set CIFAR10_MD5 "
                "or CIFAR10_SHA256 to its checksum."
            )
        if total is not None:
            _check_space(part.parent, total - offset, total)
        state.clear()
        state.update(
            url=url,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            total=total,
            expected=expected.as_dict(),
        )
        _save_state(sidecar(part), state)
        received = offset
        progress = make_progress(total, "download", initial=offset, quiet=quiet)
        try:
            # Unbuffered: every chunk received is on disk at once, so a killed run loses nothing it got.
            with disk_errors("writing", part), open(part, mode, buffering=0) as out:
                chunk = first if offset == 0 else _read(response, url, timeout)
                while chunk:
                    view = memoryview(chunk)
                    while view:
                        view = view[out.write(view):]
                    received += len(chunk)
                    progress.update(len(chunk))
                    chunk = _read(response, url, timeout)
        except NoSpace as exc:
            raise NoSpace(
                f"{exc}\n{human_bytes(_size(part))} already downloaded are kept in {part}: once there is room, "
                "the same command resumes from there."
            ) from exc
        finally:
            progress.close()
    if total is not None and received < total:
        raise TransientFailure(
            f"{_host(url)} closed the connection after {human_bytes(received)} of {human_bytes(total)}"
        )


def download(url: str, part: Path, expected: Expected, say: Callable[[str], None], *, timeout: float = 30.0,
             retries: int = 5, backoff: float = 1.0, quiet: bool = False) -> bool:
    """Download ``url`` into ``part``, resuming what an earlier run left there.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    part : Path
        The partial file; its folder must exist. Kept on failure and on Ctrl-C so a later run resumes it.
    expected : Expected
        Checksums (and size) of the archive; a partial file saved for other checksums is discarded.
    say : callable
        Receives one-line notes for the user (retries, restarts).
    timeout : float, default 30.0
        Seconds without any data (connect or read) before an attempt is abandoned; > 0.
    retries : int, default 5
        Further attempts after a failed one, >= 0; an attempt that brought new bytes resets the count.
    backoff : float, default 1.0
        First wait between attempts in seconds, >= 0; it doubles after each failure, up to 60 s.
    quiet : bool, default False
        No progress bar.

    Returns
    -------
    bool
        True when bytes kept from an earlier attempt were reused (so a checksum mismatch may be the
        partial file's fault and a fresh download is worth one try).

    Raises
    ------
    SourceFailed
        The URL cannot deliver (HTTP 404, HTML page, no network), or every retry failed; the message says
        how much is kept for the next run.
    """
    state = _resumable_state(part, expected)
    reused = _size(part) > 0
    if reused:
        say(f"Resuming the partial download in {part} ({human_bytes(_size(part))} already there).")
    failures = 0
    while True:
        before = _size(part)
        try:
            _attempt(url, part, state, expected, timeout, quiet, say)
            return reused
        except TransientFailure as exc:
            # An attempt that brought new bytes shows the source works: start counting failures afresh.
            failures = 1 if _size(part) > before else failures + 1
            reused = reused or _size(part) > 0
            if failures > retries:
                kept = _size(part)
                raise SourceFailed(
                    f"Downloading {url} failed: {exc} (gave up after {failures} failed "
                    f"attempt{'s' if failures > 1 else ''} in a row; --retries {retries}).\n"
                    + (
                        f"{human_bytes(kept)} are kept in {part}: run the same command again to resume.\n"
                        if kept
                        else ""
                    )
                    + MIRROR_HINT
                ) from exc
            delay = min(backoff * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            say(f"{exc}; retrying in {delay:g} s (retry {failures} of {retries}).")
            time.sleep(delay)
