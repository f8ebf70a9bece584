"""Find instructor material in a student archive: solutions, hidden tests, reference values, instructor files.

Usage::

    python -m instructor.release.leaks dist/cs231n-assignment1.zip   # exit 1 and list what leaked

The release build runs this on every archive it writes and deletes an archive with findings.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path, PurePosixPath

from instructor import fences
from instructor.course import COURSE_DIR, REPO_ROOT, reference_dir, source_dir

INSTRUCTOR_NAMES = {"nbgrader_config.py", "gradebook.db", "hidden_checks.py"}
INSTRUCTOR_FOLDERS = {"solutions", "instructor", "bench", "tests", ".ci", "grading", "autograded", "submitted"}
# Serialized arrays could carry reference outputs; the bundle has no reason to ship any.
DATA_SUFFIXES = {".db", ".npz", ".npy", ".pkl", ".pickle"}
MIN_LINE = 16  # shorter fenced lines ("loss = 0.0") are too common to prove anything
NUMBER = re.compile(r"-?\d+\.\d{4,}(?:e[-+]?\d+)?")


def _notebook_cells(text: str) -> list[dict]:
    return json.loads(text).get("cells", [])


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _output_texts(cell: dict) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        for value in [output.get("text", "")] + list(output.get("data", {}).values()):
            if isinstance(value, list):
                value = "".join(value)
            if isinstance(value, str):
                texts.append(value)
    return texts


def secret_material(course_dir: Path = COURSE_DIR, repo_root: Path = REPO_ROOT) -> tuple[set[str], set[str]]:
    """Lines that exist only inside solution or hidden-test fences, and numbers from the source outputs.

    Returns
    -------
    lines : set of str
        Stripped lines at least ``MIN_LINE`` long that appear inside a fence of the reference modules or
        the source notebooks and nowhere outside the fences.
    numbers : set of str
        Numbers with at least four decimals printed in the source notebooks' saved outputs.
    """
    inside, outside, numbers = set(), set(), set()
    texts = [p.read_text(encoding="utf-8") for p in sorted(reference_dir(repo_root).glob("*.py"))]
    for notebook in sorted(source_dir(course_dir).glob("*.ipynb")):
        for cell in _notebook_cells(notebook.read_text(encoding="utf-8")):
            texts.append(_cell_source(cell))
            for output in _output_texts(cell):
                numbers.update(NUMBER.findall(output))
    for text in texts:
        fenced, unfenced = fences.split_fenced(text.splitlines())
        inside |= fenced
        outside |= unfenced
    lines = {line for line in inside - outside if len(line) >= MIN_LINE}
    return lines, numbers


def _member_lines(name: str, data: bytes) -> tuple[list[str], list[str]]:
    """Text lines of a member (cell sources for notebooks) and its notebook output texts."""
    text = data.decode("utf-8")
    if not name.endswith(".ipynb"):
        return text.splitlines(), []
    lines, outputs = [], []
    for cell in _notebook_cells(text):
        lines.extend(_cell_source(cell).splitlines())
        outputs.extend(_output_texts(cell))
    return lines, outputs


def scan_archive(archive: Path, course_dir: Path = COURSE_DIR, repo_root: Path = REPO_ROOT) -> list[str]:
    """Return one finding per leak in the zip ``archive`` (empty when it is clean)."""
    secret_lines, secret_numbers = secret_material(course_dir, repo_root)
    findings = []
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            if info.is_dir():
                continue
            path = PurePosixPath(info.filename)
            parts = set(path.parts[1:])  # below the archive's top folder
            if path.name in INSTRUCTOR_NAMES or parts & INSTRUCTOR_FOLDERS or path.suffix in DATA_SUFFIXES:
                findings.append(f"{info.filename}: instructor file")
                continue
            data = opened.read(info)
            if b"\0" in data:
                continue  # binary (images): no text to leak
            try:
                lines, outputs = _member_lines(info.filename, data)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                findings.append(f"{info.filename}: unreadable ({error}); cannot prove it clean")
                continue
            for marker in sorted({fences.delimiter(line) for line in lines} - {None}):
                findings.append(f"{info.filename}: contains the marker '{marker}'")
            for line in lines:
                if line.strip() in secret_lines:
                    findings.append(f"{info.filename}: contains a solution or hidden-test line: {line.strip()!r}")
            if outputs:
                findings.append(f"{info.filename}: notebook has saved outputs (they can carry reference values)")
            for number in sorted(secret_numbers):
                if any(number in text for text in lines + outputs):
                    findings.append(f"{info.filename}: contains the reference value {number}")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="the student archive (.zip) to check")
    args = parser.parse_args(argv)
    findings = scan_archive(args.archive)
    for finding in findings:
        print(finding)
    if findings:
        return 1
    print(f"{args.archive}: no instructor material found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
