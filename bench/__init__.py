"""Benchmark suite of the bundle: the reference's kernels against their floors, loading, notebooks,
autograding and the fetch, as ratios measured side by side.

Modules, one job each: ``timing`` (medians, spreads, side-by-side pairs, peak memory of a child process),
``report`` (rows, verdicts, table, JSON), ``settings`` (shapes and run counts), ``data`` (real or generated
data), ``kernels`` (losses, kNN, training), ``loading`` and ``probe`` (loading and preprocessing),
``notebooks`` and ``run_notebook`` (the solution notebooks end to end), ``grading`` (the autograder's
throughput), ``sandbox`` (what the grading sandbox costs, and the vectorization check's margin), ``cluster`` (grading through a
local Dask scheduler), ``fetch`` (the fetch script over a loopback mirror).
Run it with ``python -m bench`` (``make bench``).
"""

from __future__ import annotations

import os
import sys

from . import data as data_module
from . import report as report_module
from .cluster import run_cluster
from .fetch import run_fetch
from .grading import run_grading
from .kernels import run_knn, run_losses, run_training
from .loading import run_loading
from .notebooks import run_notebooks
from .sandbox import run_sandbox
from .report import Report, table_lines

USES_LOSS_ARRAYS = {"losses", "training"}
SECTIONS = {
    "losses": run_losses,
    "knn": run_knn,
    "training": run_training,
    "loading": run_loading,
    "notebooks": run_notebooks,
    "grading": run_grading,
    "sandbox": run_sandbox,
    "cluster": run_cluster,
    "fetch": run_fetch,
}


def run(settings, sections, command: str) -> Report:
    """Run ``sections`` (names of :data:`SECTIONS`, in that order) and print the table; return the report."""
    report = Report(command=command)
    load_start = os.getloadavg()[0]
    source = data_module.resolve(settings)
    report.data_source = source.description
    print(f"data: {source.description}", file=sys.stderr)
    selected = [name for name in SECTIONS if name in sections]
    for index, name in enumerate(selected):
        print(f"running {name}", file=sys.stderr)
        SECTIONS[name](report, source, settings)
        if not set(selected[index + 1:]) & USES_LOSS_ARRAYS:
            source.release()
    machine = report_module.machine_description()
    report.notes.append(f"load average (1 min) {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
                        f"on {machine['cpus']} CPUs (above the CPU count, other work competed for them)")
    print(f"\nMachine: {machine['cpus']} x {machine['cpu']}, numpy {machine['numpy']} ({machine['blas']}); "
          f"{report.notes[-1]}.")
    print(f"\nData: {report.data_source}. Ratios are medians of per-pair ratios (candidate and basis timed side "
          "by side); spread is half the interquartile range over the runs, relative to the median.\n")
    for line in table_lines(report):
        print(line)
    return report
