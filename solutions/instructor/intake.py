"""Take in submission zips safely: only the allow-listed files, never outside the target, never too big.

This does what ``nbgrader zip_collect`` does for this course (one zip per student, as
``collectSubmission.sh`` writes it or as a course platform exports it, into
``submitted/<student>/assignment1/``), plus what grading needs and zip_collect does not check: entries with
``../``, absolute paths or symlinks are skipped, sizes are capped, the notebooks must be valid nbformat,
the manifest's checksums are verified, and a missing classifier module is replaced by the released stub (so
the package still imports and only that module's functions score zero).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import stat
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .course import ASSIGNMENT, REPO_ROOT, STUDENT_MODULES, STUDENT_NOTEBOOKS, SUBMISSION_FILES

MANIFEST = "MANIFEST.sha256"
MAX_FILE_BYTES = 32 << 20
MAX_TOTAL_BYTES = 128 << 20
# Student ids become folder names and database keys.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
DEFAULT_ID_PATTERN = r"^(?P<student_id>.+)\.zip$"


class IntakeError(Exception):
    """The whole submission is unusable (not a zip, corrupt); the message says why, for the student."""


@dataclasses.dataclass
class Submission:
    """One student's zip as found in the submissions folder."""

    student: str
    path: Path
    sha256: str
    timestamp: datetime


@dataclasses.dataclass
class Intake:
    """What was taken in: the folder to grade, and notes for the student's feedback."""

    folder: Path
    notes: list[str]
    missing_notebooks: list[str]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_submissions(folder: Path, id_pattern: str = DEFAULT_ID_PATTERN) -> tuple[dict[str, Submission], list[str]]:
    """Map student ids to their zips in ``folder``.

    Parameters
    ----------
    folder : Path
        Folder of submission files (not searched recursively).
    id_pattern : str
        Regular expression with a ``student_id`` group, matched against each file name, e.g.
        ``r"^(?P<student_id>[^_]+)_\\d+_\\d+_.*\\.zip$"`` for a platform's "name_id_id_file.zip" export.

    Returns
    -------
    submissions : dict of str to Submission
        The newest file of each student (by modification time).
    warnings : list of str
        Files skipped, and why.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    pattern = re.compile(id_pattern)
    if "student_id" not in pattern.groupindex:
        raise ValueError(f"the id pattern {id_pattern!r} has no (?P<student_id>...) group")
    submissions: dict[str, Submission] = {}
    warnings = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        match = pattern.match(path.name)
        if match is None:
            warnings.append(f"{path.name}: name does not match {id_pattern!r}; skipped")
            continue
        student = match.group("student_id")
        if not SAFE_ID.match(student):
            warnings.append(f"{path.name}: student id {student!r} is not a safe name (letters, digits, _.@+-); skipped")
            continue
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(microsecond=0)
        found = Submission(student, path, file_sha256(path), mtime)
        previous = submissions.get(student)
        if previous is not None:
            older, found = sorted([previous, found], key=lambda s: (s.timestamp, s.path.name))
            warnings.append(f"{student}: two submissions; grading {found.path.name}, ignoring {older.path.name}")
        submissions[student] = found
    return submissions, warnings


def _safe_member(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The entry's path if it is a plain file with a relative path that stays inside the archive."""
    name = info.filename
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts):
        return None
    if stat.S_ISLNK(info.external_attr >> 16) or info.is_dir():
        return None
    return path


def _match_allowed(path: PurePosixPath) -> str | None:
    """The allow-listed file this entry is (``assignment1/knn.ipynb`` with at most one leading folder)."""
    for allowed in SUBMISSION_FILES:
        parts = PurePosixPath(allowed).parts
        if path.parts == parts or (len(path.parts) == len(parts) + 1 and path.parts[1:] == parts):
            return allowed
    return None


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one entry, refusing to inflate more than ``MAX_FILE_BYTES`` whatever the header claims."""
    with archive.open(info) as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise IntakeError(f"{info.filename} is larger than {MAX_FILE_BYTES >> 20} MB")
    return data


def _valid_notebook(data: bytes) -> str | None:
    """``None`` if ``data`` is a valid v4 notebook, else the reason."""
    import warnings

    import nbformat  # heavy import, only needed here

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # old-format notes (missing cell ids) are not our concern
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
            nbformat.validate(notebook)
    except Exception as error:  # JSON, encoding and schema errors all mean "not a notebook"
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    return None


def keep_answers(release_text: str, submitted: bytes) -> bytes:
    """The release notebook with the student's answer cells (nbgrader solution cells) put in.

    Only answers come from the submission: every other cell (instructions, set-up, tests, cells the
    student added or deleted) is the release's, so the notebook graded is the course's own.
    """
    release = json.loads(release_text)
    student = json.loads(submitted.decode("utf-8"))
    answers: dict[str, dict] = {}
    for cell in student.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if isinstance(grade_id, str) and grade_id not in answers:
            answers[grade_id] = cell
    for cell in release["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        answer = answers.get(meta.get("grade_id"))
        if meta.get("solution") and answer is not None and isinstance(answer.get("source"), (str, list)):
            cell["source"] = answer["source"]
    release["metadata"].pop("cs231n_generated", None)
    return json.dumps(release, indent=1, ensure_ascii=False).encode("utf-8")


def take_in(
    submission: Submission, submitted_root: Path, repo_root: Path = REPO_ROOT, release_dir: Path | None = None
) -> Intake:
    """Extract the allow-listed files of one zip into ``submitted_root/<student>/assignment1``.

    With ``release_dir`` (the release notebooks), each notebook is rebuilt from the release with only the
    student's answer cells (:func:`keep_answers`).

    Raises
    ------
    IntakeError
        When the archive cannot be read at all (not a zip, corrupt, too large).
    """
    target = submitted_root / submission.student / ASSIGNMENT
    shutil.rmtree(target, ignore_errors=True)
    notes: list[str] = []
    files: dict[str, bytes] = {}
    manifest: bytes | None = None
    try:
        with zipfile.ZipFile(submission.path) as archive:
            corrupt = archive.testzip()
            if corrupt is not None:
                raise IntakeError(f"the archive is corrupt (bad checksum in {corrupt}); re-run collectSubmission.sh")
            total = 0
            for info in archive.infolist():
                if info.is_dir():
                    continue
                path = _safe_member(info)
                if path is None:
                    notes.append(f"skipped unsafe archive entry {info.filename!r} (absolute path, '..' or link)")
                    continue
                allowed = _match_allowed(path)
                if allowed is None:
                    if path.name == MANIFEST and len(path.parts) <= 2:
                        manifest = _read_limited(archive, info)
                    continue  # anything else (data, checkpoints, caches) is not graded
                if allowed in files:
                    notes.append(f"{allowed} appears twice in the archive; the first copy is graded")
                    continue
                data = _read_limited(archive, info)
                total += len(data)
                if total > MAX_TOTAL_BYTES:
                    raise IntakeError(f"the graded files exceed {MAX_TOTAL_BYTES >> 20} MB in total")
                files[allowed] = data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise IntakeError(f"not a readable zip archive ({type(error).__name__}: {error}); re-run collectSubmission.sh") from None

    notes.extend(_check_manifest(manifest, files))
    missing_notebooks = []
    for allowed in STUDENT_NOTEBOOKS:
        name = PurePosixPath(allowed).name
        if allowed not in files:
            notes.append(f"{name} was not submitted: its points are 0")
            missing_notebooks.append(PurePosixPath(allowed).stem)
            continue
        problem = _valid_notebook(files[allowed])
        if problem is not None:
            notes.append(f"{name} is not a valid notebook ({problem}): graded as not submitted")
            missing_notebooks.append(PurePosixPath(allowed).stem)
            del files[allowed]
        elif release_dir is not None:
            files[allowed] = keep_answers((release_dir / name).read_text(encoding="utf-8"), files[allowed])
    for allowed in STUDENT_MODULES:
        if allowed not in files:
            files[allowed] = (repo_root / allowed).read_bytes()
            notes.append(f"{allowed} was not submitted: graded as the unmodified stub")

    for allowed, data in files.items():
        relative = PurePosixPath(allowed)
        if relative.parts[0] == ASSIGNMENT:
            relative = PurePosixPath(*relative.parts[1:])
        destination = target.joinpath(*relative.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    (target / "timestamp.txt").write_text(submission.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC"), encoding="utf-8")
    return Intake(folder=target, notes=notes, missing_notebooks=missing_notebooks)


def _check_manifest(manifest: bytes | None, files: dict[str, bytes]) -> list[str]:
    if manifest is None:
        return ["no MANIFEST.sha256 in the archive (not made by collectSubmission.sh?)"]
    expected = {}
    for line in manifest.decode("utf-8", errors="replace").splitlines():
        digest, _, name = line.strip().partition("  ")
        if digest and name:
            expected[name.strip()] = digest.lower()
    notes = []
    for allowed, data in files.items():
        digest = expected.get(allowed)
        if digest is not None and digest != hashlib.sha256(data).hexdigest():
            notes.append(f"{allowed} does not match its checksum in MANIFEST.sha256 (changed after packaging?)")
    return notes


def write_json(path: Path, payload: dict) -> None:
    """Write JSON atomically (a crash never leaves half a file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    partial.replace(path)
