"""Run the solution notebooks end to end on real CIFAR-10 and report wall time, peak memory and accuracies.

Not a test: a measurement to run by hand on a quiet machine (it takes about two minutes). The "probe"
column is a fixed workload timed just before and after each notebook (see :func:`machine_probe`); on the
2-core machine it reads about 0.16 ms when the machine is quiet::

    .venv/bin/python -m bench.measure_notebooks                 # unpacks ../shared/datasets/cifar-10-python.tar.gz
    .venv/bin/python -m bench.measure_notebooks --cifar10-dir datasets/cifar-10-batches-py
    .venv/bin/python -m bench.measure_notebooks --quick knn     # quick mode, one notebook

Each notebook runs in a fresh "reference submission" bundle (the reference classifiers copied over the
stubs) under ``/usr/bin/time -v jupyter nbconvert --execute``: the wall time includes the kernel's start,
and the peak is the largest resident set of any process of the run, which is the kernel's; the CPU time (user
plus system, kernel included) is less sensitive than the wall time to other work on the machine. The slowest
cells come from the timing that nbconvert records in the executed notebook.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import nbformat

from bench.notebook_bundle import NOTEBOOKS, kernel_env, make_bundle, text_output
from instructor.course import SHARED_ARCHIVE
from bench.notebooks import MEMORY_BUDGET, TIME_BUDGETS, slowest_cells


# What each notebook prints about its results, and the targets they are held to.
FIGURES = {
    "knn": [("k=1 test accuracy", r"k=1: \d+ / \d+ correct, test accuracy ([\d.]+)", None),
            ("best k", r"best k from cross-validation: (\d+)", None),
            ("best-k test accuracy", r"best k = \d+: \d+ / \d+ correct, test accuracy ([\d.]+)", 0.275)],
    "svm": [("final validation accuracy", r"final validation accuracy ([\d.]+)", 0.40),
            ("test accuracy", r"final test accuracy ([\d.]+)", 0.38)],
    "softmax": [("final validation accuracy", r"final validation accuracy ([\d.]+)", 0.40),
                ("test accuracy", r"final test accuracy ([\d.]+)", 0.38)],
    "two_layer_net": [("best validation accuracy", r"two-layer net: best validation accuracy ([\d.]+)", 0.50),
                      ("test accuracy", r"two-layer net: best validation accuracy [\d.]+, test accuracy ([\d.]+)", 0.49)],
    "features": [("SVM test accuracy", r"linear SVM on features: best validation accuracy [\d.]+, test accuracy ([\d.]+)",
                  0.42),
                 ("net test accuracy", r"two-layer net on features: best validation accuracy [\d.]+, test accuracy ([\d.]+)",
                  0.55)],
}
PEAK_TARGET_GB = MEMORY_BUDGET / 1e9


def unpack_shared_archive(folder: Path) -> Path:
    if not SHARED_ARCHIVE.is_file():
        raise SystemExit(f"{SHARED_ARCHIVE} not found: pass --cifar10-dir with an unpacked CIFAR-10")
    with tarfile.open(SHARED_ARCHIVE) as archive:
        archive.extractall(folder, filter="data")
    return folder / "cifar-10-batches-py"


def measure(name: str, cifar10_dir: Path, quick: bool, scratch: Path) -> dict:
    assignment = make_bundle(scratch / name)
    env = kernel_env(cifar10_dir, quick=quick)
    command = ["/usr/bin/time", "-v", str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook",
               "--execute", "--ExecutePreprocessor.timeout=900", "--output", f"{name}.executed.ipynb", f"{name}.ipynb"]
    done = subprocess.run(command, cwd=assignment, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: nbconvert failed:\n{done.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr).group(1)) for kind in ("User", "System"))
    executed = nbformat.read(assignment / f"{name}.executed.ipynb", as_version=4)
    errors = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in executed.cells
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    printed = text_output(executed)
    figures = {}
    for label, pattern, _ in FIGURES[name]:
        match = re.search(pattern, printed)
        figures[label] = float(match.group(1)) if match else None
    return {"wall": hours * 3600 + minutes * 60 + seconds, "cpu": cpu, "peak_gb": peak_kb * 1024 / 1e9, "errors": errors,
            "figures": figures, "slowest": slowest_cells(assignment / f"{name}.executed.ipynb", limit=4)}


def machine_probe(rounds: int = 7) -> float:
    """Milliseconds per minibatch product ``(200, 3073) @ (3073, 10)`` in float32, median of ``rounds``.

    The machines these notebooks are timed on are shared: the same notebook can take 30% longer an hour
    later. Printed beside each notebook, this fixed workload tells a slow machine from a slow notebook.
    """
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3073)).astype(np.float32)
    W = rng.standard_normal((3073, 10)).astype(np.float32)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(500):
            X @ W
        times.append((time.perf_counter() - start) / 500 * 1e3)
    return sorted(times)[rounds // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help=f"some of {', '.join(NOTEBOOKS)} (default: all)")
    parser.add_argument("--cifar10-dir", type=Path, help="an unpacked cifar-10-batches-py (default: unpack the shared archive)")
    parser.add_argument("--quick", action="store_true", help="run in quick mode (CS231N_QUICK=1)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.notebooks) - set(NOTEBOOKS))
    if unknown:
        parser.error(f"unknown notebooks {unknown}; choose from {', '.join(NOTEBOOKS)}")
    with tempfile.TemporaryDirectory(prefix="cs231n-measure-") as scratch:
        scratch = Path(scratch)
        cifar10_dir = args.cifar10_dir.resolve() if args.cifar10_dir else unpack_shared_archive(scratch / "data")
        print(f"data: {cifar10_dir}; mode: {'quick' if args.quick else 'full'}")
        print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"{'notebook':<9} {'wall (s)':>9} {'CPU (s)':>8} {'target':>7} {'peak (GB)':>10} {'target':>7} "
              f"{'probe (ms)':>10}  figures")
        failed = False
        for name in args.notebooks or NOTEBOOKS:
            probe_before = machine_probe()
            result = measure(name, cifar10_dir, args.quick, scratch)
            probe = (probe_before + machine_probe()) / 2
            figures = ", ".join(
                f"{label} {value:g}" + (f" (target >= {target})" if target else "")
                for (label, _, target), value in zip(FIGURES[name], result["figures"].values())
                if value is not None
            )
            print(f"{name:<9} {result['wall']:>9.1f} {result['cpu']:>8.1f} {TIME_BUDGETS[name]:>7.1f} {result['peak_gb']:>10.2f} "
                  f"{PEAK_TARGET_GB:>7.2f} {probe:>10.3f}  {figures}")
            for seconds, _, line in result["slowest"]:
                print(f"{'':<11}{seconds:6.1f} s  {line}")
            if result["errors"]:
                failed = True
                print(f"{'':<11}cells that raised: {result['errors']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
