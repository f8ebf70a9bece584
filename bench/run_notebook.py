"""Execute one notebook with a real Jupyter kernel, in the notebook's folder; used by the notebook benchmark.

Usage::

    python -m bench.run_notebook NOTEBOOK.ipynb [--timeout SECONDS]

Prints one JSON line: ``{"seconds": ..., "error": null or "<what failed>"}`` (seconds from kernel start
to the last cell). The executed notebook is written beside the original as ``<name>.executed.ipynb`` so
its outputs (accuracies, plots) can be read afterwards. Exit status 0 when every cell ran, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_notebook")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"{args.notebook} does not exist; pass the path of an .ipynb file")
    notebook = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(args.notebook.parent)}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
        error = f"{type(failure).__name__}: {str(failure).strip().splitlines()[-1] if str(failure).strip() else ''}"
    seconds = time.perf_counter() - start
    nbformat.write(notebook, args.notebook.with_name(args.notebook.stem + ".executed.ipynb"))
    print(json.dumps({"seconds": seconds, "error": error}))
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
