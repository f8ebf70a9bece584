"""Session fixtures of the grading tests: one test course built from solutions/, one graded batch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cs231n.course import NOTEBOOKS
from instructor.course import REPO_ROOT as REPO

REAL_SOURCE = REPO / "solutions" / "source" / "assignment1"


@pytest.fixture(scope="session")
def grading_course(tmp_path_factory) -> Path:
    """A course folder like solutions/: its nbgrader_config.py and source (notebooks, hidden checks)."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy2(REPO / "solutions" / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(REAL_SOURCE, course / "source" / "assignment1",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return course


@pytest.fixture(scope="session")
def release_notebooks() -> dict[str, str]:
    """The committed student notebooks ``assignment1/*.ipynb`` (tests/release proves them fresh)."""
    return {name: (REPO / "assignment1" / f"{name}.ipynb").read_text(encoding="utf-8") for name in NOTEBOOKS}


@pytest.fixture(scope="session")
def grading_data(tmp_path_factory) -> Path:
    """A tiny CIFAR-10 (20 images per batch) readable by the unprivileged grading uids."""
    from instructor.fake_cifar import write_cifar_batches

    folder = write_cifar_batches(tmp_path_factory.mktemp("grading-cifar"), images_per_batch=20, seed=0)
    for path in [folder, *folder.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder
