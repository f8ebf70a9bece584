"""The shapes, run counts and folders of a benchmark run: the full setting and the ``--quick`` smoke setting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructor.course import REPO_ROOT, SHARED_ARCHIVE, source_dir  # noqa: F401 (SHARED_ARCHIVE: for the sections)


DEFAULT_JSON = REPO_ROOT / "bench-results" / "latest.json"
NOTEBOOK_SOURCE = source_dir()
WORK_DIR = REPO_ROOT / "bench-results" / "work"


@dataclass(frozen=True)
class BenchSettings:
    """What one run measures.

    Attributes
    ----------
    quick : bool
        Tiny shapes and generated data: a smoke run of the harness in seconds, not a measurement.
    dev_rows, full_rows : int
        Rows N of X (N, dim) for the loss benchmarks (the notebooks' dev set and training set).
    dim : int
        D, 3072 pixels plus the bias column.
    classes : int
        C.
    knn_train, knn_test : int
        Training and test examples of the kNN distance benchmark (D = 3072).
    knn_loop_rows : int
        Test rows the two looped distance functions are timed on (their cost is linear in the rows).
    train_iters, batch_size : int
        SGD steps and minibatch size of the training benchmark.
    runs, max_runs, budget_seconds :
        Every figure of a fast kernel is the median of at least ``runs`` timed pairs, and of more, up to
        ``max_runs``, while its time so far is under ``budget_seconds``.
    slow_runs : int
        Timed pairs of figures that take seconds per call (naive losses, looped distances, loading).
    heavy_runs : int
        Runs of each notebook and of each grading configuration (minutes each in the full setting).
    class_size : int
        Submissions of the class whose grading time is projected.
    grading_submissions : int
        Submissions graded per autograder run (at least 2, so that --jobs 2 has work for both cores).
    notebook_source : Path
        The folder of the solution notebooks (nbgrader's source folder of assignment1).
    work_dir : Path
        Scratch folder for data, bundle copies and fetched archives (inside the gitignored bench-results/).
    """

    quick: bool = False
    dev_rows: int = 500
    full_rows: int = 49000
    dim: int = 3073
    classes: int = 10
    knn_train: int = 5000
    knn_test: int = 500
    knn_loop_rows: int = 50
    train_iters: int = 1500
    batch_size: int = 200
    runs: int = 5
    max_runs: int = 21
    budget_seconds: float = 3.0
    slow_runs: int = 3
    heavy_runs: int = 2
    class_size: int = 500
    grading_submissions: int = 2
    notebook_source: Path = NOTEBOOK_SOURCE
    work_dir: Path = WORK_DIR

    def fast(self) -> dict:
        """Keyword arguments of :func:`timing.compare` for a kernel that takes milliseconds to a second."""
        return {"runs": self.runs, "max_runs": self.max_runs, "budget_seconds": self.budget_seconds}

    def slow(self) -> dict:
        """Keyword arguments of :func:`timing.compare` for work that takes seconds per call."""
        return {"runs": min(self.slow_runs, self.runs)}

    @classmethod
    def full(cls, **overrides) -> "BenchSettings":
        return cls(**overrides)

    @classmethod
    def quick_smoke(cls, **overrides) -> "BenchSettings":
        values = dict(quick=True, dev_rows=100, full_rows=1000, knn_train=200, knn_test=20, train_iters=20,
                      runs=3, max_runs=3, budget_seconds=0.0, slow_runs=2, heavy_runs=1)
        values.update(overrides)
        return cls(**values)
