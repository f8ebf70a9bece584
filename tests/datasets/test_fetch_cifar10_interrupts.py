"""Ctrl-C (SIGINT) and SIGTERM at every step: the old copy survives and the next run completes."""

from __future__ import annotations

import signal

import pytest

from bench.http_server import Route
from fetch_harness import (
    fetch_env,
    folder_files,
    leftovers,
    run_fetch,
    start_fetch,
    wait_for_line,
    wait_until,
)

ARCHIVE_PATH = "/cifar-10-python.tar.gz"


@pytest.fixture
def old_copy(archive, target):
    """A good copy (seed 0) already in place, fetched from a local file."""
    result = run_fetch(env=fetch_env(target, str(archive.path), md5=archive.md5))
    assert result.returncode == 0, result.stderr
    return folder_files(target)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_during_download_keeps_old_copy_and_next_run_resumes(
    signal_number, server, old_copy, other_archive, target
):
    half = len(other_archive.body) // 2
    server.routes[ARCHIVE_PATH] = Route(other_archive.body, stall_at=half)
    env = fetch_env(target, server.url(ARCHIVE_PATH), md5=other_archive.md5)
    part = target.parent / "cifar-10-python.tar.gz.part"
    process = start_fetch("--force", env=env)
    wait_until(lambda: part.exists() and part.stat().st_size == half, what="half of the download")
    process.send_signal(signal_number)
    assert process.wait(timeout=20) == 130
    stderr = process.stderr.read()
    assert f"The copy in {target} is untouched" in stderr
    assert f"of the download are kept in {part}: run the same command again to resume" in stderr
    assert folder_files(target) == old_copy
    assert part.stat().st_size == half

    server.release_stalls()
    result = run_fetch("--force", env=env)
    assert result.returncode == 0, result.stderr
    assert server.requests_for(ARCHIVE_PATH)[-1]["range"] == f"bytes={half}-"
    assert folder_files(target) == other_archive.files
    assert not part.exists() and not leftovers(target.parent)


def test_ctrl_c_during_extraction_keeps_old_copy_and_next_run_unpacks_without_downloading(
    server, old_copy, other_archive, target
):
    server.routes[ARCHIVE_PATH] = Route(other_archive.body)
    env = fetch_env(target, server.url(ARCHIVE_PATH), md5=other_archive.md5)
    # Pause after the first member is written: the temporary folder exists and is half full.
    process = start_fetch("--force", env=env, pause=("install", "_copy_member", 30))
    wait_for_line(process, "PAUSED")
    assert len(leftovers(target.parent)) == 1
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    stderr = process.stderr.read()
    assert "Interrupted while unpacking" in stderr and f"The copy in {target} is untouched" in stderr
    assert folder_files(target) == old_copy
    assert not leftovers(target.parent)
    assert (target.parent / "cifar-10-python.tar.gz").read_bytes() == other_archive.body

    requests_before = len(server.log)
    result = run_fetch("--force", env=env)
    assert result.returncode == 0, result.stderr
    assert "Reusing the verified archive" in result.stdout
    assert len(server.log) == requests_before
    assert folder_files(target) == other_archive.files
    assert not (target.parent / "cifar-10-python.tar.gz").exists()


def test_ctrl_c_during_the_swap_is_held_until_the_new_copy_is_in_place(old_copy, other_archive, target):
    env = fetch_env(target, str(other_archive.path), md5=other_archive.md5)
    # _rename_into_place does both renames of the swap; the pause after it is still inside the protected block.
    process = start_fetch("--force", env=env, pause=("install", "_rename_into_place", 1.5))
    wait_for_line(process, "PAUSED")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    assert "the new copy was put in place first" in process.stderr.read()
    assert folder_files(target) == other_archive.files
    assert run_fetch("--check", env=env).returncode == 0
    result = run_fetch(env=env)
    assert result.returncode == 0 and "Removed 2 temporary folder(s)" in result.stdout
    assert not leftovers(target.parent)


def test_copy_left_aside_by_a_killed_run_is_put_back(old_copy, archive, target):
    # What a run killed (SIGKILL, power cut) between the two renames of the swap leaves behind.
    target.rename(target.parent / ".cifar10-old-0123456789ab")
    result = run_fetch(env=fetch_env(target, "http://127.0.0.1:9/never-used.tar.gz", md5=archive.md5))
    assert result.returncode == 0, result.stderr
    assert "Restored the previous copy" in result.stdout and "Nothing to download" in result.stdout
    assert folder_files(target) == old_copy and not leftovers(target.parent)


def test_second_run_while_the_first_holds_the_lock_is_refused(server, other_archive, target):
    server.routes[ARCHIVE_PATH] = Route(other_archive.body, stall_at=1000)
    env = fetch_env(target, server.url(ARCHIVE_PATH), md5=other_archive.md5)
    part = target.parent / "cifar-10-python.tar.gz.part"
    first = start_fetch(env=env)
    try:
        wait_until(lambda: part.exists() and part.stat().st_size == 1000, what="the first run's download")
        second = run_fetch(env=env)
        assert second.returncode == 1
        assert f"Another run of the fetch command is working in {target.parent}" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=20)
    assert first.returncode == 130
