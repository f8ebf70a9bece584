"""Benchmark: seconds per submission, plain serial ``nbgrader autograde`` against the autograde command.

Usage::

    python -m bench.grading_cost [--submissions 6] [--data DIR] [--out bench-results/grading.json]

Both sides grade the same copies of the reference submission (every notebook runs; the fast grading
setting ``CS231N_QUICK=1`` is on for both) on the same course built from ``solutions/``:

- *nbgrader serial*: a plain nbgrader course (source notebooks, hidden checks and the trusted ``cs231n``
  package in ``source/``, the course's ``nbgrader_config.py``) and one ``nbgrader autograde assignment1``
  over all submissions, as nbgrader's documentation does it: no confinement, no out-of-process checks.
- *this command* with ``--jobs 1`` and ``--jobs 2``: intake, confinement, out-of-process hidden checks,
  nbgrader per notebook, scoring, feedback HTML and CSV; the one-time template build is timed apart.

Seconds per submission are wall time over the batch divided by its size; the projection for a class is
that figure times the class size (plus the one-time set-up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from instructor import autograde
from instructor import intake
from instructor.course import (ASSIGNMENT, COURSE_DIR, GRADED_CALLS, HIDDEN_CHECKS, REPO_ROOT, SHARED_ARCHIVE,
                               reference_dir, source_dir, tool_env, trusted_package_files)
from instructor.demo import reference_submission
from instructor.autograde import process_cpu_seconds
from instructor.grade import sandbox
from instructor.grade.config import GradingConfig
from instructor.grade.notebooks import build_template
from instructor.grade.store import GradingStore
from instructor.nbgrader_course import generate_assignment, scratch_course


def prepare_data(scratch: Path, data: Path | None) -> tuple[Path, str]:
    """CIFAR-10 to grade with: ``data``, else the rebuilt archive beside the repository, else a stand-in."""
    if data is not None:
        return data, f"CIFAR-10 from {data}"
    if SHARED_ARCHIVE.is_file():
        with tarfile.open(SHARED_ARCHIVE) as archive:
            archive.extractall(scratch, filter="data")
        folder = scratch / "cifar-10-batches-py"
        for path in [scratch, folder, *folder.iterdir()]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        return folder, "rebuilt CIFAR-10 (50,000 + 10,000 images)"
    from instructor.fake_cifar import write_cifar_batches

    folder = write_cifar_batches(scratch, images_per_batch=20, seed=0)
    return folder, "generated stand-in, 20 images per batch (no CIFAR-10 found)"


def submissions_folder(target: Path, count: int) -> Path:
    """``count`` copies of the reference submission, as students s000, s001, ... would upload them."""
    one = reference_submission(target / "one")
    folder = target / "zips"
    folder.mkdir()
    for index in range(count):
        shutil.copy2(one, folder / f"s{index:03d}.zip")
    return folder


def nbgrader_serial(scratch: Path, zips: Path, data: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one plain ``nbgrader autograde`` over every submission (set-up not counted)."""
    # What nbgrader needs to grade this course at all: the trusted package and the hidden checks beside the
    # notebooks, and a config that keeps hidden_checks.py when copying source files to the submissions.
    extra = [(source_dir() / name, name) for name in (HIDDEN_CHECKS, GRADED_CALLS)]
    extra += [(REPO_ROOT / relative, relative.as_posix()) for relative in trusted_package_files(REPO_ROOT)]
    course = scratch_course(scratch / "plain", COURSE_DIR, extra)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write('\nc.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]\n')
    env = tool_env({
        "CIFAR10_DIR": str(data), "CS231N_QUICK": "1", "CS231N_REFERENCE_DIR": str(reference_dir(REPO_ROOT)),
        "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
    })
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, check=True, capture_output=True, text=True
    )
    generate_assignment(course)
    submissions, _ = intake.find_submissions(zips)
    for submission in submissions.values():
        intake.take_in(submission, course / "submitted", REPO_ROOT)
    started, cpu = time.monotonic(), process_cpu_seconds()
    run("autograde", ASSIGNMENT)
    return time.monotonic() - started, process_cpu_seconds() - cpu


def this_command(scratch: Path, zips: Path, data: Path, jobs: int) -> tuple[float, float, float]:
    """(one-time template seconds, batch wall seconds, batch CPU seconds) with ``jobs`` slots."""
    store = GradingStore(scratch / f"jobs{jobs}").open()
    config = GradingConfig(course_dir=COURSE_DIR, repo_root=REPO_ROOT, work_dir=store.work, data_dir=data,
                           cell_timeout=300, submission_timeout=1800)
    started = time.monotonic()
    build_template(config)
    setup = time.monotonic() - started
    started, cpu = time.monotonic(), process_cpu_seconds()
    summary = autograde.grade_all(zips, config, store, autograde.RunOptions(jobs=jobs, progress=False))
    elapsed, cpu = time.monotonic() - started, process_cpu_seconds() - cpu
    if len(summary["graded"]) != len(list(zips.glob("*.zip"))):
        raise RuntimeError(f"not every submission was graded: {summary}")
    return setup, elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=6, help="batch size (default 6)")
    parser.add_argument("--data", type=Path, default=None, help="cifar-10-batches-py folder")
    parser.add_argument("--class-size", type=int, default=500, help="class size of the projection (default 500)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench-results" / "grading.json")
    args = parser.parse_args(argv)
    results = {"cores": os.cpu_count(), "submissions": args.submissions, "sandbox": sandbox.Sandbox().describe()}
    with tempfile.TemporaryDirectory(prefix="cs231n-bench-grading-", dir=REPO_ROOT / "dist" if (REPO_ROOT / "dist").is_dir() else None) as scratch:
        scratch = Path(scratch)
        os.chmod(scratch, 0o755)
        data, results["data"] = prepare_data(scratch / "data", args.data)
        zips = submissions_folder(scratch / "submissions", args.submissions)
        print(f"{args.submissions} reference submissions, {results['data']}, {os.cpu_count()} cores", flush=True)
        results["load_average_before"] = os.getloadavg()[0]
        serial, cpu = nbgrader_serial(scratch, zips, data)
        results["nbgrader_serial"] = {"batch_s": serial, "per_submission_s": serial / args.submissions,
                                      "cpu_per_submission_s": cpu / args.submissions, "setup_s": 0.0}
        print(f"nbgrader autograde (serial): {serial / args.submissions:.1f} s per submission", flush=True)
        for jobs in (1, 2):
            setup, elapsed, cpu = this_command(scratch, zips, data, jobs)
            results[f"jobs{jobs}"] = {"setup_s": setup, "batch_s": elapsed, "per_submission_s": elapsed / args.submissions,
                                      "cpu_per_submission_s": cpu / args.submissions}
            print(f"autograde --jobs {jobs}: {elapsed / args.submissions:.1f} s per submission (+{setup:.0f} s set-up)", flush=True)
        results["load_average_after"] = os.getloadavg()[0]
    print()
    print(f"{'':<28}{'wall s / sub':>14}{'CPU s / sub':>13}{f'class of {args.class_size}':>16}")
    rows = [("nbgrader autograde, serial", results["nbgrader_serial"])]
    rows += [(f"this command, --jobs {j}", results[f"jobs{j}"]) for j in (1, 2)]
    for label, entry in rows:
        projected = (entry["per_submission_s"] * args.class_size + entry["setup_s"]) / 60
        entry["projected_class_min"] = projected
        print(f"{label:<28}{entry['per_submission_s']:>14.1f}{entry['cpu_per_submission_s']:>13.1f}{projected:>13.0f} min")
    print(f"load average (1 min) before / after: {results['load_average_before']:.1f} / {results['load_average_after']:.1f}"
          " (other work on the machine slows every figure)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
