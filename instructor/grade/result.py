"""What grading one submission produces, as plain typed data: verdicts, the outcome, and its JSON form.

Every field is data (no open files, no paths into a grader's scratch), so a result can be computed on
one machine and recorded on another. The JSON form is what ``results/<student>.json`` of the grading
folder holds; :meth:`Result.from_json` reads it back and refuses nothing: a damaged file reads as absent.
"""

from __future__ import annotations

import dataclasses
import enum


@dataclasses.dataclass(frozen=True)
class Check:
    """The verdict on one function or one computed answer: ``passed`` and a message that never shows
    reference values. ``slowdown`` is the measured CPU-time ratio against the reference, for timed
    (vectorized) functions."""

    passed: bool
    message: str
    slowdown: float | None = None


class Status(str, enum.Enum):
    """How grading one submission ended (the ``status`` column of the grades CSV)."""

    GRADED = "graded"
    WITH_PROBLEMS = "graded with problems"  # some notebook missing, failed or unfinished: it scores 0
    NOT_GRADABLE = "not gradable"  # the zip itself was refused at intake
    ERROR = "grading error"  # the grader failed on it; a re-run tries again

    def __str__(self) -> str:
        return self.value


# Per-notebook states (the ``notebooks`` field): graded, or why not.
NOTEBOOK_GRADED = "graded"
NOTEBOOK_MISSING = "missing"
NOTEBOOK_NOT_GRADED = "not graded"
NOTEBOOK_NOT_GRADABLE = "not gradable"


@dataclasses.dataclass
class Result:
    """One submission's outcome, as the feedback pages, the CSV and a later run read it.

    Attributes
    ----------
    student : str
        Student id (a safe folder name, checked at intake).
    sha256 : str
        Digest of the zip that was graded; an unchanged zip is not graded again.
    source : str
        The zip's file name.
    timestamp : str
        Submission time, ISO 8601.
    status : Status
        How grading ended.
    notes : list of str
        What the student should know, in order, without repeats.
    verdicts : dict of str to Check
        Trusted verdicts by function or answer name.
    notebooks : dict of str to str
        Per notebook: ``graded`` or why not.
    sandbox : str or None
        How the student's code was confined (or the warning that it was not).
    peak_memory_mb : float or None
        Largest peak memory of the submission's sandboxed runs.
    score : float or None
        Automatic score, set when it is recorded.
    seconds : dict of str to float
        Wall-clock seconds of each grading stage.
    cpu_seconds : dict of str to float
        CPU seconds of each grading stage: the grader's own and its sandboxed runs'.
    sandbox_cpu_seconds : float
        The part of ``cpu_seconds`` spent in the submission's sandboxes (the rest is the grader's own).
    notebook_seconds : dict of str to list of float
        Per notebook, ``[kernel start, whole run]`` wall seconds as the sandbox reported them (for the cost
        breakdown only: nothing is scored from them).
    """

    student: str
    sha256: str
    source: str
    timestamp: str
    status: Status = Status.GRADED
    notes: list[str] = dataclasses.field(default_factory=list)
    verdicts: dict[str, Check] = dataclasses.field(default_factory=dict)
    notebooks: dict[str, str] = dataclasses.field(default_factory=dict)
    sandbox: str | None = None
    peak_memory_mb: float | None = None
    score: float | None = None
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    cpu_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    sandbox_cpu_seconds: float = 0.0
    notebook_seconds: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> Result | None:
        """The result a JSON object describes, or None when it is not one (damaged or from another version)."""
        try:
            fields = {field.name for field in dataclasses.fields(cls)}
            values = {key: value for key, value in data.items() if key in fields}
            values["status"] = Status(values.get("status", Status.ERROR.value))
            values["verdicts"] = {name: Check(**check) for name, check in values.get("verdicts", {}).items()}
            return cls(**values)
        except (TypeError, ValueError, AttributeError):
            return None
