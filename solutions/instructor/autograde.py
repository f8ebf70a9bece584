"""Autograde a folder of submission zips: parallel, confined, resumable; grades CSV and feedback HTML.

Usage::

    python -m solutions.instructor.autograde SUBMISSIONS_DIR [--jobs N] [--force]

Per submission, in one of N parallel slots:

1. intake (:mod:`.intake`): the allow-listed files of the zip into ``solutions/submitted/<student>/``;
2. the trusted verdict on each graded function (:mod:`.verdict`): the student's code answers the hidden
   cases in a bubblewrap sandbox (:mod:`.sandbox`), the grader judges in its own process;
3. nbgrader's autograde (:mod:`.worker`) in another sandbox, the graded notebooks sent back by pipe;
4. the trusted verdict on each answer that is a computation (:mod:`.answer_checks`): the results line its
   test cell printed, read from the graded notebook, against the grader's own repetition of the computation;
5. scoring from the gradebook's own cell definitions and the verdicts (:mod:`.record`).

Student code only ever runs in a sandbox that holds the submission, the trusted package, the Python
installation and the grading data, read-only, and a private ``/tmp``; without bubblewrap the command
refuses to grade, unless ``--unsafe-no-sandbox`` is given (a warning in the output and every feedback page).

The main thread alone writes the gradebook (``solutions/gradebook.db``): nbgrader's SQLite gradebook
takes one writer. A submission whose zip has not changed since it was recorded is skipped (``--force``
regrades), so an interrupted run picks up where it stopped, and every finished submission is committed
as soon as it is scored. Then feedback HTML (``solutions/feedback/<student>/assignment1/``) and the grades
CSV (``solutions/cs231n-grades.csv``) are written.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import os
import queue
import shutil
import sys
import time
import traceback
from pathlib import Path

import nbformat
from tqdm import tqdm

from . import answer_checks, feedback, intake, record, sandbox, verdict
from .course import ASSIGNMENT, COURSE_DIR, NOTEBOOKS, REPO_ROOT, run_nbgrader, source_dir
from .worker import Settings, build_template, release_notebooks_dir, run_worker, sandbox_env

CIFAR_FILES = ("data_batch_1", "test_batch", "batches.meta")


@dataclasses.dataclass
class Batch:
    """What every submission of one grading run shares."""

    settings: Settings
    template: Path
    reference: verdict.Reference
    timers: verdict.ReferenceTimers
    answers: answer_checks.AnswerChecker
    model: dict[str, list[record.GradedCell]]
    hidden_timeout: float


@dataclasses.dataclass
class Graded:
    """One submission's outcome, ready for the single writer."""

    submission: intake.Submission
    scores: dict[str, list[record.CellScore]]
    result: dict  # what goes to grading-work/results/<student>.json
    autograded_dir: Path | None
    scratch: Path | None
    log_path: Path | None = None


def default_data_dir(repo_root: Path) -> Path:
    env = os.environ.get("CIFAR10_DIR")
    return Path(env) if env else repo_root / "datasets" / "cifar-10-batches-py"


def check_data(data_dir: Path) -> None:
    missing = [name for name in CIFAR_FILES if not (data_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 not found in {data_dir} (missing {', '.join(missing)}); the notebooks load it while "
            "grading. Run `bash datasets/get_datasets.sh` or pass --data DIR (or set CIFAR10_DIR)."
        )


def ensure_gradebook(course_dir: Path, template: Path) -> str:
    """The instructor's gradebook, created from the template's when missing; it must match the source.

    Both come from ``nbgrader generate_assignment`` on the same source notebooks, so a new gradebook is a
    copy of the template's (no second nbgrader run). A gradebook whose cells differ from the current source
    would score against stale tests, so that stops the run.
    """
    url = feedback.db_url(course_dir)
    template_model = record.course_model(feedback.db_url(template))
    if not (course_dir / "gradebook.db").is_file():
        shutil.copy2(template / "gradebook.db", course_dir / "gradebook.db")
        return url
    try:
        model = record.course_model(url)
    except Exception:  # no assignment yet in an existing gradebook: let nbgrader add it
        run_nbgrader(["generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.root={course_dir}"], course_dir)
        model = record.course_model(url)
    if model != template_model:
        raise ValueError(
            f"the gradebook {course_dir / 'gradebook.db'} was made from other source notebooks than "
            f"{source_dir(course_dir)}; update it with `cd {course_dir} && nbgrader generate_assignment "
            f"{ASSIGNMENT} --force` (keeps the grades) before grading"
        )
    return url


def reference_modules(hidden_checks):
    """What ``hidden_checks.run`` takes to run the reference implementation."""
    return hidden_checks.reference()


def _already_recorded(course_dir: Path, submission: intake.Submission, recorded: set[str]) -> bool:
    result = feedback.load_result(course_dir, submission.student)
    # A grader failure is retried; anything else recorded for the same zip stands.
    return (
        submission.student in recorded
        and result.get("sha256") == submission.sha256
        and result.get("status") != "grading error"
    )


def _copy_autograded(source: Path, target: Path) -> None:
    """Copy the autograded notebooks for formgrader, without HTML/JS outputs a submission could plant."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in NOTEBOOKS:
        path = source / f"{name}.ipynb"
        if not path.is_file():
            continue
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # unreadable: scoring already gave it 0
            continue
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = feedback.safe_outputs(cell.get("outputs", []))
        nbformat.write(notebook, target / f"{name}.ipynb")


def grade_one(submission: intake.Submission, batch: Batch, slot: int) -> Graded:
    """Intake, verdicts and nbgrader for one submission (runs in a slot thread; writes no gradebook)."""
    settings, model = batch.settings, batch.model
    course_dir = settings.course_dir
    result = {
        "sha256": submission.sha256,
        "source": submission.path.name,
        "timestamp": submission.timestamp.isoformat(),
        "notes": [],
        "verdicts": {},
        "notebooks": {},
        "sandbox": settings.sandbox.describe(),
    }
    try:
        taken = intake.take_in(
            submission, course_dir / "submitted", settings.repo_root, release_notebooks_dir(settings)
        )
    except intake.IntakeError as error:
        reason = f"submission not gradable: {error}"
        result.update(status="not gradable", notes=[reason], notebooks={n: "not gradable" for n in NOTEBOOKS})
        scores = {name: record.score_notebook(None, cells, {}, reason) for name, cells in model.items()}
        return Graded(submission, scores, result, None, None)
    notes = list(taken.notes)
    scratch = settings.work_dir / "slots" / f"slot-{slot}" / submission.student
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    bundle = verdict.build_bundle(scratch / "bundle", settings.repo_root, course_dir,
                                  verdict.student_modules_dir(taken.folder))
    checks, runs = verdict.check_submission(
        settings.sandbox, batch.reference, bundle, scratch, slot, sandbox_env(settings), batch.timers,
        name_timeout=batch.hidden_timeout,
    )
    work = run_worker(settings, batch.template, submission.student, taken.folder, scratch / "grading", slot)
    runs.append(work.outcome)
    result["peak_memory_mb"] = max((r.peak_memory_bytes or 0 for r in runs), default=0) / 2**20 or None
    notes.extend(work.problems)
    if work.outcome.timed_out:
        notes.append(f"grading stopped: the submission used its whole time budget ({settings.submission_timeout:g} s)")
    elif work.outcome.returncode not in (0, None):
        notes.append(f"the grading process failed (exit {work.outcome.returncode}); unfinished notebooks score 0")
    if any(r.memory_kills for r in runs):
        notes.append("the submission's processes hit its memory cap; the kernel stopped the largest")

    scores = {}
    for name, cells in model.items():
        run = work.notebooks.get(name)
        if name in taken.missing_notebooks:
            absent, status = "not submitted or not a valid notebook", "missing"
        elif run is None:
            absent, status = "grading did not reach this notebook (time budget or crash)", "not graded"
        elif run.status != "graded":
            absent, status = f"nbgrader could not grade it: {run.reason}", run.status
        else:
            absent, status = None, "graded"
        path = work.autograded_dir / f"{name}.ipynb" if status == "graded" else None
        if path is not None:
            checks.update(batch.answers.check(name, path))
        scores[name] = record.score_notebook(path, cells, checks, absent)
        result["notebooks"][name] = status
        if run is not None:
            notes.extend(f"{name}: {incident}" for incident in run.incidents)
        if absent:
            if name not in taken.missing_notebooks:  # intake already said why it is missing
                notes.append(f"{name}: {absent}")
        else:
            notes.extend(f"{name}: {s.note}" for s in scores[name] if s.note and s.note != "no response")
    result["verdicts"] = {name: dataclasses.asdict(check) for name, check in checks.items()}
    notes.extend(check.message for check in checks.values() if not check.passed)
    if settings.sandbox.unsafe:
        notes.insert(0, sandbox.UNSAFE_WARNING)
    statuses = set(result["notebooks"].values())
    result["status"] = "graded" if statuses == {"graded"} else "graded with problems"
    result["notes"] = list(dict.fromkeys(notes))  # keep order, drop repeats
    return Graded(submission, scores, result, work.autograded_dir, scratch, work.log_path)


def failed(submission: intake.Submission, model, work_dir: Path, error: Exception) -> Graded:
    """Zero scores and the reason, for a submission the grader itself could not process."""
    logs = work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{submission.student}.error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    reason = f"grading error ({type(error).__name__}: {error}); see grading-work/logs/{submission.student}.error.txt"
    result = {
        "sha256": submission.sha256, "source": submission.path.name, "timestamp": submission.timestamp.isoformat(),
        "status": "grading error", "notes": [reason], "verdicts": {}, "notebooks": {n: "not graded" for n in NOTEBOOKS},
    }
    scores = {name: record.score_notebook(None, cells, {}, reason) for name, cells in model.items()}
    return Graded(submission, scores, result, None, None)


def write_graded(graded: Graded, course_dir: Path, url: str) -> None:
    """The single writer: gradebook, autograded copies for formgrader, result record, scratch cleanup."""
    student = graded.submission.student
    target = course_dir / "autograded" / student / ASSIGNMENT
    if graded.autograded_dir is not None:
        _copy_autograded(graded.autograded_dir, target)
    else:
        shutil.rmtree(target, ignore_errors=True)
    record.record(url, student, graded.submission.timestamp, graded.scores)
    graded.result["score"] = sum(s.auto_score or 0.0 for cells in graded.scores.values() for s in cells)
    results = feedback.results_dir(course_dir)
    results.mkdir(parents=True, exist_ok=True)
    intake.write_json(results / f"{student}.json", graded.result)
    if graded.log_path is not None and graded.log_path.is_file():
        logs = course_dir / "grading-work" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copy2(graded.log_path, logs / f"{student}.log")  # nbgrader's log, for questions later
    if graded.scratch is not None:
        shutil.rmtree(graded.scratch, ignore_errors=True)


def grade_all(
    submissions_dir: Path,
    settings: Settings,
    jobs: int,
    force: bool = False,
    id_pattern: str = intake.DEFAULT_ID_PATTERN,
    hidden_timeout: float = verdict.DEFAULT_NAME_TIMEOUT,
    write_feedback: bool = True,
    csv_path: Path | None = None,
    progress: bool = True,
) -> dict:
    """Grade every submission in ``submissions_dir``; return a summary dict (graded, skipped, warnings).

    Raises
    ------
    sandbox.SandboxUnavailable
        When bubblewrap cannot run here (and ``--unsafe-no-sandbox`` was not given); the message says how
        to fix it.
    """
    course_dir = settings.course_dir
    check_data(settings.data_dir)
    if not (source_dir(course_dir) / "hidden_checks.py").is_file():
        raise FileNotFoundError(f"{source_dir(course_dir) / 'hidden_checks.py'} is missing")
    box = settings.sandbox
    claimed = contextlib.nullcontext()
    if box.uid(0) is not None:
        check_readable(settings.data_dir)
        sandbox.check_uid_range(box.uid_base, jobs)
        claimed = sandbox.claim_uids(box.uid_base, jobs)
    with claimed:
        box.check()  # under the claim: its probe runs as the first slot's uid
        return _grade_batch(submissions_dir, settings, jobs, force, id_pattern, hidden_timeout, write_feedback,
                            csv_path, progress)


def check_readable(folder: Path) -> None:
    """The grading uids read the data as "others": refuse a folder they could not read, with the fix."""
    for path in [folder, *folder.iterdir()]:
        needed = 0o005 if path.is_dir() else 0o004
        if path.stat().st_mode & needed != needed:
            raise ValueError(
                f"{path} is not readable by other users, and the grading sandbox reads the data as an unprivileged "
                f"uid; run `chmod -R o+rX {folder}` (the data is public) or pass another --data folder"
            )


def _grade_batch(submissions_dir, settings, jobs, force, id_pattern, hidden_timeout, write_feedback, csv_path,
                 progress) -> dict:
    """The body of :func:`grade_all`, run while this process holds the slots' uids."""
    course_dir = settings.course_dir
    template = build_template(settings)
    url = ensure_gradebook(course_dir, template)
    model = record.course_model(url)
    hidden_checks = verdict.load_hidden_checks(course_dir, settings.repo_root)
    reference = verdict.Reference(hidden_checks, reference_modules(hidden_checks))
    runner_bundle = verdict.reference_bundle(settings.work_dir / "reference-runner", settings.repo_root, course_dir)
    logs = settings.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    timers = verdict.ReferenceTimers(runner_bundle, logs, sandbox_env(settings))
    answers = answer_checks.AnswerChecker(
        answer_checks.Recomputer(course_dir, settings.data_dir, logs / "answer-checks.log"))
    batch = Batch(settings, template, reference, timers, answers, model, hidden_timeout)

    submissions, warnings = intake.find_submissions(submissions_dir, id_pattern)
    recorded = set(record.recorded_students(url))
    todo = [s for s in submissions.values() if force or not _already_recorded(course_dir, s, recorded)]
    skipped = sorted(set(submissions) - {s.student for s in todo})

    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)

    def in_slot(submission):
        slot = slots.get()
        try:
            return grade_one(submission, batch, slot)
        except Exception as error:  # a grader bug on one submission must not stop the batch
            return failed(submission, model, settings.work_dir, error)
        finally:
            slots.put(slot)

    graded_now = []
    bar = tqdm(total=len(todo), desc="grading", unit="submission", disable=not progress)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {executor.submit(in_slot, s): s for s in sorted(todo, key=lambda s: s.student)}
        for future in concurrent.futures.as_completed(futures):
            graded = future.result()
            write_graded(graded, course_dir, url)
            graded_now.append(graded.submission.student)
            bar.update()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        timers.close()
        answers.close()
        bar.close()

    if write_feedback:
        everyone = sorted(record.recorded_students(url))
        stale = [s for s in everyone if s in graded_now or not (course_dir / "feedback" / s / ASSIGNMENT / "index.html").is_file()]
        with tqdm(total=len(stale), desc="feedback", unit="student", disable=not progress or not stale) as fbar:
            feedback.render_all(course_dir, stale, jobs, progress=fbar.update)
    csv_file = feedback.export_csv(course_dir, csv_path or feedback.default_csv(course_dir))
    return {"graded": sorted(graded_now), "skipped": skipped, "warnings": warnings, "csv": csv_file,
            "sandbox": settings.sandbox.describe()}


def print_table(course_dir: Path, url: str, students: list[str] | None = None) -> None:
    """Print one line per student: score, status and the first note."""
    rows = record.recorded_students(url)
    for student in sorted(students or rows):
        entry = rows[student]
        result = feedback.load_result(course_dir, student)
        notes = result.get("notes", [])
        first = f"  ({notes[0][:90]}{' ...' if len(notes) > 1 else ''})" if notes else ""
        print(f"{student:<24} {entry['score']:>6g} / {entry['max_score']:<6g} {result.get('status', '?'):<22}{first}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submission zips (one per student)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: cores)")
    parser.add_argument("--force", action="store_true", help="regrade submissions already recorded")
    parser.add_argument("--id-pattern", default=intake.DEFAULT_ID_PATTERN,
                        help="regex with a student_id group matched on zip names (default: the name before .zip)")
    parser.add_argument("--course", type=Path, default=COURSE_DIR, help="nbgrader course folder (default: solutions/)")
    parser.add_argument("--data", type=Path, default=None, help="cifar-10-batches-py folder (default: $CIFAR10_DIR or datasets/)")
    parser.add_argument("--cell-timeout", type=float, default=60, help="seconds per notebook cell (default 60)")
    parser.add_argument("--submission-timeout", type=float, default=600, help="seconds per submission (default 600)")
    parser.add_argument("--hidden-timeout", type=float, default=verdict.DEFAULT_NAME_TIMEOUT,
                        help="seconds per function for the out-of-process hidden checks (default %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=4096,
                        help="memory cap of each sandboxed run in MB, and address space per process (default 4096)")
    parser.add_argument("--processes", type=int, default=256, help="processes and threads per submission (default 256)")
    parser.add_argument("--uid-base", type=int, default=sandbox.DEFAULT_UID_BASE,
                        help="first of the unprivileged uids used when grading as root (default %(default)s)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without bubblewrap: student code can read and change everything the grader can")
    parser.add_argument("--csv", type=Path, default=None, help=f"grades CSV (default: <course>/{feedback.CSV_NAME})")
    parser.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    return parser


def settings_from_args(args) -> Settings:
    course_dir = args.course.resolve()
    return Settings(
        course_dir=course_dir,
        repo_root=REPO_ROOT,
        work_dir=course_dir / "grading-work",
        data_dir=(args.data or default_data_dir(REPO_ROOT)).resolve(),
        cell_timeout=args.cell_timeout,
        submission_timeout=args.submission_timeout,
        sandbox=sandbox.Sandbox(
            sandbox.Limits(memory_bytes=args.memory_mb << 20, processes=args.processes),
            uid_base=args.uid_base, unsafe=args.unsafe_no_sandbox,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.jobs < 1:
        print("--jobs must be at least 1", file=sys.stderr)
        return 2
    settings = settings_from_args(args)
    if settings.sandbox.unsafe:
        print(f"WARNING: {sandbox.UNSAFE_WARNING}", file=sys.stderr)
    started = time.monotonic()
    try:
        summary = grade_all(
            args.submissions.resolve(), settings, args.jobs, force=args.force, id_pattern=args.id_pattern,
            hidden_timeout=args.hidden_timeout, write_feedback=not args.no_feedback, csv_path=args.csv,
        )
    except sandbox.SandboxUnavailable as error:
        print(f"autograde: {error}.\nGrading without a sandbox lets student code read the reference and change "
              "this machine; only if you accept that, pass --unsafe-no-sandbox.", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"autograde: {error}", file=sys.stderr)
        return 1
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print_table(settings.course_dir, feedback.db_url(settings.course_dir))
    elapsed = time.monotonic() - started
    print(f"graded {len(summary['graded'])}, skipped {len(summary['skipped'])} already recorded, "
          f"in {elapsed:.1f} s; grades: {summary['csv']}\nstudent code ran in: {summary['sandbox']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
