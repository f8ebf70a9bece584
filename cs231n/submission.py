"""Check and package your assignment for submission (what ``bash collectSubmission.sh`` runs).

Usage, from the bundle's top folder::

    bash collectSubmission.sh                  # writes cs231n_assignment1_submission.zip
    bash collectSubmission.sh -o my_name.zip   # another file name

The zip holds exactly the three notebooks of ``assignment1/`` and your four modules in
``cs231n/classifiers/``, plus ``MANIFEST.sha256`` (their SHA-256 checksums). Datasets, virtual
environments, notebook checkpoints and caches are never included. Packaging stops with a message when a
file is missing, when a notebook was never run or its last run ended in an error, or when a function still
raises the release's ``NotImplementedError("Implement ...")``; an unanswered written question only gives a
warning.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import zipfile
from pathlib import Path

NOTEBOOKS = ("assignment1/knn.ipynb", "assignment1/svm.ipynb", "assignment1/softmax.ipynb")
MODULES = (
    "cs231n/classifiers/k_nearest_neighbor.py",
    "cs231n/classifiers/linear_svm.py",
    "cs231n/classifiers/softmax.py",
    "cs231n/classifiers/linear_classifier.py",
)
DEFAULT_OUTPUT = "cs231n_assignment1_submission.zip"
MANIFEST = "MANIFEST.sha256"
UNANSWERED = "YOUR ANSWER HERE"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class SubmissionError(Exception):
    """A problem that must be fixed before submitting; the message says what and how."""


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def check_notebook(path: Path) -> list[str]:
    """Raise ``SubmissionError`` for a notebook that cannot be graded as saved; return warnings.

    The last cell you ran (highest execution count) must not show an error, and at least one code cell
    must have been run.
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise SubmissionError(f"{path} is not a readable notebook ({error}); restore it from the release") from None
    executed = [c for c in cells if c.get("cell_type") == "code" and isinstance(c.get("execution_count"), int)]
    if not executed:
        raise SubmissionError(
            f"{path} was never run: open it, run all cells (Kernel > Restart & Run All) and save it"
        )
    last = max(executed, key=lambda c: c["execution_count"])
    errors = [o for o in last.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise SubmissionError(
            f"{path} ends in an error ({errors[0].get('ename', 'Error')}: {str(errors[0].get('evalue', ''))[:120]}); "
            "fix it, run all cells again and save"
        )
    warnings = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "markdown" and meta.get("solution") and UNANSWERED in _source(cell):
            warnings.append(f"{path}: the written answer {meta.get('grade_id', '')} is still empty")
    return warnings


def _is_stub_raise(node: ast.AST) -> bool:
    """``raise NotImplementedError("Implement ...")``: the line each TODO of the release starts with.

    Other ``NotImplementedError``s are part of the design (the abstract ``LinearClassifier.loss``).
    """
    if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
        return False
    call = node.exc
    if not (isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and call.args):
        return False
    first = call.args[0]
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("Implement ")


def unimplemented_functions(path: Path) -> list[str]:
    """Names of functions in the module that still raise the release's ``NotImplementedError("Implement ...")``.

    Raises ``SubmissionError`` when the module does not parse.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        raise SubmissionError(f"{path} has a syntax error at line {error.lineno}: {error.msg}") from None
    names = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(_is_stub_raise(inner) for inner in ast.walk(child)):
                    names.append(prefix + child.name)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return names


def collect(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Read and check the allow-listed files under the bundle ``root``; return (files, warnings)."""
    missing = [name for name in NOTEBOOKS + MODULES if not (root / name).is_file()]
    if missing:
        raise SubmissionError(
            "missing " + ", ".join(missing) + f" under {root}; run this from the assignment's top folder"
        )
    warnings: list[str] = []
    for name in NOTEBOOKS:
        warnings.extend(check_notebook(root / name))
    for name in MODULES:
        todo = unimplemented_functions(root / name)
        if todo:
            raise SubmissionError(
                f"{name}: {', '.join(todo)} still raise NotImplementedError; implement them first"
            )
    return {name: (root / name).read_bytes() for name in NOTEBOOKS + MODULES}, warnings


def write_zip(files: dict[str, bytes], output: Path) -> Path:
    """Write the submission zip with its manifest, using Python's zipfile (no ``zip`` program needed)."""
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()) + [(MANIFEST, manifest.encode())]:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    partial.replace(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check and package assignment 1 for submission.")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="zip to write (default: %(default)s)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the assignment's top folder (default: here)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        files, warnings = collect(root)
    except SubmissionError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        print("Nothing was packaged.", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    output = Path(args.output)
    if not output.is_absolute():
        output = root / output
    write_zip(files, output)
    print(f"Wrote {output} ({len(files)} files and {MANIFEST}). Upload this file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
