"""Build the nbgrader source notebooks of assignment 1 from their cell files.

Usage, from the repository root::

    python -m instructor.release.notebooks          # write solutions/source/assignment1/{knn,svm,softmax}.ipynb
    python -m instructor.release.notebooks --check  # exit 1 if a committed notebook differs; write nothing

Each notebook is written in a percent-format file beside this one (``knn_notebook.py``, ...), which editors
show as cells and which diffs well. The committed ``.ipynb`` files are what nbgrader reads; they carry no
outputs and say in their metadata that they are generated. A cell starts with a header line:

``# %%``
    provided code, read-only (nbgrader ``locked``);
``# %% include=setup``
    the shared first cell (:data:`SETUP`): finds the bundle, imports its ``cs231n``, enables autoreload;
``# %% answer id=ID``
    code the student writes (nbgrader solution cell; fence the solution with ``### BEGIN/END SOLUTION``);
``# %% test id=test_NAME points=N``
    an autograded test cell with visible asserts;
``# %% hidden name=NAME points=N``
    the autograded cell ``hidden_NAME`` that runs ``hidden_checks.check("NAME")`` inside HIDDEN TESTS fences;
``# %% [markdown]``
    text; its lines start with ``# `` (removed on build);
``# %% [markdown] answer id=inline_question_K points=N``
    a manually graded written answer.

In code cells a comment line ``# %name ...`` becomes the IPython magic ``%name ...``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

from cs231n.course import ASSIGNMENT, NOTEBOOKS
from instructor import fences
from instructor.course import REPO_ROOT, SOURCE_ROOT

CELL_FILES = SOURCE_ROOT  # <name>_notebook.py, the cell files the notebooks are written from
TARGET = SOURCE_ROOT / ASSIGNMENT
COMMAND = "python -m instructor.release.notebooks"
HEADER = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?P<options>(?: \S+)*)\s*$")
MAGIC = re.compile(r"^# (%(?:load_ext|autoreload|matplotlib)\b.*)$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

SETUP = '''\
# Run this cell first. It finds the assignment bundle (the nearest folder above this notebook that holds
# cs231n/), imports your cs231n package from there, and reloads your edits to cs231n/classifiers/*.py
# automatically: no kernel restart needed after you change them.
import os
import sys
from pathlib import Path

# One BLAS thread: the matrix products here are small or medium, and on a machine whose cores are busy
# extra BLAS threads mostly wait for each other. Export OPENBLAS_NUM_THREADS before starting Jupyter to change it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def find_bundle_root(start):
    """The nearest folder at or above ``start`` holding cs231n/data_utils.py."""
    for folder in (start, *start.parents):
        if (folder / "cs231n" / "data_utils.py").is_file():
            return folder
    raise FileNotFoundError(
        f"no cs231n/data_utils.py in {start} or any folder above it: open this notebook from the "
        "assignment1/ folder of the unpacked assignment bundle"
    )


BUNDLE_ROOT = find_bundle_root(Path.cwd().resolve())
if str(BUNDLE_ROOT) in sys.path:
    sys.path.remove(str(BUNDLE_ROOT))
sys.path.insert(0, str(BUNDLE_ROOT))

# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

# Quick mode shrinks the data and the searches to seconds, for tests and fast grading. It is on when
# CS231N_QUICK is set (to anything but 0) or when nbgrader runs the notebook to grade or validate it.
QUICK = os.environ.get("CS231N_QUICK", "0") not in ("", "0") or os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")

import numpy as np
import matplotlib.pyplot as plt

plt.rcParams["figure.figsize"] = (10.0, 8.0)
plt.rcParams["image.interpolation"] = "nearest"
plt.rcParams["image.cmap"] = "gray"
print(f"cs231n package from {BUNDLE_ROOT / 'cs231n'}" + (" (quick mode: small data and searches)" if QUICK else ""))'''

HIDDEN = '''\
# Hidden tests ({points} points) run here when your work is graded: they compare {name} with the reference
# implementation on inputs you do not see, including edge cases. In your copy this comment is all it holds.
{hidden_begin}
import hidden_checks

hidden_checks.check("{name}")
{hidden_end}'''


class CellFileError(ValueError):
    """A cell file does not follow the format described in this module's docstring."""


def _options(text: str, where: str) -> tuple[str | None, dict[str, str]]:
    """Split ``answer id=x points=2`` into the kind (``answer``) and the key=value options."""
    kind, options = None, {}
    for word in text.split():
        if "=" in word:
            key, _, value = word.partition("=")
            options[key] = value
        elif kind is None:
            kind = word
        else:
            raise CellFileError(f"{where}: more than one cell kind in the header ({text.strip()!r})")
    return kind, options


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _points(options: dict, where: str) -> int:
    try:
        points = int(options["points"])
    except (KeyError, ValueError):
        raise CellFileError(f"{where}: a graded cell needs points=N (a whole number)") from None
    if points <= 0:
        raise CellFileError(f"{where}: points must be positive, got {points}")
    return points


def _markdown_text(lines: list[str], where: str) -> str:
    out = []
    for line in lines:
        if line == "#":
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        elif not line.strip():
            out.append("")
        else:
            raise CellFileError(f"{where}: markdown lines must start with '# ', found {line!r}")
    return "\n".join(out).strip("\n")


def _code_text(lines: list[str]) -> str:
    return "\n".join(MAGIC.sub(r"\1", line) for line in lines).strip("\n")


def parse_cells(text: str, notebook: str) -> list[dict]:
    """Turn a cell file into nbformat cells with nbgrader metadata.

    Parameters
    ----------
    text : str
        The percent-format cell file.
    notebook : str
        Its name, used in error messages.

    Returns
    -------
    list of dict
        nbformat v4 cells (no outputs, ``execution_count`` None).
    """
    blocks, current = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        match = HEADER.match(line)
        if match:
            current = {"line": number, "markdown": bool(match["markdown"]), "options": match["options"], "body": []}
            blocks.append(current)
        elif current is None:
            if line.strip() and not line.startswith("#"):
                raise CellFileError(f"{notebook}:{number}: text before the first '# %%' header")
        else:
            current["body"].append(line)

    cells, grade_ids = [], set()
    for index, block in enumerate(blocks):
        where = f"{notebook}:{block['line']}"
        kind, options = _options(block["options"], where)
        if block["markdown"]:
            source = _markdown_text(block["body"], where)
            if kind is None:
                cell = nbformat.v4.new_markdown_cell(source)
            elif kind == "answer":
                cell = nbformat.v4.new_markdown_cell(
                    source, metadata=_nbgrader(options["id"], grade=True, solution=True, points=_points(options, where))
                )
            else:
                raise CellFileError(f"{where}: unknown markdown cell kind {kind!r}")
        else:
            if options.get("include") == "setup":
                if _code_text(block["body"]):
                    raise CellFileError(f"{where}: the setup cell is included whole; leave its body empty")
                cell = nbformat.v4.new_code_cell(_code_text(SETUP.splitlines()), metadata=_nbgrader("setup", locked=True))
            elif kind is None:
                cell = nbformat.v4.new_code_cell(
                    _code_text(block["body"]), metadata=_nbgrader(options.get("id", f"cell_{index:02d}"), locked=True)
                )
            elif kind == "answer":
                cell = nbformat.v4.new_code_cell(_code_text(block["body"]), metadata=_nbgrader(options["id"], solution=True))
            elif kind == "test":
                cell = nbformat.v4.new_code_cell(
                    _code_text(block["body"]),
                    metadata=_nbgrader(options["id"], grade=True, locked=True, points=_points(options, where)),
                )
            elif kind == "hidden":
                points = _points(options, where)
                if _code_text(block["body"]):
                    raise CellFileError(f"{where}: a hidden cell is generated; leave its body empty")
                cell = nbformat.v4.new_code_cell(
                    HIDDEN.format(name=options["name"], points=points, hidden_begin=fences.HIDDEN_BEGIN_LINE,
                                  hidden_end=fences.HIDDEN_END_LINE),
                    metadata=_nbgrader(f"hidden_{options['name']}", grade=True, locked=True, points=points),
                )
            else:
                raise CellFileError(f"{where}: unknown code cell kind {kind!r}")
        meta = cell["metadata"].get("nbgrader")
        if meta:
            if meta["grade_id"] in grade_ids:
                raise CellFileError(f"{where}: grade_id {meta['grade_id']!r} is used twice")
            grade_ids.add(meta["grade_id"])
            if meta["solution"] and fences.BEGIN_SOLUTION not in cell["source"]:
                raise CellFileError(f"{where}: answer cell {meta['grade_id']!r} has no ### BEGIN SOLUTION fence")
        cell["id"] = (meta["grade_id"] if meta else f"md_{index:02d}").replace("_", "-")
        cells.append(cell)
    return cells


def build_notebook(name: str) -> str:
    """The text of ``assignment1/NAME.ipynb`` built from ``NAME_notebook.py``."""
    source = CELL_FILES / f"{name}_notebook.py"
    cells = parse_cells(source.read_text(encoding="utf-8"), source.name)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook["metadata"] = {
        "cs231n_source": (
            f"GENERATED by `{COMMAND}` from solutions/source/{source.name}; edit that file and run the command."
        ),
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    nbformat.validate(notebook)
    # Metadata first, so the "generated" note is in the first lines of the file.
    ordered = {"metadata": notebook["metadata"], "cells": notebook["cells"],
               "nbformat": notebook["nbformat"], "nbformat_minor": notebook["nbformat_minor"]}
    for cell in ordered["cells"]:
        text = cell["source"]
        cell["source"] = text.splitlines(keepends=True)
    return json.dumps(ordered, indent=1, ensure_ascii=False) + "\n"


def write_notebooks(check: bool = False) -> list[Path]:
    """Write every notebook (or with ``check=True`` only compare); return the paths that were stale."""
    stale = []
    for name in NOTEBOOKS:
        path = TARGET / f"{name}.ipynb"
        text = build_notebook(name)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not check:
            path.write_text(text, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the source notebooks of assignment 1 from their cell files.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a notebook is stale; write nothing")
    args = parser.parse_args(argv)
    stale = write_notebooks(check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(REPO_ROOT)}")
    if args.check and stale:
        print(f"Run `{COMMAND}` to rebuild them.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
