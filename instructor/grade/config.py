"""How one grading run grades: the folders it reads, its time budgets and its sandbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from instructor.grade import sandbox


@dataclasses.dataclass
class GradingConfig:
    """Everything a grading run needs to know; one instance per run.

    Attributes
    ----------
    course_dir : Path
        The source course (``solutions/``): its nbgrader configuration, source notebooks and hidden checks.
    repo_root : Path
        The instructor's bundle: the trusted ``cs231n`` package and the reference classifiers.
    work_dir : Path
        Scratch of the grader on this machine (the grading folder's ``work/``); never seen by a sandbox.
    data_dir : Path
        The ``cifar-10-batches-py`` folder the notebooks load (shown read-only in the sandbox).
    cell_timeout, submission_timeout : float
        Wall-clock budgets in seconds per notebook cell and per submission.
    hidden_timeout : float
        Wall-clock seconds each graded function may take on its hidden cases and timing runs.
    quick_data : bool
        Grade on the part of ``data_dir`` that the notebooks read in quick mode (:mod:`.grading_data`), made
        once per run; False grades on all of it (the same scores, at more cost per submission).
    sandbox : Sandbox
        How student code is sandboxed, with its caps and grading uids.
    """

    course_dir: Path
    repo_root: Path
    work_dir: Path
    data_dir: Path
    cell_timeout: float = 60
    submission_timeout: float = 600
    hidden_timeout: float = 30.0
    quick_data: bool = True
    sandbox: sandbox.Sandbox = dataclasses.field(default_factory=sandbox.Sandbox)
