"""Where the instructor's material lives, and what grading checks: the facts every instructor tool shares.

What the assignment consists of (notebooks, student modules) is the course manifest, ``cs231n.course``;
it is re-exported here for the tools' convenience and written nowhere else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cs231n.course import ASSIGNMENT, NOTEBOOKS, STUDENT_MODULES, STUDENT_NOTEBOOKS, SUBMISSION_FILES  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[1]
# The single source: the nbgrader course whose source/ holds the source notebooks and hidden checks.
COURSE_DIR = REPO_ROOT / "solutions"
SOURCE_ROOT = COURSE_DIR / "source"
# Where grading writes (gradebook, autograded notebooks, feedback, grades CSV, logs); git-ignored, outside
# every package. `python -m instructor.autograde --out DIR` (or CS231N_GRADING_DIR) puts it elsewhere.
DEFAULT_GRADING_DIR = Path(os.environ.get("CS231N_GRADING_DIR") or REPO_ROOT / "grading")
# The rebuilt CIFAR-10 archive kept beside the project for tests and benchmarks (absent on most machines).
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"

# The functions with autograded cells `test_NAME` and `hidden_NAME`, and the notebook holding them.
GRADED_FUNCTIONS = {
    "compute_distances_two_loops": "knn",
    "compute_distances_one_loop": "knn",
    "compute_distances_no_loops": "knn",
    "predict_labels": "knn",
    "svm_loss_naive": "svm",
    "svm_loss_vectorized": "svm",
    "linear_classifier_train": "svm",
    "linear_classifier_predict": "svm",
    "softmax_loss_naive": "softmax",
    "softmax_loss_vectorized": "softmax",
    "two_layer_net_loss": "two_layer_net",
    "two_layer_net_train": "two_layer_net",
    "two_layer_net_predict": "two_layer_net",
}
# The answers that are computations (cross-validation, best k, searches): each has an autograded cell
# `test_NAME` after its answer cell, capped by the grader's own check (answer_checks.py); and its notebook.
CHECKED_ANSWERS = {
    "knn_cross_validation": "knn",
    "best_k": "knn",
    "svm_search": "svm",
    "softmax_search": "softmax",
    "two_layer_net_search": "two_layer_net",
    "features_svm_search": "features",
    "features_net_search": "features",
}


# The instructor's files beside the source notebooks: the hidden checks (grader only) and the calling
# convention they share with the grading sandbox.
HIDDEN_CHECKS = "hidden_checks.py"
GRADED_CALLS = "graded_calls.py"


def source_dir(course_dir: Path = COURSE_DIR) -> Path:
    """The nbgrader source folder of the assignment (notebooks with solutions, hidden checks)."""
    return course_dir / "source" / ASSIGNMENT


def reference_dir(repo_root: Path = REPO_ROOT) -> Path:
    """The reference classifiers: ``solutions/cs231n/classifiers``."""
    return repo_root / "solutions" / "cs231n" / "classifiers"


def trusted_package_files(repo_root: Path = REPO_ROOT) -> list[Path]:
    """The instructor's ``cs231n`` files that grading uses instead of anything submitted (relative paths)."""
    package = repo_root / "cs231n"
    files = sorted(p.relative_to(repo_root) for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return [p for p in files if p.as_posix() not in STUDENT_MODULES and p.name != "submission.py"]


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader and Jupyter subprocesses.

    The running interpreter's ``bin/`` goes first on PATH: nbgrader runs ``alembic`` by name when it
    creates a gradebook and fails with a bare "No such file" when the environment is not activated.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir] + [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env
