"""Regenerate the student stubs ``cs231n/classifiers/*.py`` from ``solutions/cs231n/classifiers/*.py``.

Usage::

    python -m instructor.release.build_stubs          # write the stubs (what `make stubs` runs)
    python -m instructor.release.build_stubs --check  # exit 1 and list the stale stubs, write nothing
    python -m instructor.release.build_stubs --force  # also overwrite stubs edited by hand (make stubs FORCE=1)

A stub edited since the build last wrote it (see :mod:`instructor.release.record`) is never
overwritten without ``--force``: the build then writes nothing and names the edited files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path, PurePosixPath

from instructor.course import REPO_ROOT
from instructor.release.record import LocalEdits, write_generated
from instructor.release.stubs import make_stub

REFERENCE_DIR = Path("solutions/cs231n/classifiers")
STUDENT_DIR = Path("cs231n/classifiers")


def expected_stubs(repo_root: Path = REPO_ROOT) -> dict[Path, str]:
    """Map each student stub path (absolute) to the text the reference says it must have."""
    stubs = {}
    for source_path in sorted((repo_root / REFERENCE_DIR).glob("*.py")):
        relative_source = PurePosixPath(REFERENCE_DIR.as_posix(), source_path.name)
        relative_student = PurePosixPath(STUDENT_DIR.as_posix(), source_path.name)
        text = source_path.read_text(encoding="utf-8")
        stubs[repo_root / STUDENT_DIR / source_path.name] = make_stub(text, relative_source, relative_student)
    return stubs


def stale_stubs(repo_root: Path = REPO_ROOT) -> list[Path]:
    """Stubs that are missing or differ from what the reference generates."""
    return [
        path
        for path, text in expected_stubs(repo_root).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def build_stubs(check: bool = False, repo_root: Path = REPO_ROOT, force: bool = False) -> list[Path]:
    """Write the stubs, or with ``check=True`` only report them; returns the stale (or rewritten) paths.

    Raises :class:`~instructor.release.record.LocalEdits`, writing nothing, when a stub to rewrite
    was edited by hand and ``force`` is False.
    """
    if check:
        return stale_stubs(repo_root)
    return write_generated(expected_stubs(repo_root), repo_root, force=force, target="stubs",
                           module="instructor.release.build_stubs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale stubs; exit 1 if any")
    parser.add_argument("--force", action="store_true", help="overwrite stubs edited by hand")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="bundle root (default: this repository)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        changed = build_stubs(check=args.check, repo_root=root, force=args.force)
    except LocalEdits as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    for path in changed:
        relative = path.relative_to(root)
        print(f"{'stale' if args.check else 'wrote'}: {relative}")
    if args.check and changed:
        print("Run `make stubs` to regenerate them from solutions/cs231n/classifiers.", file=sys.stderr)
        return 1
    if not changed:
        print("stubs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
