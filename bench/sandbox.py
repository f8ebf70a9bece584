"""What the grading sandbox costs, and how far a loop over examples falls behind the reference when timed.

Three kinds of rows:

- **cost per submission**: the same reference submissions graded by the real autograder with the
  bubblewrap sandbox and with ``--unsafe-no-sandbox``, alternately, ``--jobs 1``; the difference of seconds
  per submission against the 1 s the sandbox may add;
- **one sandboxed run**: ``python -c pass`` started and ended in a sandbox against the same command as a
  plain child process (a submission takes a few such runs);
- **vectorization check**: for each timed function, a correct implementation that loops over the examples
  (the kind a "vectorized" function must not be) timed against the reference by the grader's own check
  (:func:`instructor.grade.verdict._time_against_reference`, CPU time where a cgroup counts it), through
  the same pipe, in a sandbox; its ratio must be at least 20x for the 5x limit to tell the two apart safely.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from .grading import grade, missing_parts, prepare
from .report import Report, Row, Target
from .settings import REPO_ROOT
from .timing import Stats

ALLOWANCE = 1.0  # seconds the sandbox may add per submission
LOOP_TARGET = 20.0  # a loop over examples must be at least this much slower than the reference

# Correct implementations that loop over the examples, appended to copies of the reference modules.
EXAMPLE_LOOPS = {
    "linear_svm": '''

def svm_loss_vectorized(W, X, y, reg):
    dW = np.zeros_like(W)
    loss = 0.0
    for i in range(X.shape[0]):
        scores = X[i] @ W
        margins = np.maximum(0, scores - scores[y[i]] + 1)
        margins[y[i]] = 0
        loss += margins.sum()
        counts = (margins > 0).astype(W.dtype)
        counts[y[i]] = -counts.sum()
        dW += np.outer(X[i], counts)
    return loss / X.shape[0] + reg * np.sum(W * W), dW / X.shape[0] + 2 * reg * W
''',
    "softmax": '''

def softmax_loss_vectorized(W, X, y, reg):
    dW = np.zeros_like(W)
    loss = 0.0
    for i in range(X.shape[0]):
        scores = X[i] @ W
        scores = scores - scores.max()
        p = np.exp(scores) / np.exp(scores).sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dW += np.outer(X[i], p)
    return loss / X.shape[0] + reg * np.sum(W * W), dW / X.shape[0] + 2 * reg * W
''',
    "k_nearest_neighbor": '''

KNearestNeighbor.compute_distances_no_loops = KNearestNeighbor.compute_distances_one_loop
''',
}


def run_sandbox(report: Report, data, settings) -> None:
    section = "sandbox"
    from instructor.grade import sandbox

    problem = sandbox.Sandbox(uid_base=sandbox.DEFAULT_UID_BASE + 512).problem()
    if problem:
        report.skip(section, problem)
        return
    _one_run(report, section, settings)
    _loops(report, section, settings)
    missing = missing_parts(settings.notebook_source)
    if missing:
        report.skip(section, f"cost per submission: {', '.join(missing)} absent")
        return
    _per_submission(report, section, data, settings)


def _one_run(report: Report, section: str, settings) -> None:
    from instructor.grade import sandbox

    box = sandbox.Sandbox()
    command = [sys.executable, "-I", "-c", "pass"]
    boxed, plain = [], []
    with tempfile.TemporaryDirectory(prefix="cs231n-bench-sandbox-") as scratch:
        for index in range(10 if not settings.quick else 3):
            started = time.perf_counter()
            run = box.start(command, binds=[], env={"PATH": "/usr/bin:/bin"}, slot=0, log_path=Path(scratch) / "log")
            run.read_all(time.monotonic() + 60)
            run.finish(grace=10)
            boxed.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(command, check=True)
            plain.append(time.perf_counter() - started)
    report.add(Row(section, "one sandboxed run of `python -c pass`", Stats.of(boxed), "s",
                   Stats.of([b / p for b, p in zip(boxed, plain)]), "the same command unsandboxed",
                   note="bubblewrap, cgroup, uid drop and clean-up included"))


def _loops(report: Report, section: str, settings) -> None:
    from instructor import course
    from instructor.grade import sandbox
    from instructor.grade import verdict
    from instructor.grade import notebooks as worker
    from instructor.grade.config import GradingConfig

    hidden_checks = verdict.load_hidden_checks(course.COURSE_DIR, REPO_ROOT)
    reference = verdict.Reference(hidden_checks, hidden_checks.reference())
    with tempfile.TemporaryDirectory(prefix="cs231n-bench-loops-") as scratch:
        scratch = Path(scratch)
        modules = scratch / "modules"
        shutil.copytree(course.reference_dir(REPO_ROOT), modules)
        for name, loop in EXAMPLE_LOOPS.items():
            with open(modules / f"{name}.py", "a", encoding="utf-8") as handle:
                handle.write(loop)
        loops = verdict.build_bundle(scratch / "loops", REPO_ROOT, course.COURSE_DIR, modules)
        ours = verdict.reference_bundle(scratch / "reference", REPO_ROOT, course.COURSE_DIR)
        env = worker.sandbox_env(GradingConfig(REPO_ROOT, REPO_ROOT, scratch, scratch))
        timers = verdict.ReferenceTimers(ours, scratch, env)
        # Sandboxed as in grading, so that the ratio is measured as grading measures it (CPU time with a cgroup).
        box = sandbox.Sandbox(uid_base=sandbox.free_uid_base(2, start=sandbox.DEFAULT_UID_BASE + 512))
        student = verdict.Caller(box, loops, 1, scratch / "loops.log", env)
        student.hello(time.monotonic() + 60)
        try:
            for name in tqdm(reference.timed, desc="loops", leave=False):
                ratios = []
                for _ in range(3 if not settings.quick else 1):
                    check = verdict._time_against_reference(reference, timers, student, name, 1, time.monotonic() + 600)
                    if check.slowdown is None:
                        raise RuntimeError(f"the looping {name} was not timed: {check.message}")
                    ratios.append(check.slowdown)
                stats = Stats.of(ratios)
                report.add(Row(section, f"{name} looping over examples, vs the reference", stats, "x", stats,
                               "the reference, timed by the grader's check", Target(LOOP_TARGET, kind="min", text="20x"),
                               f"grading withholds the vectorized points above {hidden_checks.SLOWDOWN_LIMIT:g}x; "
                               f"input: {hidden_checks.TIMING_NOTE[name]}"))
        finally:
            student.finish()
            timers.close()


def _per_submission(report: Report, section: str, data, settings) -> None:
    count = settings.grading_submissions
    course, submissions = prepare(settings.work_dir / "sandbox", settings.notebook_source, count)
    data_dir = data.cifar_folder(prefer_real=True)
    boxed, plain = [], []
    for index in tqdm(range(settings.heavy_runs), desc="sandbox", leave=False):
        order = [(boxed, []), (plain, ["--unsafe-no-sandbox"])]
        for times, extra in order if index % 2 == 0 else order[::-1]:
            times.append(grade(course, submissions, data_dir, 1, extra=extra).seconds / count)
    extra_seconds = Stats.of([b - p for b, p in zip(boxed, plain)])
    report.add(Row(section, "sandbox cost per submission, --jobs 1", extra_seconds, "s",
                   Stats.of([value / ALLOWANCE for value in extra_seconds.values]), f"the {ALLOWANCE:g} s allowance",
                   Target(1.0, text=f"{ALLOWANCE:g} s"),
                   f"{count} reference submissions graded with the sandbox ({Stats.of(boxed).median:.1f} s each) and "
                   f"with --unsafe-no-sandbox ({Stats.of(plain).median:.1f} s each), alternately"))
