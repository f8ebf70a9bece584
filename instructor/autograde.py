"""Autograde a folder of submission zips: parallel, sandboxed, resumable; grades CSV and feedback HTML.

Usage::

    python -m instructor.autograde SUBMISSIONS_DIR [--jobs N] [--force] [--out grading/]
    python -m instructor.autograde SUBMISSIONS_DIR --scheduler tcp://HOST:8786   # on a Dask cluster

Each submission goes through the stages of :mod:`instructor.grade.stages` (intake, the trusted checks of
its functions, nbgrader on its notebooks, the trusted checks of its computed answers, scoring) in one of N
parallel slots. Student code only ever runs in a sandbox that holds the submission, the trusted package, the
Python installation and the grading data, read-only, and a private ``/tmp``; without bubblewrap the command
refuses to grade, unless ``--unsafe-no-sandbox`` is given (a warning in the output and every feedback page).

Everything is written to the grading folder (``grading/`` by default, see :mod:`instructor.grade.store`),
by this process alone: nbgrader's SQLite gradebook takes one writer. A submission whose zip has not changed
since it was recorded is skipped (``--force`` regrades), so an interrupted run picks up where it stopped,
and every finished submission is recorded as soon as it is scored. Feedback pages are then rendered in one
pass for the students graded now, and the grades CSV is written.

With ``--scheduler``, the workers of a Dask cluster grade in place of the local slots, each in the same
sandbox, and this process still records everything (:mod:`instructor.grade.cluster`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import os
import json
import queue
import resource
import shutil
import sys
import time
from pathlib import Path

from tqdm import tqdm

from instructor import intake
from instructor.course import ASSIGNMENT, COURSE_DIR, DEFAULT_GRADING_DIR, REPO_ROOT, source_dir
from instructor.feedback import pages as feedback
from instructor.grade import sandbox, score, verdict
from instructor.grade.config import GradingConfig
from instructor.grade.result import Status
from instructor.grade.stages import Shared, grade_submission
from instructor.grade.store import CSV_NAME, GradingStore
from instructor.nbgrader_course import generate_assignment

CIFAR_FILES = ("data_batch_1", "test_batch", "batches.meta")


@dataclasses.dataclass
class RunOptions:
    """How a batch is run (what it grades is the :class:`GradingConfig`)."""

    jobs: int = 1
    force: bool = False
    id_pattern: str = intake.DEFAULT_ID_PATTERN
    write_feedback: bool = True
    csv_path: Path | None = None
    progress: bool = True
    scheduler: str | None = None  # a Dask scheduler's address: its workers grade (instructor.grade.cluster)


@dataclasses.dataclass
class Costs:
    """What a run spent outside the stages' own accounts, for the cost breakdown of ``make bench``.

    ``save_*`` is recording (gradebook, graded notebooks, result) in this thread; ``feedback_*`` the pages
    and their worker processes; ``sandboxes_cpu`` the student sandboxes of the submissions graded (their
    control groups); ``reference_timers_cpu`` the trusted reference runners. The rest of the run's CPU is
    this process and its other children (the template build, the answer recomputation).
    """

    save_seconds: float = 0.0
    save_cpu: float = 0.0
    feedback_seconds: float = 0.0
    feedback_cpu: float = 0.0
    sandboxes_cpu: float = 0.0
    reference_timers_cpu: float = 0.0

    @contextlib.contextmanager
    def measure(self, what: str, thread_only: bool = False):
        """Add the wall and CPU seconds of the block to ``what``: this thread's CPU when ``thread_only`` (the
        slots work meanwhile), else this process's and its reaped children's."""
        clock = time.thread_time if thread_only else process_cpu_seconds
        started, cpu = time.monotonic(), clock()
        try:
            yield
        finally:
            setattr(self, f"{what}_seconds", getattr(self, f"{what}_seconds") + time.monotonic() - started)
            setattr(self, f"{what}_cpu", getattr(self, f"{what}_cpu") + clock() - cpu)


def process_cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every child process reaped so far."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


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


def ensure_gradebook(store: GradingStore, template: Path) -> None:
    """The grading folder's gradebook, created from the template's when missing; it must match the source.

    Both come from ``nbgrader generate_assignment`` on the same source notebooks, so a new gradebook is a
    copy of the template's (no second nbgrader run). A gradebook whose cells differ from the current source
    would score against stale tests, so that stops the run.
    """
    template_model = score.course_model(f"sqlite:///{template / 'gradebook.db'}")
    if not store.gradebook.is_file():
        shutil.copy2(template / "gradebook.db", store.gradebook)
        return
    try:
        model = score.course_model(store.db_url)
    except Exception:  # no assignment yet in an existing gradebook: let nbgrader add it
        generate_assignment(store.root)
        model = score.course_model(store.db_url)
    if model != template_model:
        raise ValueError(
            f"the gradebook {store.gradebook} was made from other source notebooks than "
            f"{source_dir(store.course_dir)}; update it with `cd {store.root} && nbgrader generate_assignment "
            f"{ASSIGNMENT} --force` (keeps the grades) before grading"
        )


def _already_recorded(store: GradingStore, submission: intake.Submission, recorded: set[str]) -> bool:
    result = store.result(submission.student)
    # A grader failure is retried; anything else recorded for the same zip stands.
    return (
        submission.student in recorded and result is not None
        and result.sha256 == submission.sha256 and result.status is not Status.ERROR
    )


def grade_all(submissions_dir: Path, config: GradingConfig, store: GradingStore, options: RunOptions) -> dict:
    """Grade every submission in ``submissions_dir``; return a summary dict (graded, skipped, warnings, csv).

    With ``options.scheduler`` the cluster's workers grade, with their own data, uids and sandbox, and
    :func:`instructor.grade.cluster.grade_batch` says what it raises.

    Raises
    ------
    sandbox.SandboxUnavailable
        When bubblewrap cannot run here (and ``--unsafe-no-sandbox`` was not given); the message says how
        to fix it.
    """
    if options.scheduler is not None:
        from instructor.grade import cluster  # Dask is imported only for a cluster run

        return cluster.grade_batch(submissions_dir, config, store.open(), options)
    check_data(config.data_dir)
    if not (source_dir(config.course_dir) / "hidden_checks.py").is_file():
        raise FileNotFoundError(f"{source_dir(config.course_dir) / 'hidden_checks.py'} is missing")
    box = config.sandbox
    claimed = contextlib.nullcontext()
    if box.uid(0) is not None:
        check_readable(config.data_dir)
        sandbox.check_uid_range(box.uid_base, options.jobs)
        claimed = sandbox.claim_uids(box.uid_base, options.jobs)
    with claimed:
        box.check()  # under the claim: its probe runs as the first slot's uid
        return _grade_batch(submissions_dir, config, store.open(), options)


def check_readable(folder: Path) -> None:
    """The grading uids read the data as "others": refuse a folder they could not read, with the fix."""
    for path in [folder, *folder.iterdir()]:
        needed = 0o005 if path.is_dir() else 0o004
        if path.stat().st_mode & needed != needed:
            raise ValueError(
                f"{path} is not readable by other users, and the grading sandbox reads the data as an unprivileged "
                f"uid; run `chmod -R o+rX {folder}` (the data is public) or pass another --data folder"
            )


def _grade_batch(submissions_dir: Path, config: GradingConfig, store: GradingStore, options: RunOptions) -> dict:
    """The body of :func:`grade_all`, run while this process holds the slots' uids."""
    store.clear_scratch()
    costs = Costs()
    shared = Shared.open(config)
    try:
        ensure_gradebook(store, shared.template)
        submissions, warnings = intake.find_submissions(submissions_dir, options.id_pattern)
        recorded = set(store.recorded())
        todo = [s for s in submissions.values() if options.force or not _already_recorded(store, s, recorded)]
        skipped = sorted(set(submissions) - {s.student for s in todo})
        graded_now = _grade_in_slots(sorted(todo, key=lambda s: s.student), shared, store, options, costs)
    finally:
        shared.close()
        costs.reference_timers_cpu = shared.timers.cpu_seconds
    if options.write_feedback:
        everyone = sorted(store.recorded())
        stale = [s for s in everyone if s in graded_now or not (store.feedback(s) / "index.html").is_file()]
        with costs.measure("feedback"), \
                tqdm(total=len(stale), desc="feedback", unit="student", disable=not options.progress or not stale) as bar:
            feedback.render_all(store, stale, options.jobs, progress=bar.update)
    csv_file = feedback.export_csv(store, options.csv_path or store.default_csv)
    costs.sandboxes_cpu = sum(r.sandbox_cpu_seconds for s in graded_now if (r := store.result(s)) is not None)
    return {"graded": sorted(graded_now), "skipped": skipped, "warnings": warnings, "csv": csv_file,
            "sandbox": config.sandbox.describe(), "costs": dataclasses.asdict(costs),
            "grading_data": str(shared.config.data_dir)}


def _grade_in_slots(todo: list[intake.Submission], shared: Shared, store: GradingStore, options: RunOptions,
                    costs: Costs) -> list[str]:
    """Grade ``todo`` in ``options.jobs`` slots; this thread alone records each as it finishes."""
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(options.jobs):
        slots.put(slot)

    def in_slot(submission):
        slot = slots.get()
        try:
            return grade_submission(submission, shared, slot)
        finally:
            slots.put(slot)

    graded_now = []
    bar = tqdm(total=len(todo), desc="grading", unit="submission", disable=not options.progress)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs)
    try:
        futures = [executor.submit(in_slot, s) for s in todo]
        for future in concurrent.futures.as_completed(futures):
            graded = future.result()
            with costs.measure("save", thread_only=True):
                store.save(graded.result, graded.scores, graded.notebooks, graded.log)
            graded_now.append(graded.result.student)
            bar.update()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return graded_now


def print_table(store: GradingStore, students: list[str] | None = None) -> None:
    """Print one line per student: score, status and the first note."""
    rows = store.recorded()
    for student in sorted(students or rows):
        entry = rows[student]
        result = store.result(student)
        notes = result.notes if result else []
        status = str(result.status) if result else "?"
        first = f"  ({notes[0][:90]}{' ...' if len(notes) > 1 else ''})" if notes else ""
        print(f"{student:<24} {entry['score']:>6g} / {entry['max_score']:<6g} {status:<22}{first}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submission zips (one per student)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: cores)")
    parser.add_argument("--force", action="store_true", help="regrade submissions already recorded")
    parser.add_argument("--id-pattern", default=intake.DEFAULT_ID_PATTERN,
                        help="regex with a student_id group matched on zip names (default: the name before .zip)")
    parser.add_argument("--out", type=Path, default=DEFAULT_GRADING_DIR,
                        help="grading folder: gradebook, feedback, grades CSV (default: grading/, or $CS231N_GRADING_DIR)")
    parser.add_argument("--course", type=Path, default=COURSE_DIR,
                        help="source course with nbgrader_config.py and source/ (default: solutions/)")
    parser.add_argument("--data", type=Path, default=None, help="cifar-10-batches-py folder (default: $CIFAR10_DIR or datasets/)")
    parser.add_argument("--full-data", action="store_true",
                        help="let the notebooks load all of the data, not only the part they grade on (slower; "
                             "for notebooks whose quick mode reads more than the first 5,500 + 500 images)")
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
    parser.add_argument("--csv", type=Path, default=None, help=f"grades CSV (default: <out>/{CSV_NAME})")
    parser.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="grade on the workers of this Dask scheduler instead of here (instructor/README.md, "
                             "\"Grading on many machines\"); --jobs then only renders the feedback pages")
    parser.add_argument("--summary-json", type=Path, default=None,
                        help="also write the run's summary (graded, skipped, costs) as JSON to this file")
    return parser


def config_from_args(args, store: GradingStore) -> GradingConfig:
    return GradingConfig(
        course_dir=args.course.resolve(),
        repo_root=REPO_ROOT,
        work_dir=store.work,
        data_dir=(args.data or default_data_dir(REPO_ROOT)).resolve(),
        cell_timeout=args.cell_timeout,
        submission_timeout=args.submission_timeout,
        hidden_timeout=args.hidden_timeout,
        quick_data=not args.full_data,
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
    if args.scheduler is not None and (args.data is not None or args.uid_base != sandbox.DEFAULT_UID_BASE):
        print("--data and --uid-base set up grading on this machine; with --scheduler each worker reads its own data "
              "($CIFAR10_DIR or datasets/cifar-10-batches-py) and claims its own grading uids (from $CS231N_UID_BASE): "
              "set them where the workers start", file=sys.stderr)
        return 2
    store = GradingStore(args.out, args.course)
    config = config_from_args(args, store)
    if config.sandbox.unsafe:
        print(f"WARNING: {sandbox.UNSAFE_WARNING}", file=sys.stderr)
    options = RunOptions(jobs=args.jobs, force=args.force, id_pattern=args.id_pattern,
                         write_feedback=not args.no_feedback, csv_path=args.csv, scheduler=args.scheduler)
    started = time.monotonic()
    try:
        summary = grade_all(args.submissions.resolve(), config, store, options)
    except sandbox.SandboxUnavailable as error:
        print(f"autograde: {error}.\nGrading without a sandbox lets student code read the reference and change "
              "this machine; only if you accept that, pass --unsafe-no-sandbox.", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"autograde: {error}", file=sys.stderr)
        return 1
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.summary_json is not None:
        args.summary_json.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    print_table(store)
    elapsed = time.monotonic() - started
    print(f"graded {len(summary['graded'])}, skipped {len(summary['skipped'])} already recorded, "
          f"in {elapsed:.1f} s; grades: {summary['csv']}\nstudent code ran in: {summary['sandbox']}\n"
          f"feedback pages: {store.root / 'feedback'}; formgrader: `cd {store.root} && jupyter server`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
