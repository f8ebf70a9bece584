"""The students' Python environment, built offline from the project's environment.

Students install ``solutions/student/requirements.txt`` (shipped as the archive's ``requirements.txt``) into
a fresh virtual environment. Without network, a test gets the same set of packages by taking from the
running environment exactly the distributions that those requirements pull in, transitively, and linking
their installed files (RECORD) into a new virtual environment: packages, ``share/jupyter`` (front-end
extensions, JupyterLab's assets) and ``etc/jupyter`` (server extension switches) alike. What the closure
does not reach, nbgrader and the test tools among them, is absent, as it would be for a student. The
versions are the running environment's: the pinned ones for the named packages, and for their
dependencies whatever the project's own install resolved, where a student's pip may pick newer ones.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from instructor.course import REPO_ROOT

STUDENT_REQUIREMENTS = REPO_ROOT / "solutions" / "student" / "requirements.txt"


def read_requirements(path: Path = STUDENT_REQUIREMENTS) -> list[Requirement]:
    """The requirements of a requirements file that apply to this interpreter (markers evaluated).

    Only plain requirement lines are supported: an option line (``-r``, ``--index-url``) is an error,
    since a student's file must stand alone.
    """
    requirements = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise ValueError(f"{path}:{number}: option line {line!r}: the student requirements must stand alone")
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            requirements.append(requirement)
    return requirements


def closure(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """The installed distributions that ``requirements`` pull in, transitively, by canonical name.

    Raises
    ------
    LookupError
        When a requirement is not installed here or its installed version does not satisfy it: then this
        environment cannot stand in for the students'.
    """
    found: dict[str, metadata.Distribution] = {}
    extras_seen: dict[str, set[str]] = {}
    pending = [(requirement, "the student requirements") for requirement in requirements]
    while pending:
        requirement, wanted_by = pending.pop()
        name = canonicalize_name(requirement.name)
        try:
            distribution = found.get(name) or metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise LookupError(f"{requirement} (needed by {wanted_by}) is not installed in {sys.prefix}") from None
        if requirement.specifier and not requirement.specifier.contains(distribution.version, prereleases=True):
            raise LookupError(f"{requirement} (needed by {wanted_by}): {sys.prefix} has {distribution.version}")
        extras = set(requirement.extras) | {""}
        if name in found and extras <= extras_seen[name]:
            continue
        found[name] = distribution
        new_extras = extras - extras_seen.get(name, set())
        extras_seen[name] = extras_seen.get(name, set()) | extras
        for line in distribution.requires or []:
            dependency = Requirement(line)
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in new_extras):
                pending.append((dependency, distribution.metadata["Name"]))
    return found


def _installed_files(distribution: metadata.Distribution):
    """``(source, path relative to site-packages)`` of every file the distribution installed."""
    for file in distribution.files or []:
        relative = os.path.normpath(str(file))
        source = Path(os.path.normpath(distribution.locate_file(file)))
        if source.is_file():
            yield source, relative


def build_env(target: Path, distributions: dict[str, metadata.Distribution]) -> Path:
    """A virtual environment at ``target`` holding only ``distributions``; returns its Python.

    Files are hard links to the running environment's (copies across file systems), with their byte-code
    caches; not symbolic links, which Jupyter's static file handler refuses to serve. Left out: the
    console scripts in ``bin/`` (their first line names this environment's Python: use ``python -m``), and
    the ``python3`` kernel spec, which the project's install rewrote to start this environment's Python;
    without it Jupyter falls back to ipykernel's built-in spec, which starts the student environment's own.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip()).resolve()
    target = target.resolve()
    for distribution in distributions.values():
        for source, relative in _installed_files(distribution):
            destination = Path(os.path.normpath(site / relative))
            inside = destination.relative_to(target) if destination.is_relative_to(target) else None
            if inside is None or inside.parts[0] == "bin" or inside.parts[:4] == ("share", "jupyter", "kernels",
                                                                                 "python3"):
                continue
            pairs = [(source, destination)]
            if source.suffix == ".py":
                cache = Path(importlib.util.cache_from_source(str(source)))
                if cache.is_file():
                    pairs.append((cache, Path(importlib.util.cache_from_source(str(destination)))))
            for link_source, link in pairs:
                if link.exists():
                    continue
                link.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(link_source, link)
                except OSError:  # another file system
                    shutil.copy2(link_source, link)
    return python
