"""Score a graded submission from trusted facts and record it in the instructor's gradebook (one writer).

Nothing the grading sandbox sent is believed: the autograded notebooks are parsed again, every graded
cell is matched by ``grade_id`` against the instructor's gradebook (points, lockedness and the checksum of
the test code come from there). A ``hidden_NAME`` cell scores exactly what the trusted verdict on NAME says
(:mod:`instructor.grade.verdict`): the hidden checks never run in the student's kernel. A visible
``test_NAME`` cell can be faked from inside the kernel, so it is capped by the trusted verdict on NAME: it
needs a function that really works, or, after an answer that is a computation, results that the grader's
own repetition of that computation confirms (:mod:`instructor.grade.answers`).

Only the grading folder's store (:mod:`.store`), in the process that owns it, calls :func:`record`:
nbgrader's SQLite gradebook takes one writer.
"""

from __future__ import annotations

import dataclasses
import warnings
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum, determine_grade
from sqlalchemy.exc import SAWarning

from instructor.course import ASSIGNMENT, CHECKED_ANSWERS, GRADED_FUNCTIONS, NOTEBOOKS
from instructor.fences import HIDDEN_CELL_PREFIX, TEST_CELL_PREFIX
from instructor.grade.result import Check


@dataclasses.dataclass(frozen=True)
class GradedCell:
    """A graded cell as the instructor's gradebook defines it."""

    notebook: str
    name: str
    cell_type: str
    max_score: float
    solution: bool
    locked: bool
    checksum: str | None

    @property
    def verdict_name(self) -> str | None:
        """NAME of the trusted verdict that scores or caps this cell: ``test_NAME`` and ``hidden_NAME`` of a
        graded function, ``test_NAME`` of a checked answer; None for any other cell."""
        for prefix in (TEST_CELL_PREFIX, HIDDEN_CELL_PREFIX):
            rest = self.name[len(prefix):] if self.name.startswith(prefix) else None
            if rest in GRADED_FUNCTIONS or (prefix == TEST_CELL_PREFIX and rest in CHECKED_ANSWERS):
                return rest
        return None

    @property
    def manual(self) -> bool:
        return self.solution


@dataclasses.dataclass
class CellScore:
    cell: GradedCell
    auto_score: float | None  # None: waits for manual grading
    note: str | None = None


def course_model(db_url: str) -> dict[str, list[GradedCell]]:
    """The graded cells of every notebook of the assignment, read from the instructor's gradebook."""
    model: dict[str, list[GradedCell]] = {}
    with Gradebook(db_url) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        for notebook in assignment.notebooks:
            sources = {cell.name: cell for cell in notebook.source_cells}
            solutions = {cell.name for cell in notebook.solution_cells}
            model[notebook.name] = [
                GradedCell(
                    notebook=notebook.name,
                    name=cell.name,
                    cell_type=cell.cell_type,
                    max_score=float(cell.max_score),
                    solution=cell.name in solutions,
                    locked=bool(sources[cell.name].locked) if cell.name in sources else True,
                    checksum=sources[cell.name].checksum if cell.name in sources else None,
                )
                for cell in sorted(notebook.grade_cells, key=lambda c: c.name)
            ]
    missing = [name for name in NOTEBOOKS if name not in model]
    if missing:
        raise ValueError(f"the gradebook's {ASSIGNMENT} lacks the notebooks {missing}; rebuild it from the source")
    return model


def _restored_prefix(graded: GradedCell) -> str:
    """The comment nbgrader puts before a test cell it added back (``OverwriteCells.add_missing_cells``)."""
    return f"# This cell (id:{graded.name}) was missing from the submission. It was added back by nbgrader.\n\n"


def _trusted_view(cell, graded: GradedCell):
    """The submitted cell with nbgrader metadata replaced by the gradebook's (points, flags, checksum).

    A test cell that nbgrader added back keeps the course's code after nbgrader's comment line; the
    comment is dropped so that the checksum compares the code alone.
    """
    view = nbformat.from_dict(dict(cell))
    prefix = _restored_prefix(graded)
    if isinstance(view.get("source"), str) and view.source.startswith(prefix):
        view.source = view.source[len(prefix):]
    view.metadata = nbformat.from_dict({"nbgrader": {
        "grade": True,
        "solution": graded.solution,
        "locked": graded.locked,
        "grade_id": graded.name,
        "points": graded.max_score,
        "checksum": graded.checksum,
    }})
    view.cell_type = graded.cell_type
    return view


def score_notebook(path: Path | None, cells: list[GradedCell], verdicts: dict[str, Check], absent_reason: str | None) -> list[CellScore]:
    """Scores of one notebook's graded cells.

    Parameters
    ----------
    path : Path or None
        The autograded notebook, or None when there is none.
    cells : list of GradedCell
        The notebook's graded cells from the gradebook.
    verdicts : dict
        Trusted verdicts by name: graded functions and checked answers.
    absent_reason : str or None
        Why there is no autograded notebook (not submitted, grading failed); every cell scores 0.
    """
    notebook = None
    if path is not None and path.is_file():
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception as error:  # a notebook the worker mangled counts as not graded
            absent_reason = f"the autograded notebook could not be read ({type(error).__name__})"
    if notebook is None:
        reason = absent_reason or "the notebook was not graded"
        return [CellScore(cell, 0.0, reason) for cell in cells]

    by_id: dict[str, list] = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            by_id.setdefault(grade_id, []).append(cell)

    scores = []
    for graded in cells:
        found = by_id.get(graded.name, [])
        if not found:
            scores.append(CellScore(graded, 0.0, f"{graded.name}: cell missing from the graded notebook"))
            continue
        views = [_trusted_view(cell, graded) for cell in found]
        if graded.manual:
            # Unchanged answer cell: "no response", 0 points; otherwise it waits for the grader.
            answered = any(compute_checksum(view) != graded.checksum for view in views)
            scores.append(CellScore(graded, None if answered else 0.0, None if answered else "no response"))
            continue
        if graded.name.startswith(HIDDEN_CELL_PREFIX) and graded.verdict_name:
            # Its hidden code never ran in the sandbox (the release holds only a comment there): the trusted
            # verdict alone scores it.
            scores.append(CellScore(graded, 0.0))
            continue
        if graded.locked and any(compute_checksum(view) != graded.checksum for view in views):
            scores.append(CellScore(graded, 0.0, f"{graded.name}: the test code differs from the course's"))
            continue
        auto = min(min(max(determine_grade(view)[0] or 0.0, 0.0), graded.max_score) for view in views)
        scores.append(CellScore(graded, auto))
    return _apply_verdicts(scores, verdicts)


def _apply_verdicts(scores: list[CellScore], verdicts: dict[str, Check]) -> list[CellScore]:
    """Hidden cells score the trusted verdict; visible tests are capped by it.

    The kernel's result of a hidden cell means nothing (it runs the release's comment only); a visible test
    that passed in the kernel while its function or answer fails the trusted check scores 0, with the
    verdict's reason.
    """
    capped = []
    for score in scores:
        name = score.cell.verdict_name
        if name is None or score.auto_score is None:
            capped.append(score)
            continue
        check = verdicts.get(name, Check(False, f"{name}: not checked"))
        if score.cell.name.startswith(HIDDEN_CELL_PREFIX):
            capped.append(CellScore(score.cell, score.cell.max_score if check.passed else 0.0, score.note))
        elif not check.passed and score.auto_score > 0:
            note = f"{score.cell.name}: capped to 0 by the trusted check ({check.message})"
            capped.append(CellScore(score.cell, 0.0, note))
        else:
            capped.append(score)
    return capped


def record(db_url: str, student: str, timestamp: datetime | None, scores: dict[str, list[CellScore]]) -> None:
    """Create or update the student's submission with these scores; keep any manual grades.

    Like nbgrader's own autograder, a cell that already has a manual score stays flagged for review.
    """
    # nbgrader's creation of a submission triggers SQLAlchemy autoflush warnings that mean nothing here.
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(student)
        if timestamp is not None:
            gradebook.update_or_create_submission(ASSIGNMENT, student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(ASSIGNMENT, student)
        for notebook, cell_scores in scores.items():
            for cell_score in cell_scores:
                grade = gradebook.find_grade(cell_score.cell.name, notebook, ASSIGNMENT, student)
                grade.auto_score = cell_score.auto_score
                grade.needs_manual_grade = grade.manual_score is not None or cell_score.auto_score is None
                if cell_score.cell.solution:
                    comment = gradebook.find_comment(cell_score.cell.name, notebook, ASSIGNMENT, student)
                    comment.auto_comment = "No response." if cell_score.auto_score == 0.0 else None
        gradebook.db.commit()


def recorded_students(db_url: str) -> dict[str, dict]:
    """Every submission of the assignment in the gradebook, with its total scores."""
    with Gradebook(db_url) as gradebook:
        return {entry["student"]: entry for entry in gradebook.submission_dicts(ASSIGNMENT)}
