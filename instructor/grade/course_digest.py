"""What a checkout grades with, as one digest per part: two machines that agree on every part grade alike.

A grading worker on another machine builds everything it grades with from its own checkout (nothing of the
reference travels), so the client and each worker compute these digests, and a worker refuses to grade
when one part differs. The parts are what :func:`.notebooks.template_key` builds the template course from
(the nbgrader configuration, the source notebooks, the hidden checks, the trusted ``cs231n`` package), the
reference classifiers the hidden checks call, the grader itself, and the versions of what runs the
notebooks. Each file counts by its path relative to its folder and its bytes, so two checkouts in
different places agree.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from pathlib import Path

from instructor.course import (COURSE_DIR, GRADED_CALLS, HIDDEN_CHECKS, NOTEBOOKS, REPO_ROOT, reference_dir,
                               source_dir, trusted_package_files)

GRADER_DIR = Path(__file__).resolve().parents[1]  # the instructor package that is running
# Packages whose version can change a score: they run, execute or grade the notebooks and the checks.
GRADING_PACKAGES = ("numpy", "nbgrader", "nbconvert", "nbclient", "nbformat", "ipykernel", "jupyter_client")


def course_files(course_dir: Path) -> list[Path]:
    """The course's files that grading reads: nbgrader configuration, source notebooks, hidden checks."""
    source = source_dir(course_dir)
    return [course_dir / "nbgrader_config.py", source / HIDDEN_CHECKS, source / GRADED_CALLS,
            *(source / f"{name}.ipynb" for name in NOTEBOOKS)]


def digests(course_dir: Path = COURSE_DIR, repo_root: Path = REPO_ROOT) -> dict[str, str]:
    """The sha256 of each part that grading reads, by the part's name (which the refusals quote).

    Parameters
    ----------
    course_dir : Path, default COURSE_DIR
        The source course (``solutions/``).
    repo_root : Path, default REPO_ROOT
        The bundle with the trusted package and the reference classifiers.

    Raises
    ------
    FileNotFoundError
        When a file of the course or of the bundle is missing (the message names it).
    """
    parts = {
        "course (nbgrader configuration, source notebooks, hidden checks)": (course_dir, course_files(course_dir)),
        "trusted cs231n package": (repo_root, [repo_root / path for path in trusted_package_files(repo_root)]),
        "reference classifiers": (repo_root, sorted(reference_dir(repo_root).glob("*.py"))),
        "grader (the instructor package)": (GRADER_DIR, sorted(p for p in GRADER_DIR.rglob("*.py")
                                                               if "__pycache__" not in p.parts)),
    }
    missing = [str(path) for _, files in parts.values() for path in files if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"cannot grade without {', '.join(missing)}; the course needs its source notebooks, "
                                "hidden checks, the cs231n package and the reference classifiers")
    found = {name: _files_digest(folder, files) for name, (folder, files) in parts.items()}
    found["environment (Python and the grading packages)"] = hashlib.sha256(environment().encode()).hexdigest()
    return found


def environment() -> str:
    """Python's version and each grading package's, one ``name==version`` per line."""
    lines = [f"python=={'.'.join(map(str, sys.version_info[:3]))}"]
    for name in GRADING_PACKAGES:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"{name} absent")
    return "\n".join(lines)


def _files_digest(folder: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
