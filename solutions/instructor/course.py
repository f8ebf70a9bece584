"""Where the course lives and what a submission consists of: the facts every instructor command shares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COURSE_DIR = REPO_ROOT / "solutions"
ASSIGNMENT = "assignment1"
NOTEBOOKS = ("knn", "svm", "softmax")

# The files a student writes. Everything else in the bundle is trusted and comes from the instructor.
STUDENT_MODULES = (
    "cs231n/classifiers/k_nearest_neighbor.py",
    "cs231n/classifiers/linear_svm.py",
    "cs231n/classifiers/softmax.py",
    "cs231n/classifiers/linear_classifier.py",
)
STUDENT_NOTEBOOKS = tuple(f"{ASSIGNMENT}/{name}.ipynb" for name in NOTEBOOKS)
SUBMISSION_FILES = STUDENT_NOTEBOOKS + STUDENT_MODULES

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
}
# The answers that are computations (cross-validation, best k, searches): each has an autograded cell
# `test_NAME` after its answer cell, capped by the grader's own check (answer_checks.py); and its notebook.
CHECKED_ANSWERS = {
    "knn_cross_validation": "knn",
    "best_k": "knn",
    "svm_search": "svm",
    "softmax_search": "softmax",
}


def source_dir(course_dir: Path = COURSE_DIR) -> Path:
    """The nbgrader source folder of the assignment (notebooks with solutions, hidden checks)."""
    return course_dir / "source" / ASSIGNMENT


def reference_dir(repo_root: Path = REPO_ROOT) -> Path:
    """The reference classifiers: ``solutions/cs231n/classifiers``."""
    return repo_root / "solutions" / "cs231n" / "classifiers"


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


def run_nbgrader(args: list[str], course_dir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course_dir``; raise ``RuntimeError`` with nbgrader's log when it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(
        command, cwd=course_dir, env=tool_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed in {course_dir} (exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    return done
