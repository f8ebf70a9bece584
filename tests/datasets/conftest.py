"""Fixtures of the fetch-script tests: generated archives and a loopback HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.http_server import LoopbackServer
from fetch_harness import build_archive


@pytest.fixture
def archive(tmp_path_factory):
    """A small generated CIFAR archive (seed 0, 20 images per batch)."""
    return build_archive(tmp_path_factory.mktemp("archive"), seed=0)


@pytest.fixture
def other_archive(tmp_path_factory):
    """A second archive with different images (seed 1), to tell an old copy from a new one."""
    return build_archive(tmp_path_factory.mktemp("archive"), seed=1)


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def target(tmp_path) -> Path:
    """Where the data should land (CIFAR10_DIR); its parent holds the download state."""
    return tmp_path / "data" / "cifar-10-batches-py"
