"""Autograding throughput: seconds per submission with ``--jobs 1`` and ``--jobs 2``, and a class projected.

The submissions are the reference submission (the release notebooks with every answer cell filled in,
and the reference classifiers), packed by ``cs231n.submission.write_zip`` as ``collectSubmission.sh``
does, several copies under different student ids. They are graded by the real autograder
(``python -m instructor.autograde``, nbgrader, confinement, feedback and CSV included) in a copy
of the course inside ``bench-results/work``, so the instructor's gradebook is never touched. nbgrader runs
the notebooks in their grading setting (quick mode). The two job counts run alternately, ``--force`` each;
a third run with nothing to regrade measures the fixed work of a run, which is taken off the per-submission
figures (a class pays it once).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from cs231n.course import NOTEBOOKS

from .report import Report, Row, Target
from .settings import REPO_ROOT
from .timing import Stats, run_child

AUTOGRADER = REPO_ROOT / "instructor" / "autograde.py"
SUBMISSION_BUDGET = 60.0  # seconds per submission, serial
SPEED_UP_TARGET = 1.7  # --jobs 2 against --jobs 1 on two cores
NIGHT_SECONDS = 8 * 3600


def missing_parts(source_dir: Path) -> list:
    """What the section needs and does not find (empty when it can run)."""
    needed = [AUTOGRADER, REPO_ROOT / "cs231n" / "submission.py", source_dir / "hidden_checks.py"]
    needed += [source_dir / f"{name}.ipynb" for name in NOTEBOOKS]
    return [str(path) for path in needed if not path.is_file()]


def prepare(work: Path, source_dir: Path, count: int) -> tuple:
    """A scratch course (config and source) and ``count`` reference submissions; returns their folders."""
    from cs231n.submission import write_zip
    from instructor.demo import reference_files, source_notebooks
    from instructor.course import GRADED_CALLS, HIDDEN_CHECKS
    from instructor.nbgrader_course import scratch_course
    from instructor.release.build import generate_notebooks

    shutil.rmtree(work, ignore_errors=True)
    course = scratch_course(work / "course", source_dir.parents[1],
                            [(source_dir / name, name) for name in (HIDDEN_CHECKS, GRADED_CALLS)])
    files = reference_files(generate_notebooks(course), source_notebooks(course))
    submissions = work / "submissions"
    submissions.mkdir()
    for index in range(count):
        write_zip(files, submissions / f"student{index + 1:03d}.zip")
    return course, submissions


def grade(course: Path, submissions: Path, data_dir: Path, jobs: int, force: bool = True, extra=()) -> float:
    """Wall seconds of one autograder run over every submission with ``jobs`` slots (all regraded when
    ``force``; else every recorded submission is skipped and only the fixed work is left), with ``extra``
    options."""
    command = [sys.executable, "-m", "instructor.autograde", str(submissions), "--jobs", str(jobs),
               "--course", str(course), "--out", str(course.parent / "grading"), "--data", str(data_dir)] + (["--force"] if force else []) + list(extra)
    result = run_child(command, cwd=str(REPO_ROOT), timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"the autograder failed (exit {result.returncode}): {result.stderr.strip()[-800:]}")
    return result.seconds


def run_grading(report: Report, data, settings) -> None:
    """Rows: serial seconds per submission against 60 s, --jobs 2 speed-up against 1.7x, a class projected."""
    section = "grading"
    missing = missing_parts(settings.notebook_source)
    if missing:
        report.skip(section, f"{', '.join(missing)} absent")
        return
    count = settings.grading_submissions
    course, submissions = prepare(settings.work_dir / "grading", settings.notebook_source, count)
    data_dir = data.cifar_folder(prefer_real=True)
    serial, parallel, fixed = [], [], []
    for index in tqdm(range(settings.heavy_runs), desc="grading", leave=False):
        # Alternate which job count goes first, as in timing.compare.
        if index % 2 == 0:
            serial.append(grade(course, submissions, data_dir, 1))
            parallel.append(grade(course, submissions, data_dir, 2))
        else:
            parallel.append(grade(course, submissions, data_dir, 2))
            serial.append(grade(course, submissions, data_dir, 1))
        # Nothing left to grade: start-up, template, feedback check and CSV, the cost of any run.
        fixed.append(grade(course, submissions, data_dir, 1, force=False))
    # Seconds per submission beyond the fixed work of a run, which a class of 500 pays once.
    per_serial = Stats.of([(s - f) / count for s, f in zip(serial, fixed)])
    per_parallel = Stats.of([(p - f) / count for p, f in zip(parallel, fixed)])
    fixed_stats = Stats.of(fixed)
    note = f"{count} submissions per run, the run's fixed work ({fixed_stats.median:.0f} s) taken off"
    if data.is_generated(data_dir):
        note += "; generated data"
    report.add(Row(section, "seconds per submission, --jobs 1 (grading setting)", per_serial, "s",
                   Stats.of([s / SUBMISSION_BUDGET for s in per_serial.values]), f"budget {SUBMISSION_BUDGET:g} s",
                   Target(1.0, text=f"{SUBMISSION_BUDGET:g} s"), note))
    report.add(Row(section, "--jobs 2 speed-up over --jobs 1", per_parallel, "s",
                   Stats.of([s / p for s, p in zip(per_serial.values, per_parallel.values)]),
                   "jobs 1 / jobs 2 seconds per submission", Target(SPEED_UP_TARGET, kind="min", text="two cores"),
                   f"measured: seconds per submission with --jobs 2; whole runs "
                   f"{Stats.of([s / p for s, p in zip(serial, parallel)]).median:.2f}x"))
    projected = Stats.of([f + settings.class_size * p for f, p in zip(fixed, per_parallel.values)])
    report.add(Row(section, f"class of {settings.class_size}, --jobs 2 (projected)", projected, "s",
                   Stats.of([v / NIGHT_SECONDS for v in projected.values]), "an 8-hour night"))
