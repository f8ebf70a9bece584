"""Loading CIFAR-10 and the notebooks' preprocessing: time against reading the files, and peak memory.

Times are taken in this process, side by side with their basis. Peak memory is taken in a fresh process
per step (:mod:`.probe`), so that nothing loaded earlier inflates it; the ratio is the memory the step
added beyond the arrays it returns, as a multiple of those arrays.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from tqdm import tqdm

from cs231n.data_utils import get_CIFAR10_data, load_CIFAR10

from .probe import STEPS
from .report import Report, Row
from .settings import REPO_ROOT
from .timing import Stats, compare, run_child

QUICK_SPLITS = {"num_training": 200, "num_validation": 50, "num_test": 50, "num_dev": 50}


def probe_memory(step: str, folder, splits: dict, runs: int):
    """Peak resident memory of ``step`` in fresh processes, one per run.

    Returns ``(peaks, growths)``: the process's peak in bytes, and how much the peak grew during the step
    as a multiple of the bytes of the arrays the step returned (1.0 means no temporary outlived its use).
    """
    peaks, growths = [], []
    for _ in range(runs):
        command = [sys.executable, "-m", "bench.probe", step, str(folder), json.dumps(splits)]
        result = run_child(command, cwd=str(REPO_ROOT), timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"the memory probe of {step} failed (exit {result.returncode}): {result.stderr[-500:]}")
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        peaks.append(outcome["peak_after"])
        growths.append((outcome["peak_after"] - outcome["peak_before"]) / outcome["output_bytes"])
    return peaks, growths


def run_loading(report: Report, data, settings) -> None:
    """Rows: load_CIFAR10 against reading the batch files; get_CIFAR10_data against load_CIFAR10; peaks."""
    section = "loading"
    folder = data.cifar_folder()
    splits = QUICK_SPLITS if settings.quick else {}
    batch_files = sorted(folder.glob("*_batch*"))

    def read_files():
        for path in batch_files:
            path.read_bytes()

    def load():
        load_CIFAR10(folder, dtype=np.uint8)  # as get_CIFAR10_data loads it

    result = compare(load, read_files, **settings.slow())
    report.add(Row(section, "load_CIFAR10 uint8 time", result.candidate, "s", result.ratio, "reading the batch files"))
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        result = compare(lambda: get_CIFAR10_data(dtype=dtype, cifar10_dir=folder, **splits), load,
                         **settings.slow())
        report.add(Row(section, f"get_CIFAR10_data {name} time", result.candidate, "s", result.ratio, "load_CIFAR10"))

    memory_runs = 1 if settings.quick else 2  # peaks are nearly deterministic; two runs show that they are
    for step in tqdm(STEPS, desc="loading peak memory", leave=False):
        peaks, growths = probe_memory(step, folder, splits, memory_runs)
        report.add(Row(section, f"{step} peak memory", Stats.of(peaks), "B", Stats.of(growths),
                       "returned arrays (peak growth / their bytes)", note="peak RSS of a fresh process"))
