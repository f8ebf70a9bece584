"""Running the real fetch command in a subprocess, and the test archives it fetches.

The command runs under the interpreter running the tests, or under ``$FETCH_TEST_PYTHON`` when set (the
command needs only the standard library, so e.g. ``FETCH_TEST_PYTHON=python3.8`` checks the oldest
supported Python).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from instructor.fake_cifar import make_cifar_archive, write_cifar_batches
from instructor.course import REPO_ROOT

FETCH_SCRIPT = REPO_ROOT / "datasets" / "fetch_cifar10.py"
WRAPPER = REPO_ROOT / "datasets" / "get_datasets.sh"
DATASETS_DIR = REPO_ROOT / "datasets"
MANIFEST = ".cifar10-manifest.json"
RUN_TIMEOUT = 60
PYTHON = os.environ.get("FETCH_TEST_PYTHON", sys.executable)


@dataclass(frozen=True)
class TestArchive:
    """A generated CIFAR-format archive: its file, bytes, checksums and the files it unpacks to."""

    path: Path
    body: bytes
    md5: str
    sha256: str
    files: Dict[str, bytes]


def build_archive(folder: Path, seed: int = 0, images_per_batch: int = 20) -> TestArchive:
    """A ``.tar.gz`` laid out like the canonical one, built by ``instructor/fake_cifar.py``."""
    path = make_cifar_archive(folder / f"cifar-seed{seed}.tar.gz", images_per_batch=images_per_batch, seed=seed)
    body = path.read_bytes()
    unpacked = write_cifar_batches(folder / f"unpacked-seed{seed}", images_per_batch=images_per_batch, seed=seed)
    files = {entry.name: entry.read_bytes() for entry in unpacked.iterdir()}
    return TestArchive(path, body, hashlib.md5(body).hexdigest(), hashlib.sha256(body).hexdigest(), files)


def fetch_env(target: Path, urls: str, md5: Optional[str] = None, sha256: Optional[str] = None) -> Dict[str, str]:
    """The environment of a run: no inherited CIFAR10_* or proxy settings, loopback never proxied."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CIFAR10_") and key.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    loopback = "127.0.0.1,localhost"
    env.update(CIFAR10_DIR=str(target), CIFAR10_URL=urls, NO_PROXY=loopback, no_proxy=loopback)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if md5:
        env["CIFAR10_MD5"] = md5
    if sha256:
        env["CIFAR10_SHA256"] = sha256
    return env


def run_fetch(*args: str, env: Dict[str, str], python: str = PYTHON, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python datasets/fetch_cifar10.py ARGS`` to completion and capture its output."""
    return subprocess.run(
        [python, str(FETCH_SCRIPT), *args],
        env=env,
        cwd=str(REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", RUN_TIMEOUT),
        **kwargs,
    )


def folder_files(folder: Path) -> Dict[str, bytes]:
    """Contents of the data files in ``folder`` (the manifest left out)."""
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.name != MANIFEST}


def leftovers(workdir: Path):
    """Temporary folders of the fetch left in ``workdir``."""
    return sorted(path.name for path in workdir.glob(".cifar10-*") if path.is_dir())


# Runs the real command with one internal step made to announce itself and wait, so a test can send a
# signal at exactly that step. Only the waiting is added; the command's own code runs unchanged.
_PAUSING_DRIVER = """
import sys, time
sys.path.insert(0, {datasets!r})
# Everything is imported before the patch, so names other modules imported from it keep the original.
from cifar10_fetch.cli import main
import cifar10_fetch.{module} as patched
original = patched.{function}
def pausing(*args, **kwargs):
    result = original(*args, **kwargs)
    print({marker!r}, flush=True)
    time.sleep({seconds!r})
    return result
patched.{function} = pausing
sys.exit(main(sys.argv[1:]))
"""


def start_fetch(*args: str, env: Dict[str, str], pause: Optional[tuple] = None) -> subprocess.Popen:
    """Start the command without waiting; ``pause=(module, function, seconds)`` pauses after that function.

    With a pause, the line ``PAUSED`` is printed on stdout when the function has returned.
    """
    if pause is None:
        command = [PYTHON, str(FETCH_SCRIPT), *args]
    else:
        module, function, seconds = pause
        code = _PAUSING_DRIVER.format(
            datasets=str(DATASETS_DIR), module=module, function=function, marker="PAUSED", seconds=seconds
        )
        command = [PYTHON, "-c", code, *args]
    return subprocess.Popen(
        command, env=env, cwd=str(REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_line(process: subprocess.Popen, text: str, timeout: float = 30.0) -> None:
    """Read ``process``'s stdout until a line contains ``text``; kill it and fail after ``timeout`` seconds."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            if text in line:
                return
    finally:
        timer.cancel()
    raise AssertionError(f"{text!r} never appeared (exit status {process.wait()}): {process.stderr.read()}")


def wait_until(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
