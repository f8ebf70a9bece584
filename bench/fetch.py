"""The fetch script against the bare minimum of its work, over a real HTTP server on the loopback interface.

The fetch downloads the archive from ``http://127.0.0.1:<port>/``, verifies its size and checksum, unpacks
it safely and writes a manifest. Its floor, timed side by side, is the same download hashed on the fly and
one plain ``tarfile`` extraction. A second run finds the copy and only compares sizes with the manifest,
so it should cost little more than starting the script (``--help``); ``--check`` hashes every unpacked file.
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import tarfile
import threading
import urllib.request
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from instructor.fake_cifar import write_cifar_batches

from .data import FETCH_SCRIPT, archive_sha256, fetch_command
from .report import Report, Row
from .settings import REPO_ROOT, SHARED_ARCHIVE
from .timing import Stats, run_child, time_once

CHUNK_BYTES = 1 << 20


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the benchmark's output is the table, not an access log
        pass


@contextmanager
def loopback_server(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def generated_archive(work_dir: Path) -> Path:
    """A small ``cifar-10-python.tar.gz`` of generated batches with its ``.sha256`` beside it."""
    archive = work_dir / "generated-archive" / "cifar-10-python.tar.gz"
    if not archive.is_file():
        folder = write_cifar_batches(work_dir / "generated-archive" / "src", images_per_batch=50)
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname=folder.name)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
    return archive


def plain_fetch(url: str, folder: Path, expected_sha256: str) -> None:
    """The floor: stream ``url`` into a file while hashing it, compare the digest, extract with tarfile."""
    folder.mkdir(parents=True)
    archive = folder / "archive.tar.gz"
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as out:
        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected_sha256:
        raise RuntimeError(f"the loopback server delivered an archive with sha256 {digest.hexdigest()}, "
                           f"expected {expected_sha256}")
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(folder / "out", filter="data")


def _fetch(env: dict, *arguments: str) -> float:
    command, full_env = fetch_command(env, "--quiet", *arguments)
    result = run_child(command, cwd=str(REPO_ROOT), env=full_env, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"the fetch script failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    return result.seconds


def _start_only() -> float:
    """Seconds to start the fetch script's interpreter and import its package, doing nothing else."""
    command, env = fetch_command({}, "--help")
    result = run_child(command, cwd=str(REPO_ROOT), env=env, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"the fetch script's --help failed (exit {result.returncode}): {result.stderr[-500:]}")
    return result.seconds


def run_fetch(report: Report, data, settings) -> None:
    """Rows: first fetch against its floor, the second run and ``--check`` against the first."""
    section = "fetch"
    if not FETCH_SCRIPT.is_file():
        report.skip(section, f"{FETCH_SCRIPT.relative_to(REPO_ROOT)} is absent")
        return
    real = SHARED_ARCHIVE.is_file() and not settings.quick
    archive = SHARED_ARCHIVE if real else generated_archive(settings.work_dir)
    sha256 = archive_sha256(archive)
    scratch = settings.work_dir / "fetch"
    runs = 1 if settings.quick else 3
    first, floor, second, start_only, check = [], [], [], [], []
    with loopback_server(archive.parent) as base_url:
        url = f"{base_url}/{archive.name}"
        for index in range(runs):
            shutil.rmtree(scratch, ignore_errors=True)
            env = {"CIFAR10_URL": url, "CIFAR10_SHA256": sha256, "CIFAR10_DIR": str(scratch / "cifar-10-batches-py")}
            # Alternate which goes first, as in timing.compare.
            if index % 2:
                first.append(_fetch(env))
                floor.append(time_once(lambda: plain_fetch(url, scratch / "plain", sha256)))
            else:
                floor.append(time_once(lambda: plain_fetch(url, scratch / "plain", sha256)))
                first.append(_fetch(env))
            second.append(_fetch(env))
            start_only.append(_start_only())
            check.append(_fetch(env, "--check"))
    shutil.rmtree(scratch, ignore_errors=True)
    size = f"{archive.stat().st_size / 1e6:.0f} MB {'rebuilt CIFAR-10' if real else 'generated'} archive"
    report.add(Row(section, f"fetch from a loopback mirror, {size}", Stats.of(first), "s",
                   Stats.of([f / p for f, p in zip(first, floor)]), "download hashed on the fly + tarfile extract",
                   note="process start included"))
    report.add(Row(section, "second run (copy found, sizes checked)", Stats.of(second), "s",
                   Stats.of([s / b for s, b in zip(second, start_only)]), "starting the script (--help)",
                   note=f"{Stats.of(second).median / Stats.of(first).median:.2f}x the first run"))
    report.add(Row(section, "--check (sha256 of every file)", Stats.of(check), "s",
                   Stats.of([c / f for c, f in zip(check, first)]), "first run"))
