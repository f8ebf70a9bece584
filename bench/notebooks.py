"""Each solution notebook end to end on the reference submission: wall time and peak memory against budgets.

The reference submission is a copy of the bundle in which ``solutions/cs231n/classifiers/*.py`` overwrite
``cs231n/classifiers/``; the solution notebooks ``solutions/source/assignment1/*.ipynb`` run inside its
``assignment1/`` folder with a real Jupyter kernel, one fresh process tree per run, reading CIFAR-10 from
``CIFAR10_DIR``. The peak is the largest resident set of any process of the tree (the kernel's).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from tqdm import tqdm

from cs231n.course import NOTEBOOKS

from .report import Report, Row, Target
from .settings import REPO_ROOT
from .timing import Stats, run_child

REFERENCE_DIR = REPO_ROOT / "solutions" / "cs231n" / "classifiers"
# Half of what the classic notebooks take on the 2-core machine (80, 50 and 31 s; 2.7 GB peak each). For
# two_layer_net and features that solution set's time was not recorded (its network search alone runs over an
# hour here, so half would be 30 minutes or more); their budgets are this bundle's own, far below that.
TIME_BUDGETS = {"knn": 40.0, "svm": 25.0, "softmax": 15.5, "two_layer_net": 150.0, "features": 75.0}  # s, full data
MEMORY_BUDGET = 1.35e9  # bytes, each notebook
ACCURACY_LINE = re.compile(r"accuracy", re.IGNORECASE)
TERMINAL_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def missing_parts(source_dir: Path) -> list:
    """The files the section needs and does not find (empty when it can run)."""
    needed = [source_dir / f"{name}.ipynb" for name in NOTEBOOKS] + [REFERENCE_DIR / "linear_svm.py"]
    return [str(path) for path in needed if not path.is_file()]


def reference_bundle(target: Path, source_dir: Path) -> Path:
    """Build the reference submission in ``target`` (replaced): ``cs231n/`` with the reference classifiers,
    and ``assignment1/`` with the solution notebooks and the files beside them. Returns ``target``."""
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO_ROOT / "cs231n", target / "cs231n", ignore=ignore)
    for module in REFERENCE_DIR.glob("*.py"):
        shutil.copy2(module, target / "cs231n" / "classifiers" / module.name)
    shutil.copytree(source_dir, target / "assignment1", ignore=ignore)
    return target


def accuracy_lines(executed: Path, limit: int = 2) -> list:
    """The last ``limit`` printed lines that mention an accuracy, from an executed notebook."""
    lines = []
    for cell in nbformat.read(executed, as_version=4).cells:
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        # One print can arrive as two stream outputs (the kernel flushes on a timer): join before splitting.
        text = "".join(output.get("text", "") for output in outputs if output.get("output_type") == "stream")
        lines += [line.strip() for line in text.splitlines() if ACCURACY_LINE.search(line)]
    return lines[-limit:]


def slowest_cells(executed: Path, limit: int = 2) -> list:
    """``[(seconds, cell index, first code line), ...]`` of the slowest cells of an executed notebook, from
    the start and end times nbclient records in each cell's metadata."""
    timed = []
    for index, cell in enumerate(nbformat.read(executed, as_version=4).cells):
        execution = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in execution and "shell.execute_reply" in execution:
            start = datetime.datetime.fromisoformat(execution["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.datetime.fromisoformat(execution["shell.execute_reply"].replace("Z", "+00:00"))
            first = next((line for line in cell.source.splitlines() if line and not line.startswith("#")), "")
            timed.append(((end - start).total_seconds(), index, first[:60]))
    return sorted(timed, reverse=True)[:limit]


def run_notebooks(report: Report, data, settings) -> None:
    """Rows: wall time of each notebook against its budget, and its peak memory against its budget."""
    section = "notebooks"
    missing = missing_parts(settings.notebook_source)
    if missing:
        report.skip(section, f"{', '.join(missing)} absent")
        return
    bundle = reference_bundle(settings.work_dir / "reference-bundle", settings.notebook_source)
    env = dict(os.environ)
    env["CIFAR10_DIR"] = str(data.cifar_folder(prefer_real=True))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if settings.quick:
        env["CS231N_QUICK"] = "1"
    else:
        env.pop("CS231N_QUICK", None)
    setting = "quick setting" if settings.quick else "full setting"
    if data.is_generated(env["CIFAR10_DIR"]):
        setting += ", generated data"
    for name in tqdm(NOTEBOOKS, desc="notebooks", leave=False):
        notebook = bundle / "assignment1" / f"{name}.ipynb"
        seconds, peaks, errors = [], [], []
        for _ in range(settings.heavy_runs):
            result = run_child([sys.executable, "-m", "bench.run_notebook", str(notebook)],
                               cwd=str(REPO_ROOT), env=env, timeout=1800)
            seconds.append(result.seconds)
            peaks.append(result.peak_rss_bytes)
            if result.returncode != 0:
                outcome = result.stdout.strip().splitlines()[-1:] or [result.stderr.strip()[-300:]]
                error = json.loads(outcome[0]).get("error") if outcome[0].startswith("{") else outcome[0]
                errors.append(TERMINAL_COLOUR.sub("", str(error)))
        executed = notebook.with_name(f"{name}.executed.ipynb")
        accuracies = accuracy_lines(executed) if executed.is_file() else []
        slowest = slowest_cells(executed) if executed.is_file() else []
        slow_text = ", ".join(f"cell {index} {seconds:.1f} s ({first})" for seconds, index, first in slowest)
        note = "; ".join(accuracies)
        failure = errors[0] if errors else ""
        budget = TIME_BUDGETS[name]
        report.add(Row(section, f"{name}.ipynb wall time ({setting})", Stats.of(seconds), "s",
                       Stats.of([s / budget for s in seconds]), f"budget {budget:g} s",
                       Target(1.0, text=f"{budget:g} s"), note, failure))
        report.add(Row(section, f"{name}.ipynb peak memory ({setting})", Stats.of(peaks), "B",
                       Stats.of([p / MEMORY_BUDGET for p in peaks]), f"budget {MEMORY_BUDGET / 1e9:g} GB",
                       Target(1.0, text=f"{MEMORY_BUDGET / 1e9:g} GB"), f"slowest: {slow_text}" if slow_text else ""))
