"""The floor of grading one submission: its notebooks run as grading runs them, and nothing else.

Usage (run by the grading section of ``make bench`` in a control group that counts its CPU time)::

    python -m bench.grading_floor CIFAR10_DIR SCRATCH

``SCRATCH/bundle`` holds the submission as :func:`bundle` makes it (the caller makes it, outside the count).
The reference submission's notebooks (the release notebooks with every answer filled in, the reference
classifiers in the trusted package) run one after the other, each in a fresh Jupyter kernel, in the grading
setting: quick mode, the grading data, figures not drawn, one BLAS thread. No sandbox, no intake, no
checks, no scoring: the student code itself plus one kernel start per notebook. Prints one JSON object:
per notebook ``[kernel start seconds, whole run seconds]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cs231n.course import ASSIGNMENT, NOTEBOOKS
from instructor.grade.runtime.outputs import GRADING_KERNEL_CONFIG


def bundle(target: Path) -> Path:
    """The reference submission as a grading sandbox gets it: package with the reference classifiers, and
    the release notebooks with every answer filled in."""
    from instructor.course import REPO_ROOT, reference_dir
    from instructor.demo import reference_files
    from instructor.grade.package import build_package

    build_package(target, REPO_ROOT, reference_dir())
    release = {name: (REPO_ROOT / ASSIGNMENT / f"{name}.ipynb").read_text(encoding="utf-8") for name in NOTEBOOKS}
    for name, data in reference_files(release).items():
        if name.endswith(".ipynb"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data)
    return target


def main(argv: list[str] | None = None) -> int:
    data_dir, scratch = (Path(arg) for arg in (argv or sys.argv[1:]))
    folder = scratch / "bundle"
    profile = scratch / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(GRADING_KERNEL_CONFIG, encoding="utf-8")
    os.environ.update({"CS231N_QUICK": "1", "CIFAR10_DIR": str(data_dir), "MPLBACKEND": "Agg",
                       "IPYTHONDIR": str(scratch / "ipython"), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    seconds = {}
    for name in NOTEBOOKS:
        notebook = nbformat.read(folder / ASSIGNMENT / f"{name}.ipynb", as_version=4)
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(folder / ASSIGNMENT)}})
        started = time.monotonic()
        with client.setup_kernel():
            kernel = time.monotonic() - started
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
        seconds[name] = [round(kernel, 3), round(time.monotonic() - started, 3)]
    print(json.dumps(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
