"""Package your assignment for submission (what ``bash collectSubmission.sh`` runs).

Usage, from the bundle's top folder::

    bash collectSubmission.sh                  # writes cs231n_assignment1_submission.zip
    bash collectSubmission.sh -o my_name.zip   # another file name

The zip holds the five notebooks of ``assignment1/`` and your five modules in ``cs231n/classifiers/``, as
they are, plus ``MANIFEST.sha256`` (their SHA-256 checksums). Datasets, virtual environments, notebook
checkpoints and caches are never included.

Unfinished work is packaged too: you can hand in what you have at any time, and run this again later to
replace the zip. After writing the zip the script lists what is unfinished:

- what scores 0 as it stands: a function that still raises the release's
  ``NotImplementedError("Implement ...")`` (its visible and hidden tests), a module that does not parse
  (Python cannot import ``cs231n.classifiers``, so every test of the assignment fails), an empty written
  answer, a missing notebook (a missing module is graded as the released stub);
- what is unfinished but has no points of its own: a notebook never run, a notebook whose last run ended
  in an error, a notebook code cell that still raises ``NotImplementedError``. The grader runs every
  notebook again with your modules, so no points depend on your own run, but these usually mean work is
  left.

Nothing is written, and the exit status is 1, only when there is nothing to hand in (every module as
released, per ``RELEASE.sha256``, and no answer written in any notebook), when a file cannot be read (no
permission, a notebook that is not a notebook), or when none of the files is found (the wrong folder).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cs231n.course import RELEASE_RECORD, STUB_PREFIX, STUDENT_MODULES as MODULES, STUDENT_NOTEBOOKS as NOTEBOOKS
from cs231n.course import SUBMISSION_MANIFEST as MANIFEST, SUBMISSION_ZIP as DEFAULT_OUTPUT, UNANSWERED, UNWRITTEN_CELL

ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class SubmissionError(Exception):
    """A problem that stops packaging; the message says what and how to fix it."""


@dataclass
class Findings:
    """What was found in the bundle: the files to pack and what is unfinished.

    ``scores_zero`` lists what earns no points as it stands, ``unfinished`` what is left undone but has no
    points of its own, and ``worked_on`` whether anything differs from the release at all.
    """

    files: dict = field(default_factory=dict)
    scores_zero: list = field(default_factory=list)
    unfinished: list = field(default_factory=list)
    worked_on: bool = False


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _points(value) -> str:
    return f"{value:g} point{'' if value == 1 else 's'}" if isinstance(value, (int, float)) else "points"


def read_notebook(name: str, data: bytes) -> list:
    """The cells of a notebook file, or ``SubmissionError`` when it is not a notebook at all."""
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
            raise TypeError("'cells' is not a list of cells")
    except (ValueError, KeyError, TypeError) as error:
        raise SubmissionError(
            f"{name} cannot be read as a notebook ({type(error).__name__}: {error}); restore it from "
            f"{name.rsplit('/', 1)[0]}/.ipynb_checkpoints/ or from the release, then run this again"
        ) from None
    return cells


def check_notebook(name: str, cells: list, findings: Findings) -> None:
    """Add what is unfinished in one notebook's ``cells`` to ``findings``.

    The last cell you ran is the one with the highest execution count, wherever it sits in the notebook.
    """
    empty, unwritten = [], []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            if UNANSWERED in text:
                empty.append(f"{meta.get('grade_id', 'a written answer')} (worth {_points(meta.get('points'))})")
            else:
                findings.worked_on = True
        elif UNWRITTEN_CELL in text and "raise NotImplementedError" in text:
            unwritten.append(str(meta.get("grade_id", "?")))
        else:
            findings.worked_on = True
    if empty:
        findings.scores_zero.append(f"{name}: written answers still empty, scored 0: {', '.join(empty)}")
    if unwritten:
        findings.unfinished.append(
            f"{name}: code cell{'s' if len(unwritten) > 1 else ''} {', '.join(unwritten)} still "
            f"raise{'' if len(unwritten) > 1 else 's'} NotImplementedError (write the code where it says "
            "YOUR CODE HERE and delete that line)"
        )

    executed = [c for c in cells if c.get("cell_type") == "code" and isinstance(c.get("execution_count"), int)]
    if not executed:
        findings.unfinished.append(f"{name}: never run (Kernel > Restart Kernel and Run All Cells, then save)")
        return
    last = max(executed, key=lambda c: c["execution_count"])
    errors = [o for o in last.get("outputs", []) if isinstance(o, dict) and o.get("output_type") == "error"]
    if errors:
        findings.unfinished.append(
            f"{name}: the last cell you ran ended in an error "
            f"({errors[0].get('ename', 'Error')}: {str(errors[0].get('evalue', ''))[:120]})"
        )


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
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith(STUB_PREFIX)


def stub_functions(source: bytes | str, filename: str = "<module>") -> list:
    """Names of the functions in ``source`` that still raise the release's ``NotImplementedError("Implement ...")``.

    Raises ``SyntaxError`` (or ``ValueError`` for null bytes) when the source does not parse.
    """
    tree = ast.parse(source, filename=filename)
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


def unimplemented_functions(path: Path) -> list:
    """:func:`stub_functions` of the module file at ``path``."""
    return stub_functions(path.read_bytes(), str(path))


def check_module(name: str, data: bytes, released: str | None, findings: Findings) -> None:
    """Add what is unfinished in one module to ``findings``; ``released`` is its checksum as released."""
    if released != hashlib.sha256(data).hexdigest():
        findings.worked_on = True
    try:
        todo = stub_functions(data, name)
    except (SyntaxError, ValueError) as error:
        where = f" at line {error.lineno}" if getattr(error, "lineno", None) else ""
        findings.scores_zero.append(
            f"{name}: does not parse ({type(error).__name__}{where}: {getattr(error, 'msg', error)}); Python "
            "cannot import cs231n.classifiers, so every test of the assignment fails until you fix it"
        )
        return
    if todo:
        findings.scores_zero.append(
            f"{name}: {', '.join(todo)} still raise{'s' if len(todo) == 1 else ''} NotImplementedError, "
            f"so {'its tests score' if len(todo) == 1 else 'their tests score'} 0"
        )


def release_checksums(root: Path) -> dict:
    """Checksums of the files as released (``RELEASE.sha256``), by path; empty when the record is absent."""
    try:
        text = (root / RELEASE_RECORD).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    checksums = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if line.startswith("#") or not name:
            continue
        checksums[name.strip()] = digest.strip().lower()
    return checksums


def _read(root: Path, name: str) -> bytes | None:
    """The bytes of ``root/name``, ``None`` when it does not exist; ``SubmissionError`` when unreadable."""
    path = root / name
    if not path.exists():
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise SubmissionError(
            f"{name} cannot be read ({error.strerror or error}); fix its permissions or restore it from the "
            "release, then run this again"
        ) from None


def collect(root: Path) -> Findings:
    """Read the allow-listed files under the bundle ``root`` and find what is unfinished.

    Raises
    ------
    SubmissionError
        When a file cannot be read, none of the files exists, or nothing differs from the release.
    """
    findings = Findings()
    released = release_checksums(root)
    for name in MODULES + NOTEBOOKS:
        data = _read(root, name)
        if data is None:
            consequence = "its points are 0" if name in NOTEBOOKS else "graded as the released stub"
            findings.scores_zero.append(f"{name}: missing, {consequence}")
            continue
        if name in NOTEBOOKS:
            check_notebook(name, read_notebook(name, data), findings)
        else:
            check_module(name, data, released.get(name), findings)
        findings.files[name] = data
    if not findings.files:
        raise SubmissionError(
            f"none of {', '.join(NOTEBOOKS + MODULES)} is under {root}; run this from the assignment's top folder"
        )
    if not findings.worked_on:
        raise SubmissionError(
            f"nothing to hand in yet: every module in cs231n/classifiers/ is as released ({RELEASE_RECORD}) "
            "and no answer is written in the notebooks. Implement a function or answer a question first"
        )
    return findings


def write_zip(files: dict, output: Path) -> Path:
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


def report(findings: Findings, output: Path) -> str:
    """The text printed after packaging: what was written and what is unfinished."""
    lines = [f"Wrote {output} ({len(findings.files)} files and {MANIFEST}). Upload this file."]
    if not (findings.scores_zero or findings.unfinished):
        lines.append("Nothing is left unfinished that this script can see.")
        return "\n".join(lines)
    lines += ["", "Unfinished, packaged as it is (finish it, run this again and upload the new zip to replace it):"]
    if findings.scores_zero:
        lines.append("  Scores 0 as it stands:")
        lines += [f"    - {item}" for item in findings.scores_zero]
    if findings.unfinished:
        lines.append("  Left to do (the grader runs the notebooks again, so these have no points of their own):")
        lines += [f"    - {item}" for item in findings.unfinished]
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package assignment 1 for submission, finished or not.")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="zip to write (default: %(default)s)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the assignment's top folder (default: here)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        findings = collect(root)
    except SubmissionError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        print("Nothing was packaged.", file=sys.stderr)
        return 1
    output = Path(args.output)
    if not output.is_absolute():
        output = root / output
    write_zip(findings.files, output)
    print(report(findings, output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
