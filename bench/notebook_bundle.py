"""Temporary assignment bundles in which the notebooks run, and a Jupyter kernel to run them.

A bundle is laid out like the student release: ``cs231n/`` at the top and the notebooks in
``assignment1/``, so each notebook's first cell finds that ``cs231n`` package. With ``reference=True`` the
reference classifiers replace the stubs ("the reference submission"); otherwise the stubs stay untouched.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from instructor.course import ASSIGNMENT, REPO_ROOT, reference_dir, source_dir
from cs231n.course import NOTEBOOKS

SOURCE_DIR = source_dir()
REFERENCE_DIR = reference_dir()


def make_bundle(target: Path, notebooks_dir: Path = SOURCE_DIR, reference: bool = True) -> Path:
    """Copy ``cs231n/`` and the notebooks of ``notebooks_dir`` into ``target``; return ``target/assignment1``.

    Parameters
    ----------
    target : Path
        Empty or missing folder that becomes the bundle root.
    notebooks_dir : Path
        Where ``knn.ipynb``, ``svm.ipynb`` and ``softmax.ipynb`` are taken from (source or release).
    reference : bool
        Overwrite ``cs231n/classifiers/*.py`` with the reference solutions (the reference submission).
        The hidden checks come along so that the ``hidden_*`` cells of source notebooks can run.
    """
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_ROOT / "cs231n", target / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    assignment = target / ASSIGNMENT
    assignment.mkdir()
    for name in NOTEBOOKS:
        shutil.copy2(notebooks_dir / f"{name}.ipynb", assignment / f"{name}.ipynb")
    if reference:
        for path in REFERENCE_DIR.glob("*.py"):
            shutil.copy2(path, target / "cs231n" / "classifiers" / path.name)
        for helper in ("hidden_checks.py", "graded_calls.py"):  # hidden_checks imports graded_calls beside it
            shutil.copy2(SOURCE_DIR / helper, assignment / helper)
    return assignment


def kernel_env(cifar10_dir: Path | None, quick: bool = True, **extra: str) -> dict[str, str]:
    """The kernel's environment: this process's, with the data folder, the size switch and ``extra``."""
    env = dict(os.environ)
    for name in ("CS231N_QUICK", "NBGRADER_EXECUTION", "CIFAR10_DIR", "CS231N_REFERENCE_DIR"):
        env.pop(name, None)
    if quick:
        env["CS231N_QUICK"] = "1"
    if cifar10_dir is not None:
        env["CIFAR10_DIR"] = str(cifar10_dir)
    env["CS231N_REFERENCE_DIR"] = str(REFERENCE_DIR)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def execute(path: Path, env: dict[str, str], timeout: float = 300) -> tuple[nbformat.NotebookNode, float]:
    """Run every cell of the notebook at ``path`` in a fresh kernel, in its folder; errors do not stop it.

    Returns the executed notebook (also saved beside it as ``NAME.executed.ipynb``) and the wall time.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path.with_name(path.stem + ".executed.ipynb"))
    return notebook, seconds


def cell_errors(notebook) -> list[tuple[int, dict, dict]]:
    """``(index, cell, error output)`` for every code cell whose run ended in an error."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, cell, output))
    return found


def text_output(notebook) -> str:
    """Everything the notebook printed (stream outputs and plain-text results), in order.

    Stream outputs are joined as written: the kernel flushes stdout on a timer, so a busy machine can cut
    one ``print`` into two outputs, and a separator between them would break the printed line.
    """
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append("\n" + output["data"]["text/plain"] + "\n")
        parts.append("\n")
    return "".join(parts)


class LiveKernel:
    """A Jupyter kernel started in ``cwd`` that runs code cell by cell, for tests that edit files in between.

    Use as a context manager; :meth:`run` returns what the code printed and the error it raised (or None).
    """

    def __init__(self, cwd: Path, env: dict[str, str], timeout: float = 60):
        from jupyter_client import KernelManager

        self.timeout = timeout
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=timeout)

    def run(self, code: str) -> tuple[str, dict | None]:
        printed, error = [], None

        def collect(message):
            nonlocal error
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                error = message["content"]

        self.client.execute_interactive(code, output_hook=collect, timeout=self.timeout)
        return "".join(printed), error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
