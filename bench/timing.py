"""Medians, spreads and side-by-side comparisons of timings; peak memory of a child process tree.

The machine the benchmark runs on is usually shared, so absolute times drift. Every comparison therefore
times the candidate and its floor in pairs, alternating which runs first, and reports the median of the
per-pair ratios: a slowdown that hits both halves of a pair cancels out.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements of one quantity.

    Attributes
    ----------
    median : float
        The median of ``values``.
    low, high : float
        The smallest and the largest value.
    values : tuple of float
        Every measurement, in the order taken.
    """

    median: float
    low: float
    high: float
    values: tuple

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stats":
        """Summarize ``values`` (at least one number)."""
        values = tuple(float(v) for v in values)
        if not values:
            raise ValueError("Stats.of needs at least one measurement, got none")
        return cls(statistics.median(values), min(values), max(values), values)

    @property
    def spread(self) -> float:
        """Half the interquartile range relative to the median (0.05: the middle half lies within about +-5%).

        Quartiles rather than the range, because on a shared machine one run in ten can be stalled for a
        while; ``low`` and ``high`` keep the extremes.
        """
        if self.median == 0 or len(self.values) < 2:
            return 0.0
        lower, _, upper = statistics.quantiles(self.values, n=4, method="inclusive")
        return (upper - lower) / (2 * abs(self.median))

    def scaled(self, factor: float) -> "Stats":
        """Every value multiplied by ``factor`` (for work timed on a part and extrapolated linearly)."""
        return Stats.of([value * factor for value in self.values])

    def as_dict(self) -> dict:
        return {"median": self.median, "low": self.low, "high": self.high, "spread": self.spread,
                "runs": len(self.values), "values": list(self.values)}


@dataclass(frozen=True)
class Comparison:
    """A candidate timed side by side with its floor: both times and the per-pair ratio candidate / floor."""

    candidate: Stats
    floor: Stats
    ratio: Stats


def time_once(function: Callable[[], object]) -> float:
    """Wall-clock seconds of one call of ``function``."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _check_runs(runs: int) -> int:
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    return runs


def measure(function: Callable[[], object], runs: int, warmup: bool = True) -> Stats:
    """Time ``runs`` calls of ``function`` (after one untimed call when ``warmup``)."""
    runs = _check_runs(runs)
    if warmup:
        function()
    return Stats.of([time_once(function) for _ in range(runs)])


def compare(
    candidate: Callable[[], object],
    floor: Callable[[], object],
    runs: int,
    max_runs: Optional[int] = None,
    budget_seconds: float = 0.0,
    warmup: bool = True,
) -> Comparison:
    """Time ``candidate`` and ``floor`` in adjacent pairs and summarize the per-pair ratios.

    ``runs`` pairs are always taken; more follow, up to ``max_runs``, while less than ``budget_seconds``
    have passed, so that millisecond kernels get many pairs and multi-second loops get ``runs``. The order
    inside a pair alternates (floor first, then candidate first, ...) so that a trend in the machine's load
    does not favour either side.
    """
    runs = _check_runs(runs)
    max_runs = runs if max_runs is None else max(runs, _check_runs(max_runs))
    if warmup:
        floor()
        candidate()
    candidate_times, floor_times = [], []
    start = time.perf_counter()
    for index in range(max_runs):
        if index >= runs and time.perf_counter() - start > budget_seconds:
            break
        if index % 2 == 0:
            floor_times.append(time_once(floor))
            candidate_times.append(time_once(candidate))
        else:
            candidate_times.append(time_once(candidate))
            floor_times.append(time_once(floor))
    ratios = [c / f for c, f in zip(candidate_times, floor_times)]
    return Comparison(Stats.of(candidate_times), Stats.of(floor_times), Stats.of(ratios))


@dataclass(frozen=True)
class ChildRun:
    """Outcome of :func:`run_child`: exit status, wall time, peak memory and the captured output."""

    returncode: int
    seconds: float
    peak_rss_bytes: int
    stdout: str
    stderr: str
    timed_out: bool


# Started by run_child between the benchmark and the measured command. Linux starts a new process's peak at
# the peak of the process it was forked from, so a command started directly by a benchmark that holds
# gigabytes of arrays would inherit their peak. This launcher is small (no site, stdlib only); it reports
# the peak of its children (the command and everything the command waited for) into the file argv[1].
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)
"""


def _join(procs_files: Sequence[str]) -> None:
    """Move this (forked, not yet executed) process into a control group."""
    for path in procs_files:
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))


def run_child(
    command: Sequence[str],
    cwd: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 3600.0,
    procs_files: Sequence[str] = (),
) -> ChildRun:
    """Run ``command`` and measure its wall time and the peak resident memory of its process tree.

    The peak is the one Linux keeps for reaped children (``RUSAGE_CHILDREN``): the largest resident set
    reached by the command or by any descendant that was waited for (a Jupyter kernel, a grading worker),
    exactly, without sampling. It is the peak of the largest single process, not a sum over processes.
    The command runs under a small launcher (:data:`LAUNCHER`) so that this process's own memory does not
    count; the launcher's start (tens of milliseconds) is inside the wall time.

    Parameters
    ----------
    command : sequence of str
        The program and its arguments.
    cwd, env :
        Working folder and environment of the child (default: this process's).
    timeout : float
        Seconds after which the child's whole process group is killed (the run is then ``timed_out``).
    procs_files : sequence of str
        ``cgroup.procs`` files of a control group the child joins before it starts (to count its CPU time).
    """
    if not command:
        raise ValueError("run_child needs a command to run, got an empty one")
    with tempfile.TemporaryDirectory(prefix="bench-peak-") as scratch:
        peak_file = os.path.join(scratch, "peak")
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, peak_file]
        with open(os.devnull, "rb") as stdin:
            process = subprocess.Popen(
                launcher + list(command), cwd=cwd, env=None if env is None else dict(env), stdin=stdin,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                preexec_fn=(lambda: _join(procs_files)) if procs_files else None,
            )
        timed_out = threading.Event()

        def kill_group():
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill_group)
        timer.start()
        start = time.perf_counter()
        outputs = {}
        readers = [
            threading.Thread(target=lambda name, stream: outputs.__setitem__(name, stream.read()), args=(name, stream))
            for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
        ]
        for reader in readers:
            reader.start()
        try:
            process.wait()
        finally:
            seconds = time.perf_counter() - start
            timer.cancel()
        # A descendant that outlived the command would keep the output pipes open; the group is ours to end.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for reader in readers:
            reader.join()
        process.stdout.close()
        process.stderr.close()
        try:
            with open(peak_file) as stream:
                peak_kilobytes = int(stream.read())
        except (OSError, ValueError):  # killed at the timeout before it could report
            peak_kilobytes = 0
    return ChildRun(
        returncode=process.returncode,
        seconds=seconds,
        peak_rss_bytes=peak_kilobytes * 1024,  # Linux reports kilobytes
        stdout=outputs.get("stdout", b"").decode("utf-8", "replace"),
        stderr=outputs.get("stderr", b"").decode("utf-8", "replace"),
        timed_out=timed_out.is_set(),
    )
