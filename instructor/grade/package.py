"""The ``cs231n`` package a sandbox runs: the instructor's trusted files with a submission's modules in it."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from instructor.course import STUDENT_MODULES, trusted_package_files

# Where the student's modules sit in a submission folder (and in the package): cs231n/classifiers.
STUDENT_MODULES_DIR = PurePosixPath(STUDENT_MODULES[0]).parent


def build_package(target: Path, trusted_root: Path, modules: Path) -> Path:
    """Write ``target/cs231n``: the trusted files found under ``trusted_root``, then the ``*.py`` of
    ``modules`` over them (a submission's classifiers, or the reference's); return ``target``.

    Nothing of a submission but the modules in ``modules`` is used: its other files never reach a sandbox.
    """
    for relative in trusted_package_files(trusted_root):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(trusted_root / relative, target / relative)
    classifiers = target / STUDENT_MODULES_DIR
    classifiers.mkdir(parents=True, exist_ok=True)
    for path in sorted(modules.glob("*.py")):
        shutil.copy2(path, classifiers / path.name)
    return target
