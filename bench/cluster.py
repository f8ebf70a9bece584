"""Grading on a Dask cluster, measured: one worker against two, and the scheduler's cost per task.

Usage::

    python -m bench.cluster [--submissions 6] [--rounds 2] [--data DIR]

A real ``dask scheduler`` and real ``dask worker`` processes of this environment run on this machine,
listening on 127.0.0.1 only (:class:`LocalDaskCluster`, which the tests use too). The same batch (copies of
the reference submission, as the ``grading`` section builds them) is graded by
``python -m instructor.autograde --scheduler`` (through :func:`instructor.autograde.grade_all`) with one
worker and with two, each ``--nthreads 1``, in pairs whose order alternates (:func:`measure_cluster`). No
timed run includes building a worker's grading set-up (the template course, the grading data, the trusted
helpers: once per worker and batch settings) or the feedback pages (the client renders them alike either
way), so the ratio is that of the grading itself. The scheduler's overhead is timed with tasks that do nothing: many at once
(throughput) and one after another (a round trip).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from instructor.course import COURSE_DIR, REPO_ROOT
from instructor.grade.sandbox import DEFAULT_UID_BASE

DASK = Path(sys.executable).with_name("dask")
START_SECONDS = 60  # a scheduler writes its file, a worker registers, within this on a loaded 2-core machine
TRIVIAL_TASKS = 500
ROUND_TRIPS = 50
UID_BASE = DEFAULT_UID_BASE + 800  # clear of the ranges the tests and a real grading run claim


class LocalDaskCluster:
    """A Dask scheduler and its workers as processes of this machine, on 127.0.0.1 only; killed on exit.

    No dashboard (the HTTP servers that remain listen on 127.0.0.1 too) and no nanny, so a killed worker
    stays dead (the tests kill one mid-batch). Each process logs to ``folder/<name>.log``.

    Parameters
    ----------
    folder : Path
        Scratch: the scheduler file, the logs, the workers' local directories.
    env : dict of str to str, optional
        Added to the processes' environment (e.g. ``CIFAR10_DIR``, ``CS231N_UID_BASE``).
    allowed_failures : int, optional
        The scheduler's ``allowed-failures``: how many workers may die running one task (Dask's default: 3).
    """

    def __init__(self, folder: Path, env: dict[str, str] | None = None, allowed_failures: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, **(env or {}))
        self.env["PATH"] = f"{DASK.parent}{os.pathsep}{self.env.get('PATH', '')}"
        if allowed_failures is not None:
            self.env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
        self.processes: dict[str, subprocess.Popen] = {}
        self.address: str | None = None
        self.workers: dict[str, str] = {}  # name -> address, as of the last wait_for_workers

    def __enter__(self) -> LocalDaskCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "ab") as log:
            process = subprocess.Popen([str(DASK), *argv], env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, cwd=self.folder)
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        """The last lines that process ``name`` logged."""
        text = (self.folder / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-20:])

    def start_scheduler(self) -> str:
        """Start the scheduler on a free port of 127.0.0.1; return its address once it listens."""
        scheduler_file = self.folder / "scheduler.json"
        scheduler_file.unlink(missing_ok=True)
        process = self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                            "--dashboard-address", "127.0.0.1:0",
                                            "--scheduler-file", str(scheduler_file)])
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                self.address = json.loads(scheduler_file.read_text())["address"]
                return self.address
            except (OSError, ValueError, KeyError):  # not written yet, or half written
                time.sleep(0.1)
        raise RuntimeError(f"the Dask scheduler did not start in {START_SECONDS} s:\n{self.log('scheduler')}")

    def add_worker(self, name: str, nthreads: int = 1) -> None:
        """Start worker ``name`` (it registers on its own; see :meth:`wait_for_workers`)."""
        self._spawn(name, ["worker", self.address, "--name", name, "--nthreads", str(nthreads), "--host", "127.0.0.1",
                           "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--no-nanny",
                           "--local-directory", str(self.folder / name),
                           "--death-timeout", str(START_SECONDS)])

    def wait_for_workers(self, count: int) -> dict[str, str]:
        """Wait until ``count`` workers are registered; return their addresses by name."""
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS, set_as_default=False) as client:
            try:
                client.wait_for_workers(count, timeout=START_SECONDS)
            except TimeoutError:
                logs = "\n".join(self.log(name) for name in self.processes if name != "scheduler")
                raise RuntimeError(f"{count} Dask workers did not register in {START_SECONDS} s:\n{logs}") from None
            workers = client.scheduler_info(n_workers=-1)["workers"]
        self.workers = {info["name"]: address for address, info in workers.items()}
        return self.workers

    def kill(self, name: str) -> None:
        """SIGKILL process ``name``, as a crash or a pulled plug would end it."""
        process = self.processes.pop(name)
        self.workers.pop(name, None)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=START_SECONDS)

    def close(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 10 s), workers first."""
        for name in sorted(self.processes, key=lambda n: n == "scheduler"):
            self.processes[name].terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=START_SECONDS)
        self.processes.clear()


def _nothing(index: int) -> int:
    return index


def task_overhead(address: str, tasks: int = TRIVIAL_TASKS, round_trips: int = ROUND_TRIPS) -> dict:
    """Milliseconds per task of the scheduler at ``address``: ``tasks`` trivial tasks at once (wall time over
    their count), and the median round trip of one task submitted and awaited, ``round_trips`` times."""
    from distributed import Client

    with Client(address, timeout=START_SECONDS, set_as_default=False) as client:
        client.gather(client.map(_nothing, range(20), pure=False))  # connections and imports, not timed
        started = time.perf_counter()
        client.gather(client.map(_nothing, range(tasks), pure=False))
        per_task = (time.perf_counter() - started) / tasks
        trips = []
        for index in range(round_trips):
            started = time.perf_counter()
            client.submit(_nothing, index, pure=False).result()
            trips.append(time.perf_counter() - started)
    return {"task_ms": per_task * 1e3, "round_trip_ms": statistics.median(trips) * 1e3}


def measure_cluster(submissions_dir: Path, count: int, course_dir: Path = COURSE_DIR, data_dir: Path | None = None,
                    rounds: int = 1, folder: Path | None = None, uid_base: int = UID_BASE) -> dict:
    """Grade ``count`` zips of ``submissions_dir`` on a local cluster with one worker and with two; time both.

    The runs come in pairs whose order alternates (one worker first, then two; then two first), because a
    shared machine's load drifts; the speed-up is the median of the pairs' ratios. The second worker is
    started for a two-worker run and killed for a one-worker run; a one-submission run after a worker started
    builds its grading set-up, so that no timed run includes it.

    Parameters
    ----------
    submissions_dir : Path
        Submission zips (the first ``count`` by name are graded).
    count : int
        Batch size, >= 2 (an even number splits evenly over two workers).
    course_dir : Path, default COURSE_DIR
        The client's course; its digests must equal the workers' (this checkout's ``solutions/``).
    data_dir : Path, optional
        The workers' ``CIFAR10_DIR`` (default: theirs, ``datasets/cifar-10-batches-py``).
    rounds : int, default 1
        Pairs of timed runs, >= 1.
    folder : Path, optional
        Scratch (default: a temporary folder, removed after).
    uid_base : int, default UID_BASE (62800)
        The workers' ``CS231N_UID_BASE``.

    Returns
    -------
    dict
        ``count``; ``one_worker_s`` and ``two_workers_s``, wall seconds of each timed batch in order;
        ``speed_up``, the median of the pairs' ratios; ``task_ms`` and ``round_trip_ms``
        (:func:`task_overhead`); ``load``, the 1-minute load average before and after.
    """
    from instructor import autograde
    from instructor.grade.config import GradingConfig
    from instructor.grade.store import GradingStore

    zips = sorted(Path(submissions_dir).glob("*.zip"))[:count]
    if count < 2 or len(zips) < count:
        raise ValueError(f"count must be at least 2 and at most the {len(zips)} zips in {submissions_dir}, got {count}")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    scratch = Path(folder or tempfile.mkdtemp(prefix="bench-cluster-"))
    batch, warm = scratch / "batch", scratch / "warm-up"
    for target, chosen in ((batch, zips), (warm, zips[:1])):
        target.mkdir(parents=True, exist_ok=True)
        for path in chosen:
            shutil.copy2(path, target / path.name)
    env = {"CS231N_UID_BASE": str(uid_base)}
    if data_dir is not None:
        env["CIFAR10_DIR"] = str(Path(data_dir).resolve())
    out = scratch / "grading"
    config = GradingConfig(course_dir=Path(course_dir).resolve(), repo_root=REPO_ROOT, work_dir=out / "work",
                           data_dir=scratch / "unused")
    load_before = os.getloadavg()[0]
    seconds: dict[int, list[float]] = {1: [], 2: []}
    try:
        with LocalDaskCluster(scratch / "dask", env) as cluster:
            options = autograde.RunOptions(jobs=1, force=True, write_feedback=False, progress=False,
                                           scheduler=cluster.start_scheduler())

            def grade(folder: Path) -> float:
                started = time.perf_counter()
                summary = autograde.grade_all(folder, config, GradingStore(out, course_dir), options)
                elapsed = time.perf_counter() - started
                if len(summary["graded"]) != len(list(folder.glob("*.zip"))):
                    raise RuntimeError(f"the cluster graded {len(summary['graded'])} of the zips in {folder}")
                return elapsed

            cluster.add_worker("first")
            cluster.wait_for_workers(1)
            grade(warm)
            for index in range(rounds):
                for workers in ((1, 2) if index % 2 == 0 else (2, 1)):
                    second = [name for name in cluster.workers if name != "first"]
                    if workers == 1 and second:
                        cluster.kill(second[0])
                    if workers == 2 and not second:
                        cluster.add_worker(f"second-{index}")
                        cluster.wait_for_workers(2)
                        grade(warm)
                    seconds[workers].append(grade(batch))
            overhead = task_overhead(options.scheduler)
    finally:
        if folder is None:
            shutil.rmtree(scratch, ignore_errors=True)
    ratios = [one / two for one, two in zip(seconds[1], seconds[2])]
    return {"count": count, "one_worker_s": seconds[1], "two_workers_s": seconds[2],
            "speed_up": statistics.median(ratios), **overhead, "load": [load_before, os.getloadavg()[0]]}


SPEED_UP_TARGET = 1.8  # two one-thread workers against one, on two cores
PROJECTED_SUBMISSIONS = 10_000
PROJECTED_WORKERS = 50  # two-core machines, two grading threads each


def run_cluster(report, data, settings) -> None:
    """Rows: one worker against two through a real local scheduler, the scheduler's cost per task, and
    10,000 submissions on 50 two-core workers projected from them."""
    from bench.grading import missing_parts, prepare
    from bench.report import Row, Target
    from bench.timing import Stats

    section = "cluster"
    missing = missing_parts(settings.notebook_source)
    if missing:
        report.skip(section, f"{', '.join(missing)} absent")
        return
    if not DASK.is_file():
        report.skip(section, f"{DASK} not found: the dask command comes with the distributed package")
        return
    count = 2 * settings.grading_submissions  # an even batch splits evenly over two workers
    course, submissions = prepare(settings.work_dir / "cluster", settings.notebook_source, count)
    data_dir = data.cifar_folder(prefer_real=True)
    figures = measure_cluster(submissions, count, course_dir=course, data_dir=data_dir, rounds=settings.heavy_runs)
    one, two = Stats.of(figures["one_worker_s"]), Stats.of(figures["two_workers_s"])
    ratios = Stats.of([a / b for a, b in zip(figures["one_worker_s"], figures["two_workers_s"])])
    report.add(Row(section, f"two workers against one, {count} submissions (--scheduler)", two, "s", ratios,
                   "one worker", Target(SPEED_UP_TARGET, kind="min", text="two cores"),
                   f"one worker {one.median:.1f} s; each worker --nthreads 1; load {figures['load']}"))
    per_submission = one.median / count  # one grading thread
    task = figures["task_ms"] / 1e3
    report.add(Row(section, "scheduler cost per task (500 trivial tasks at once)", Stats.of([task]), "s",
                   Stats.of([task / per_submission]), "one submission's grading",
                   note=f"one task's round trip {figures['round_trip_ms']:.1f} ms"))
    # Projection: each two-core worker grades as the two one-thread workers measured here grade on this
    # two-core machine (seconds per submission of the two-worker runs); the scheduler's cost per task is added
    # in full, though it overlaps the grading; every worker builds its grading set-up once.
    per_machine = two.median / count
    projected = PROJECTED_SUBMISSIONS * per_machine / PROJECTED_WORKERS + PROJECTED_SUBMISSIONS * task
    report.add(Row(section, f"{PROJECTED_SUBMISSIONS:,} submissions on {PROJECTED_WORKERS} two-core workers "
                            "(projected)", Stats.of([projected]), "s", Stats.of([projected / 3600]), "an hour",
                   note=f"{PROJECTED_SUBMISSIONS:,} x {per_machine:.1f} s (two workers on this 2-core machine, per "
                        f"submission) / {PROJECTED_WORKERS} machines + {PROJECTED_SUBMISSIONS:,} x the task cost; "
                        "plus each worker's set-up once (about 10 s)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=6, help="batch size, copies of the reference submission")
    parser.add_argument("--data", type=Path, default=None,
                        help="the workers' cifar-10-batches-py (default: $CIFAR10_DIR or datasets/cifar-10-batches-py)")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of timed runs, their order alternating")
    args = parser.parse_args(argv)
    from bench.grading import prepare
    from bench.settings import NOTEBOOK_SOURCE, WORK_DIR

    course, submissions = prepare(WORK_DIR / "cluster", NOTEBOOK_SOURCE, args.submissions)
    figures = measure_cluster(submissions, args.submissions, course_dir=course, data_dir=args.data, rounds=args.rounds)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
