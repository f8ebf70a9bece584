"""Grading one submission: an ordered list of stages, each ``stage(job, shared) -> None``.

1. :func:`take_in`         the allow-listed files of the zip (:mod:`instructor.intake`);
2. :func:`check_functions` the trusted verdict on each graded function: the student's code answers the
                           hidden cases in a sandbox, the grader judges (:mod:`.verdict`);
3. :func:`run_notebooks`   nbgrader's autograde in another sandbox, the notebooks sent back by pipe
                           (:mod:`.notebooks`);
4. :func:`check_answers`   the trusted verdict on each answer that is a computation (:mod:`.answers`);
5. :func:`score`           every graded cell scored from the gradebook's definitions and the verdicts
                           (:mod:`.score`).

A stage reads and extends the :class:`Job`; one that finds the submission cannot go on raises
:class:`Stop`. :func:`grade_submission` runs them and returns a :class:`Graded`: plain data that any process
(or machine) can hand to the one that owns the grading folder (:mod:`.store`), which alone writes it.
Nothing here writes outside the job's scratch folder.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
import traceback
from pathlib import Path

from instructor import intake
from instructor.course import NOTEBOOKS
from instructor.grade import answers, sandbox, score as scoring, verdict
from instructor.grade.config import GradingConfig
from instructor.grade.grading_data import grading_subset
from instructor.grade.notebooks import build_template, ignore_pattern, release_notebooks_dir, run_worker, sandbox_env
from instructor.grade.result import (NOTEBOOK_GRADED, NOTEBOOK_MISSING, NOTEBOOK_NOT_GRADABLE, NOTEBOOK_NOT_GRADED,
                                     Check, Result, Status)

LOG_LIMIT = 1 << 20  # characters of the grading log a result carries


@dataclasses.dataclass
class Shared:
    """What every submission graded by one process shares: built once, then read by every slot.

    ``model`` is the gradebook's graded cells per notebook; ``reference`` holds the hidden cases and the
    reference's answers; ``timers`` and ``answers`` are trusted helper processes (closed by :meth:`close`).
    """

    config: GradingConfig
    template: Path
    model: dict[str, list[scoring.GradedCell]]
    reference: verdict.Reference
    timers: verdict.ReferenceTimers
    answers: answers.AnswerChecker
    ignored: re.Pattern | None = None

    @classmethod
    def open(cls, config: GradingConfig, model: dict[str, list[scoring.GradedCell]] | None = None) -> Shared:
        """Build the template course and the grading data, load the hidden checks, start the trusted helpers.

        ``model`` defaults to the template gradebook's (the grading folder's must equal it). The returned
        ``config`` reads the grading data (:mod:`.grading_data`) in place of ``config.data_dir``.
        """
        if config.quick_data:
            config = dataclasses.replace(config, data_dir=grading_subset(config.data_dir, config.work_dir / "grading-data"))
        template = build_template(config)
        if model is None:
            model = scoring.course_model(f"sqlite:///{template / 'gradebook.db'}")
        hidden_checks = verdict.load_hidden_checks(config.course_dir, config.repo_root)
        reference = verdict.Reference(hidden_checks, hidden_checks.reference())
        runner = verdict.reference_bundle(config.work_dir / "reference-runner", config.repo_root, config.course_dir)
        logs = config.work_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        timers = verdict.ReferenceTimers(runner, logs, sandbox_env(config))
        checker = answers.AnswerChecker(answers.Recomputer(config.course_dir, config.data_dir, logs / "answer-checks.log",
                                                           cache_dir=config.work_dir))
        return cls(config, template, model, reference, timers, checker, ignore_pattern(config.course_dir))

    def close(self) -> None:
        self.timers.close()
        self.answers.close()


@dataclasses.dataclass
class Job:
    """One submission on its way through the stages, in slot ``slot`` with the scratch folder ``scratch``."""

    submission: intake.Submission
    slot: int
    scratch: Path
    result: Result
    taken: intake.Intake | None = None
    checks: dict[str, Check] = dataclasses.field(default_factory=dict)
    runs: list[sandbox.Outcome] = dataclasses.field(default_factory=list)
    work: object | None = None  # notebooks.WorkerResult once the notebooks ran
    absent: dict[str, str] = dataclasses.field(default_factory=dict)  # notebook -> why it has no graded copy
    scores: dict[str, list[scoring.CellScore]] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)

    def graded_path(self, name: str) -> Path | None:
        """The graded notebook ``name`` in the scratch folder, or None when it has none."""
        if self.work is None or name in self.absent:
            return None
        return self.work.autograded_dir / f"{name}.ipynb"


class Stop(Exception):
    """The submission cannot go further: every notebook gets ``notebook_status`` and scores 0 for ``reason``."""

    def __init__(self, status: Status, reason: str, notebook_status: str):
        super().__init__(reason)
        self.status, self.reason, self.notebook_status = status, reason, notebook_status


@dataclasses.dataclass
class Graded:
    """One submission's outcome, as data: ready for :meth:`.store.GradingStore.save`."""

    result: Result
    scores: dict[str, list[scoring.CellScore]]
    notebooks: dict[str, str]  # notebook name -> graded notebook JSON (capped, without active outputs)
    log: str | None = None


# -- the stages --------------------------------------------------------------------------------------------

def take_in(job: Job, shared: Shared) -> None:
    """Extract the allow-listed files of the zip, with the release's cells around the student's answers."""
    try:
        job.taken = intake.take_in(job.submission, job.scratch / "submitted", shared.config.repo_root,
                                   release_notebooks_dir(shared.config))
    except intake.IntakeError as error:
        raise Stop(Status.NOT_GRADABLE, f"submission not gradable: {error}", NOTEBOOK_NOT_GRADABLE) from None
    job.notes.extend(job.taken.notes)
    for name in job.taken.missing_notebooks:
        job.absent[name] = "not submitted or not a valid notebook"


def check_functions(job: Job, shared: Shared) -> None:
    """The trusted verdict on every graded function, the student's code running in a sandbox."""
    config = shared.config
    bundle = verdict.build_bundle(job.scratch / "bundle", config.repo_root, config.course_dir,
                                  verdict.student_modules_dir(job.taken.folder))
    checks, runs = verdict.check_submission(config.sandbox, shared.reference, bundle, job.scratch, job.slot,
                                            sandbox_env(config), shared.timers, name_timeout=config.hidden_timeout)
    job.checks.update(checks)
    job.runs.extend(runs)


def run_notebooks(job: Job, shared: Shared) -> None:
    """nbgrader's autograde of every notebook in a sandbox; which notebooks came back graded, and why not."""
    config = shared.config
    work = run_worker(config, shared.template, job.taken.folder, job.scratch / "grading", job.slot, shared.ignored)
    job.work = work
    job.runs.append(work.outcome)
    job.notes.extend(work.problems)
    if work.outcome.timed_out:
        job.notes.append(f"grading stopped: the submission used its whole time budget ({config.submission_timeout:g} s)")
    elif work.outcome.returncode not in (0, None):
        job.notes.append(f"the grading process failed (exit {work.outcome.returncode}); unfinished notebooks score 0")
    for name in NOTEBOOKS:
        run = work.notebooks.get(name)
        if run is not None:
            job.notes.extend(f"{name}: {incident}" for incident in run.incidents)
            job.result.notebook_seconds[name] = [run.kernel_seconds, run.seconds]
        if name in job.absent:
            job.result.notebooks[name] = NOTEBOOK_MISSING
        elif run is None:
            job.absent[name] = "grading did not reach this notebook (time budget or crash)"
            job.result.notebooks[name] = NOTEBOOK_NOT_GRADED
        elif run.status != NOTEBOOK_GRADED:
            job.absent[name] = f"nbgrader could not grade it: {run.reason}"
            job.result.notebooks[name] = run.status
        else:
            job.result.notebooks[name] = NOTEBOOK_GRADED
        if name in job.absent and name not in job.taken.missing_notebooks:  # intake already said why
            job.notes.append(f"{name}: {job.absent[name]}")


def check_answers(job: Job, shared: Shared) -> None:
    """The trusted verdict on each computed answer, from the results line its test cell printed."""
    for name in NOTEBOOKS:
        path = job.graded_path(name)
        if path is not None:
            job.checks.update(shared.answers.check(name, path))


def score(job: Job, shared: Shared) -> None:
    """Score every graded cell from the gradebook's definitions and the verdicts; the result's status."""
    for name, cells in shared.model.items():
        job.scores[name] = scoring.score_notebook(job.graded_path(name), cells, job.checks, job.absent.get(name))
        if name not in job.absent:
            job.notes.extend(f"{name}: {s.note}" for s in job.scores[name] if s.note and s.note != "no response")
    job.notes.extend(check.message for check in job.checks.values() if not check.passed)
    statuses = set(job.result.notebooks.values())
    job.result.status = Status.GRADED if statuses == {NOTEBOOK_GRADED} else Status.WITH_PROBLEMS


STAGES = (take_in, check_functions, run_notebooks, check_answers, score)


# -- running them ------------------------------------------------------------------------------------------

def new_result(submission: intake.Submission, config: GradingConfig) -> Result:
    return Result(student=submission.student, sha256=submission.sha256, source=submission.path.name,
                  timestamp=submission.timestamp.isoformat(), sandbox=config.sandbox.describe())


def zero_scores(shared: Shared, reason: str) -> dict[str, list[scoring.CellScore]]:
    return {name: scoring.score_notebook(None, cells, {}, reason) for name, cells in shared.model.items()}


def grade_submission(submission: intake.Submission, shared: Shared, slot: int, stages=STAGES) -> Graded:
    """Run ``stages`` on one submission in slot ``slot``; never raises for anything the submission does.

    A grader failure (a bug, a full disk) becomes a :data:`Status.ERROR` result with the traceback as its
    log, so one submission cannot stop a batch; a re-run tries it again.
    """
    config = shared.config
    scratch = config.work_dir / "slots" / f"slot-{slot}" / submission.student
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    job = Job(submission, slot, scratch, new_result(submission, config))
    try:
        for stage in stages:
            started, thread_cpu, runs = time.monotonic(), time.thread_time(), len(job.runs)
            try:
                stage(job, shared)
            finally:
                # Wall time, and CPU time: this slot thread's own plus every sandboxed run the stage started
                # (counted by the runs' control groups; the trusted helpers are the batch's, counted apart).
                job.result.seconds[stage.__name__] = round(time.monotonic() - started, 3)
                sandboxed = sum(run.cpu_seconds or 0.0 for run in job.runs[runs:])
                job.result.cpu_seconds[stage.__name__] = round(time.thread_time() - thread_cpu + sandboxed, 3)
                job.result.sandbox_cpu_seconds = round(job.result.sandbox_cpu_seconds + sandboxed, 3)
        return _finished(job, shared)
    except Stop as stop:
        job.result.status = stop.status
        job.result.notes = [stop.reason]
        job.result.notebooks = {name: stop.notebook_status for name in NOTEBOOKS}
        return Graded(job.result, zero_scores(shared, stop.reason), {})
    except Exception as error:  # a grader bug on one submission must not stop the batch
        reason = f"grading error ({type(error).__name__}: {error}); see logs/{submission.student}.log in the grading folder"
        job.result.status = Status.ERROR
        job.result.notes = [reason]
        job.result.verdicts = {}
        job.result.notebooks = {name: NOTEBOOK_NOT_GRADED for name in NOTEBOOKS}
        return Graded(job.result, zero_scores(shared, reason), {}, traceback.format_exc())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _finished(job: Job, shared: Shared) -> Graded:
    """The job's outcome as data: verdicts, notes in order without repeats, graded notebooks, the log."""
    result = job.result
    result.verdicts = dict(job.checks)
    peak = max((run.peak_memory_bytes or 0 for run in job.runs), default=0)
    result.peak_memory_mb = peak / 2**20 or None
    if any(run.memory_kills for run in job.runs):
        job.notes.append("the submission's processes hit its memory cap; the kernel stopped the largest")
    if shared.config.sandbox.unsafe:
        job.notes.insert(0, sandbox.UNSAFE_WARNING)
    result.notes = list(dict.fromkeys(job.notes))
    notebooks = {name: path.read_text(encoding="utf-8") for name in NOTEBOOKS
                 if (path := job.graded_path(name)) is not None and path.is_file()}
    log = None
    if job.work is not None and job.work.log_path.is_file():
        log = job.work.log_path.read_text(encoding="utf-8", errors="replace")[-LOG_LIMIT:]
    return Graded(result, job.scores, notebooks, log)
