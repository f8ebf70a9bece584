"""Disk full and permission denied: clear messages, nothing half-written at the destination."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.http_server import Route
from fetch_harness import PYTHON, fetch_env, folder_files, leftovers, run_fetch

ARCHIVE_PATH = "/cifar-10-python.tar.gz"


@pytest.fixture
def small_disk():
    """A real 600 kB tmpfs file system (needs root with mount rights; skips otherwise)."""
    mount_point = Path(tempfile.mkdtemp(prefix="cifar-small-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)
        mount_point.rmdir()


def test_not_enough_space_is_reported_before_downloading(small_disk, server, archive):
    target = small_disk / "cifar-10-batches-py"
    (small_disk / "filler").write_bytes(b"\0" * 300_000)
    server.routes[ARCHIVE_PATH] = Route(archive.body)
    result = run_fetch(env=fetch_env(target, server.url(ARCHIVE_PATH), md5=archive.md5))
    assert result.returncode == 1
    assert f"Not enough free space in {small_disk}: fetching CIFAR-10 needs about" in result.stderr
    assert "set CIFAR10_DIR=" in result.stderr
    assert not list(small_disk.glob("cifar-10-python.tar.gz*")) and not target.exists()


def test_disk_filling_up_mid_download_keeps_the_old_copy(small_disk, server, archive, other_archive):
    target = small_disk / "cifar-10-batches-py"
    assert run_fetch(env=fetch_env(target, str(archive.path), md5=archive.md5)).returncode == 0
    # Without Content-Length the size is unknown in advance: the disk runs out while writing.
    server.routes[ARCHIVE_PATH] = Route(other_archive.body, send_length=False)
    result = run_fetch("--force", env=fetch_env(target, server.url(ARCHIVE_PATH), md5=other_archive.md5))
    assert result.returncode == 1
    assert "No room to store the data: writing" in result.stderr
    assert "No space left on device" in result.stderr and "free some space" in result.stderr
    assert "already downloaded are kept in" in result.stderr
    assert folder_files(target) == archive.files and not leftovers(small_disk)


def test_file_size_limit_is_reported_as_no_room(server, archive, target):
    resource = pytest.importorskip("resource", reason="RLIMIT_FSIZE is POSIX only")
    server.routes[ARCHIVE_PATH] = Route(archive.body)

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = run_fetch(env=fetch_env(target, server.url(ARCHIVE_PATH), md5=archive.md5), preexec_fn=limit_file_size)
    assert result.returncode == 1
    assert "No room to store the data: writing" in result.stderr and "File too large" in result.stderr


NOBODY = 65534


def _python_for_nobody() -> str:
    """An interpreter the unprivileged user can run (the fetch needs only the standard library)."""
    for candidate in (PYTHON, "/usr/bin/python3", "/usr/local/bin/python3"):
        try:
            probe = subprocess.run([candidate, "-c", "pass"], user=NOBODY, group=NOBODY, capture_output=True)
        except OSError:  # e.g. an interpreter inside /root
            continue
        if probe.returncode == 0:
            return candidate
    pytest.skip("no Python interpreter here can be run by the user nobody")


def _run_without_write_access(parent: Path, env: dict):
    """Run the command so that it cannot write in ``parent/data`` (as `nobody` when the tests run as root)."""
    if os.geteuid() == 0:
        return run_fetch(env=env, python=_python_for_nobody(), user=NOBODY, group=NOBODY)
    (parent / "data").chmod(0o555)
    return run_fetch(env=env)


def test_good_copy_in_a_read_only_place_is_accepted_without_writing(archive):
    parent = Path(tempfile.mkdtemp(prefix="cifar-readonly-"))
    try:
        parent.chmod(0o755)
        target = parent / "data" / "cifar-10-batches-py"
        env = fetch_env(target, str(archive.path), md5=archive.md5)
        assert run_fetch(env=env).returncode == 0
        env["CIFAR10_URL"] = "http://127.0.0.1:9/never-used.tar.gz"
        result = _run_without_write_access(parent, env)
        assert result.returncode == 0, result.stderr
        assert "Nothing to download" in result.stdout
    finally:
        (parent / "data").chmod(0o755)
        shutil.rmtree(parent)


def test_unwritable_destination_is_reported_with_what_to_do(archive):
    parent = Path(tempfile.mkdtemp(prefix="cifar-readonly-"))
    try:
        parent.chmod(0o755)
        (parent / "data").mkdir()
        target = parent / "data" / "cifar-10-batches-py"
        # A readable copy of the archive: `nobody` cannot enter the test's own temporary folders.
        shutil.copy(archive.path, parent / "cifar.tar.gz")
        (parent / "cifar.tar.gz").chmod(0o644)
        result = _run_without_write_access(parent, fetch_env(target, str(parent / "cifar.tar.gz"), md5=archive.md5))
        assert result.returncode == 1
        assert f"Permission denied: creating {parent / 'data' / '.cifar10-lock'} failed" in result.stderr
        assert "fix the permissions of" in result.stderr and "CIFAR10_DIR=" in result.stderr
        assert not target.exists()
    finally:
        (parent / "data").chmod(0o755)
        shutil.rmtree(parent)
