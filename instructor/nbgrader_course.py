"""nbgrader courses made from ``solutions/``: the one way the release, grading, the demo and the benchmarks
get a course to run nbgrader in, and the one way they run it.

A *scratch course* is a fresh folder holding the course's ``nbgrader_config.py`` and the assignment's
source notebooks (and, for grading, the files nbgrader needs beside them). Nothing is ever generated in
``solutions/`` itself, so the single source stays clean.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from instructor.course import ASSIGNMENT, COURSE_DIR, NOTEBOOKS, source_dir, tool_env

CONFIG = "nbgrader_config.py"


def run_nbgrader(args: list[str], course_dir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course_dir``; raise ``RuntimeError`` with nbgrader's log when it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(
        command, cwd=course_dir, env=tool_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed in {course_dir} (exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    return done


def missing_notebooks(course_dir: Path = COURSE_DIR) -> list[Path]:
    """The source notebooks the course should have and does not."""
    return [source_dir(course_dir) / f"{name}.ipynb" for name in NOTEBOOKS
            if not (source_dir(course_dir) / f"{name}.ipynb").is_file()]


def scratch_course(root: Path, course_dir: Path = COURSE_DIR, extra: Iterable[tuple[Path, str]] = ()) -> Path:
    """Make ``root`` a fresh nbgrader course built from ``course_dir``; return ``root``.

    Parameters
    ----------
    root : Path
        The folder to (re)create; whatever it held is removed.
    course_dir : Path
        The source course (default ``solutions/``): its ``nbgrader_config.py`` and source notebooks are copied.
    extra : iterable of (Path, str)
        More files for ``source/<assignment>/``: each absolute source path and its relative target there
        (the hidden checks, the trusted ``cs231n`` package).

    Raises
    ------
    FileNotFoundError
        When a source notebook or an extra file is missing; the message names them.
    """
    extra = list(extra)
    missing = missing_notebooks(course_dir) + [path for path, _ in extra if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            "cannot build the nbgrader course without " + ", ".join(str(p) for p in missing)
            + f"; the course is built from {source_dir(course_dir)} ({', '.join(n + '.ipynb' for n in NOTEBOOKS)})"
        )
    shutil.rmtree(root, ignore_errors=True)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy2(course_dir / CONFIG, root / CONFIG)
    for name in NOTEBOOKS:
        shutil.copy2(source_dir(course_dir) / f"{name}.ipynb", source / f"{name}.ipynb")
    for path, relative in extra:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, source / relative)
    return root


def generate_assignment(root: Path) -> Path:
    """Run ``nbgrader generate_assignment`` in the course ``root``; return its release folder.

    It also creates (or updates) the course's ``gradebook.db`` with the assignment's cells.
    """
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.root={root}"], root)
    return root / "release" / ASSIGNMENT
