"""Autograding: what a submission costs, stage by stage against its floor; --jobs 1 and 2; a class projected.

The submissions are the reference submission (the release notebooks with every answer cell filled in,
and the reference classifiers), packed by ``cs231n.submission.write_zip`` as ``collectSubmission.sh``
does, several copies under different student ids. They are graded by the real autograder
(``python -m instructor.autograde``: intake, the sandboxes, the trusted checks, the notebooks, scoring,
feedback and CSV) from a scratch course into a grading folder inside ``bench-results/work``, so the
instructor's ``grading/`` is never touched.

- **CPU per submission**: after one uncounted run (the template, the grading data and the answer checks'
  cache are made once for a class), the autograder runs in a control group of its own that counts its CPU
  time and that of its helpers; the student sandboxes and the reference runners have control groups of their own,
  which the run reports (``--summary-json``). Their sum over a batch, less that of a run with nothing to
  grade (start-up, template, CSV: a class pays it once), divided by the batch size, is the cost of one
  submission. Its stages come from each submission's recorded result (the grader's thread and the
  sandboxes the stage started), plus recording and feedback pages from the run's summary.
- **Floor**: the same notebooks run as grading runs them (:mod:`bench.grading_floor`: grading data, quick
  mode, figures not drawn, one kernel per notebook) and nothing else, in a control group.
- **Both ways**: the batch graded on the grading data and with ``--full-data``; every cell's score must be
  the same.
- **--jobs 2** against **--jobs 1**, alternately, ``--force`` each, and a class projected from ``--jobs 2``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from cs231n.course import NOTEBOOKS

from .report import Report, Row, Target
from .settings import REPO_ROOT
from .timing import Stats, run_child

AUTOGRADER = REPO_ROOT / "instructor" / "autograde.py"
SPEED_UP_TARGET = 1.7  # --jobs 2 against --jobs 1 on two cores
CPU_TARGET = 5.0  # CPU seconds per submission with the sandbox on
FLOOR_TARGET = 1.5  # at most this multiple of the floor
CLASS_TARGET = 25 * 60  # a class of 500 with --jobs 2, in seconds
STAGES = ("take_in", "check_functions", "run_notebooks", "check_answers", "score")


@dataclasses.dataclass
class GradingRun:
    """One autograder run: wall seconds, CPU seconds of everything it ran, its summary and grading folder."""

    seconds: float
    cpu: float | None
    summary: dict
    out: Path


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


def cpu_group():
    """A control group that counts CPU time (None where this machine gives none: not root, no cgroups)."""
    from instructor.grade import cgroup

    return cgroup.create(memory_bytes=64 << 30, processes=32768)


def run_counted(command: list[str], timeout: float):
    """Run ``command`` (from the repository) in a control group of its own: ``(ChildRun, CPU seconds)``,
    the CPU None where no group can be made."""
    group = cpu_group()
    try:
        result = run_child(command, cwd=str(REPO_ROOT), timeout=timeout,
                           procs_files=[str(p) for p in group.procs_files()] if group else ())
        return result, (group.cpu_seconds() if group else None)
    finally:
        if group is not None:
            group.kill_and_remove()


def grade(course: Path, submissions: Path, data_dir: Path, jobs: int, force: bool = True, extra=(),
          out: Path | None = None) -> GradingRun:
    """One autograder run over every submission with ``jobs`` slots (all regraded when ``force``; else
    every recorded submission is skipped and only the fixed work is left), with ``extra`` options, into the
    grading folder ``out`` (default: beside the course)."""
    out = out or course.parent / "grading"
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        command = [sys.executable, "-m", "instructor.autograde", str(submissions), "--jobs", str(jobs),
                   "--course", str(course), "--out", str(out), "--data", str(data_dir),
                   "--summary-json", str(summary_path)] + (["--force"] if force else []) + list(extra)
        result, cpu = run_counted(command, timeout=3600)
        if result.returncode != 0:
            raise RuntimeError(f"the autograder failed (exit {result.returncode}): {result.stderr.strip()[-800:]}")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    costs = summary.get("costs", {})
    if cpu is not None:  # the sandboxes and the reference runners are counted by control groups of their own
        cpu += costs.get("sandboxes_cpu", 0.0) + costs.get("reference_timers_cpu", 0.0)
    return GradingRun(result.seconds, cpu, summary, out)


def floor_cpu(data_dir: Path) -> tuple[float | None, float, dict]:
    """(CPU seconds, wall seconds, per-notebook [kernel, whole] seconds) of :mod:`bench.grading_floor`."""
    from .grading_floor import bundle

    with tempfile.TemporaryDirectory(prefix="bench-floor-") as scratch:
        bundle(Path(scratch) / "bundle")  # made here, so that the floor counts only the notebooks' runs
        result, cpu = run_counted([sys.executable, "-m", "bench.grading_floor", str(data_dir), scratch], timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"the floor run failed (exit {result.returncode}): {result.stderr.strip()[-800:]}")
    return cpu, result.seconds, json.loads(result.stdout.strip().splitlines()[-1])


def cell_scores(out: Path) -> dict:
    """(student, notebook, cell) -> (score, max score) of every grade in a grading folder's gradebook."""
    from nbgrader.api import Gradebook

    from cs231n.course import ASSIGNMENT

    scores = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(ASSIGNMENT).submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[(submission.student.id, notebook.name, grade.name)] = (grade.score, grade.max_score)
    return scores


def stage_rows(out: Path) -> dict[str, float]:
    """Median over the graded submissions of each stage's CPU seconds, and of each notebook's kernel start
    and run (wall seconds, as the sandbox reported them)."""
    results = [json.loads(path.read_text(encoding="utf-8")) for path in sorted((out / "results").glob("*.json"))]
    rows = {stage: statistics.median(r["cpu_seconds"].get(stage, 0.0) for r in results) for stage in STAGES}
    for name in NOTEBOOKS:
        rows[f"{name}: kernel start"] = statistics.median(r["notebook_seconds"].get(name, [0, 0])[0] for r in results)
        rows[f"{name}: run"] = statistics.median(r["notebook_seconds"].get(name, [0, 0])[1] for r in results)
    return rows


def run_grading(report: Report, data, settings) -> None:
    """Rows: CPU per submission by stage against the floor and 5 s; scores both ways; --jobs 2 against
    --jobs 1; a class of 500 projected against 25 minutes."""
    section = "grading"
    missing = missing_parts(settings.notebook_source)
    if missing:
        report.skip(section, f"{', '.join(missing)} absent")
        return
    count = settings.grading_submissions
    course, submissions = prepare(settings.work_dir / "grading", settings.notebook_source, count)
    data_dir = data.cifar_folder(prefer_real=True)
    generated = "; generated data" if data.is_generated(data_dir) else ""
    serial, parallel, fixed = [], [], []
    # One run first, not counted: it builds the template and the grading data and fills the answer checks'
    # cache, work that a class pays once (the run with nothing to grade below then finds it done).
    grade(course, submissions, data_dir, 2)
    for index in tqdm(range(settings.heavy_runs), desc="grading", leave=False):
        # Alternate which job count goes first, as in timing.compare.
        for jobs in ((1, 2) if index % 2 == 0 else (2, 1)):
            (serial if jobs == 1 else parallel).append(grade(course, submissions, data_dir, jobs))
            if jobs == 1:
                stages = stage_rows(serial[-1].out)
                default_scores = cell_scores(serial[-1].out)
        # Nothing left to grade: start-up, template, feedback check and CSV, the cost of any run.
        fixed.append(grade(course, submissions, data_dir, 1, force=False))

    # CPU per submission, by stage, against its floor.
    if all(run.cpu is not None for run in serial + fixed):
        cpu = Stats.of([(s.cpu - f.cpu) / count for s, f in zip(serial, fixed)])
        floor, floor_wall, floor_notebooks = floor_cpu(Path(serial[0].summary.get("grading_data") or data_dir))
        costs = serial[-1].summary["costs"]
        parts = dict(stages)
        parts["recording (gradebook, notebooks, result)"] = costs["save_cpu"] / count
        parts["feedback pages"] = costs["feedback_cpu"] / count
        for name, value in parts.items():
            unit_note = "wall s, reported by the sandbox" if ": " in name else "CPU s"
            report.add(Row(section, f"per submission: {name}", Stats.of([value]), "s",
                           Stats.of([value / floor]), "the floor", note=unit_note))
        report.add(Row(section, "floor: the notebooks alone, one kernel each (grading setting)", Stats.of([floor]),
                       "s", Stats.of([1.0]), "itself",
                       note=f"CPU s; wall {floor_wall:.1f} s; per notebook [kernel, run] {floor_notebooks}{generated}"))
        report.add(Row(section, "CPU per submission, sandbox on, --jobs 1", cpu, "s",
                       Stats.of([v / CPU_TARGET for v in cpu.values]), f"{CPU_TARGET:g} CPU s",
                       Target(1.0, text=f"{CPU_TARGET:g} s"), f"{count} submissions per run, a run's fixed CPU "
                       f"({Stats.of([f.cpu for f in fixed]).median:.1f} s) taken off{generated}"))
        report.add(Row(section, "CPU per submission against the floor", cpu, "s",
                       Stats.of([v / floor for v in cpu.values]), "the floor",
                       Target(FLOOR_TARGET, text=f"{FLOOR_TARGET:g}x")))
    else:
        report.skip(section, "CPU per submission: no control group to count it (needs root and cgroups)")

    # The same scores with the grading data and with all of the data.
    full = grade(course, submissions, data_dir, 2, extra=["--full-data"], out=course.parent / "grading-full")
    full_scores = cell_scores(full.out)
    differing = sorted(key for key in default_scores if full_scores.get(key) != default_scores[key])
    agreeing = (len(default_scores) - len(differing)) / max(len(default_scores), 1)
    report.add(Row(section, "scores graded on the grading data vs --full-data, cell by cell",
                   Stats.of([agreeing]), "x", Stats.of([agreeing]), f"share of {len(default_scores)} cells that agree",
                   Target(1.0, kind="min", text="all"),
                   f"{len(differing)} differ: {differing[:3]}" if differing else f"{count} submissions, every cell"))

    # Seconds per submission beyond the fixed work of a run, which a class pays once.
    per_serial = Stats.of([(s.seconds - f.seconds) / count for s, f in zip(serial, fixed)])
    per_parallel = Stats.of([(p.seconds - f.seconds) / count for p, f in zip(parallel, fixed)])
    fixed_wall = Stats.of([f.seconds for f in fixed])
    report.add(Row(section, "seconds per submission, --jobs 1 (grading setting)", per_serial, "s",
                   Stats.of([s / p for s, p in zip(per_serial.values, per_parallel.values)]), "--jobs 2",
                   note=f"{count} submissions per run, the run's fixed work ({fixed_wall.median:.0f} s) taken off"
                        f"{generated}"))
    report.add(Row(section, "--jobs 2 speed-up over --jobs 1", per_parallel, "s",
                   Stats.of([s / p for s, p in zip(per_serial.values, per_parallel.values)]),
                   "jobs 1 / jobs 2 seconds per submission", Target(SPEED_UP_TARGET, kind="min", text="two cores"),
                   f"measured: seconds per submission with --jobs 2; whole runs "
                   f"{Stats.of([s.seconds / p.seconds for s, p in zip(serial, parallel)]).median:.2f}x"))
    projected = Stats.of([f.seconds + settings.class_size * p for f, p in zip(fixed, per_parallel.values)])
    report.add(Row(section, f"class of {settings.class_size}, --jobs 2 (projected)", projected, "s",
                   Stats.of([v / CLASS_TARGET for v in projected.values]), f"{CLASS_TARGET // 60} minutes",
                   Target(1.0, text="25 min"), "fixed work + class size x seconds per submission"))
