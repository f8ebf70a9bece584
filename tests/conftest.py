"""Fixtures shared by the whole suite."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"

# Tests import the student package, the reference (`solutions.*`) and the test helpers from the repo root.
for path in (str(REPO_ROOT), str(REPO_ROOT / "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)


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
    from cifar_factory import write_cifar_batches

    return write_cifar_batches(tmp_path_factory.mktemp("cifar"), images_per_batch=20, seed=0)
