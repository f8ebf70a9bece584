"""Checks of an unpacked copy: quick (sizes against the manifest), full (sha256 too), structural (no manifest).

Also decides whether an existing destination may be replaced at all: only a folder that holds nothing but
CIFAR-10 files is ever moved aside, so a mistaken ``CIFAR10_DIR`` (say, a home folder) is never touched.
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from .layout import MANIFEST_NAME, PICKLED_FILES, REQUIRED_FILES
from .manifest import ManifestInvalid, read_manifest
from .progress import make_progress
from .verify import file_digests


@dataclass
class CheckResult:
    """Outcome of a check: ``ok``, the problems found (one line each) and the manifest when there is one."""

    ok: bool
    problems: List[str] = field(default_factory=list)
    manifest: Optional[dict] = None

    @property
    def reason(self) -> str:
        shown = self.problems[:3] + ([f"and {len(self.problems) - 3} more"] if len(self.problems) > 3 else [])
        return "; ".join(shown)


def _against_manifest(folder: Path, manifest: dict, hash_files: bool, quiet: bool) -> CheckResult:
    problems = []
    to_hash = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        size = path.stat().st_size
        if size != entry["size"]:
            problems.append(f"{name} has {size:,} bytes, the manifest says {entry['size']:,}")
        elif hash_files:
            to_hash.append((name, path, entry))
    progress = make_progress(sum(entry["size"] for _, _, entry in to_hash), "check", quiet=quiet or not to_hash)
    try:
        for name, path, entry in to_hash:
            digest = file_digests(path, ["sha256"], progress)["sha256"]
            if digest != entry["sha256"]:
                problems.append(f"{name} has sha256 {digest}, the manifest says {entry['sha256']}")
    finally:
        progress.close()
    return CheckResult(ok=not problems, problems=problems, manifest=manifest)


def _complete_pickle(path: Path) -> Optional[str]:
    """None when ``path`` is one whole pickle stream (read opcode by opcode, never executed), else why not."""
    with open(path, "rb") as stream:
        try:
            for opcode, _, _ in pickletools.genops(stream):
                if opcode.name == "STOP":
                    break
        except ValueError as exc:
            return f"{path.name} is not a complete pickle ({exc})"
        if stream.read(1):
            return f"{path.name} has data after the end of its pickle"
    return None


def structural_check(folder: Path) -> CheckResult:
    """For a folder without manifest: every required file present and every batch a complete pickle."""
    problems = [f"{name} is missing" for name in REQUIRED_FILES if not (folder / name).is_file()]
    for name in PICKLED_FILES:
        if (folder / name).is_file():
            problem = _complete_pickle(folder / name)
            if problem:
                problems.append(problem)
    return CheckResult(ok=not problems, problems=problems)


def check_copy(folder: Path, full: bool = False, quiet: bool = True) -> CheckResult:
    """Check the copy in ``folder``.

    Parameters
    ----------
    folder : Path
        The ``cifar-10-batches-py`` folder.
    full : bool
        Also compare every file's sha256 with the manifest (about 0.2 s per 180 MB); otherwise only sizes.
    quiet : bool
        No progress bar while hashing.

    Returns
    -------
    CheckResult
        ``ok`` False with the problems listed when the folder is missing, incomplete or changed. A folder
        without manifest gets the structural check instead, and ``manifest`` stays None.
    """
    if not folder.is_dir():
        return CheckResult(ok=False, problems=[f"{folder} does not exist"])
    try:
        manifest = read_manifest(folder)
    except ManifestInvalid as exc:
        return CheckResult(ok=False, problems=[str(exc)])
    if manifest is None:
        return structural_check(folder)
    return _against_manifest(folder, manifest, hash_files=full, quiet=quiet)


def foreign_entries(folder: Path) -> List[str]:
    """Names in ``folder`` that are not CIFAR-10 files (nor listed by its manifest): it must not be replaced."""
    known = set(REQUIRED_FILES) | {MANIFEST_NAME, MANIFEST_NAME + ".tmp"}
    try:
        manifest = read_manifest(folder)
    except ManifestInvalid:
        manifest = None
    if manifest:
        known |= set(manifest["files"])
    return sorted(entry.name for entry in folder.iterdir() if entry.name not in known or not entry.is_file())
