"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructor.course import REPO_ROOT, SHARED_ARCHIVE


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_archive() -> Path:
    """The rebuilt CIFAR-10 archive beside the project; tests that need it skip when it is absent."""
    if not SHARED_ARCHIVE.is_file():
        pytest.skip(f"rebuilt CIFAR-10 archive not found at {SHARED_ARCHIVE}; this test needs real images")
    return SHARED_ARCHIVE


@pytest.fixture(scope="session")
def small_cifar_dir(tmp_path_factory) -> Path:
    """A generated ``cifar-10-batches-py`` folder with 20 images per batch."""
    from instructor.fake_cifar import write_cifar_batches

    return write_cifar_batches(tmp_path_factory.mktemp("cifar"), images_per_batch=20, seed=0)
