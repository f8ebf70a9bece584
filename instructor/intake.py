"""Take in submission zips safely: only the allow-listed files, never outside the target, never too big.

This does what ``nbgrader zip_collect`` does for this course (one zip per student, as
``collectSubmission.sh`` writes it or as a course platform exports it, into
``submitted/<student>/assignment1/``), plus what grading needs and zip_collect does not check: entries with
``../``, absolute paths or symlinks are skipped, the notebooks must be valid nbformat, the manifest's
checksums are verified, and a missing classifier module is replaced by the released stub (so the package
still imports and only that module's functions score zero).

A zip is adversary data, so it is taken in in this order:

1. the zip file's size and its end record (entry count, central directory size), before zipfile parses it;
2. the entry count, then each entry to be read, from the central directory alone: method, encryption,
   declared size, compression ratio, and the declared total;
3. only then the allow-listed entries and the manifest, in chunks, each stopped at ``MAX_FILE_BYTES``
   whatever its header claims, with zipfile checking each CRC; entries outside the allow-list are never read.

The whole intake of one zip has a time limit, checked between chunks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import time
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from cs231n.course import ASSIGNMENT, STUDENT_MODULES, STUDENT_NOTEBOOKS, SUBMISSION_FILES
from cs231n.course import SUBMISSION_MANIFEST as MANIFEST
from instructor.course import REPO_ROOT

# A zip from collectSubmission.sh holds 8 entries: 38 kB with the release notebooks and reference modules,
# more once the notebooks hold their plots.
MAX_ZIP_BYTES = 256 << 20
MAX_ENTRIES = 10_000
# zipfile reads the whole central directory and makes an object per entry before anything can be counted
# (a million entries took 4.5 s and 370 MB), so its size is capped first. An entry takes 46 bytes plus its
# name, extra field and comment: 74 on average in write_zip's zips, 90 in Info-ZIP's.
DIRECTORY_BYTES_PER_ENTRY = 512
MAX_FILE_BYTES = 32 << 20
MAX_TOTAL_BYTES = 128 << 20
# Declared uncompressed size / compressed size of one entry. Packed with deflate by write_zip, the release
# notebooks reach 4.1-4.2 and the reference classifiers 2.5-3.4; a notebook with a 20,000-line training log
# reaches 7. Zeros reach 1,030 (deflate's limit). Megabytes of one printed array of zeros, or of one
# repeated warning, reach 280-290: such a notebook is refused, with the advice to clear that output.
MAX_RATIO = 200
# Smaller files are not held to the ratio: whatever it is, they cannot inflate to more than this.
RATIO_FREE_BYTES = 1 << 20
TIME_LIMIT_SECONDS = 30.0
READ_CHUNK_BYTES = 1 << 20
# What every zip tool writes. zipfile inflates these in steps of at most one read; bzip2 and lzma it inflates
# a whole compressed block at once, however large the result.
READ_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ENCRYPTED_FLAG = 0x1  # bit 0 of the general purpose flags
RESUBMIT = "re-run collectSubmission.sh and upload the zip it writes"
# Student ids become folder names and database keys.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
DEFAULT_ID_PATTERN = r"^(?P<student_id>.+)\.zip$"


class IntakeError(Exception):
    """The whole submission is unusable (not a zip, corrupt, too large); the message says why, for the student."""


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


def _size(count: int) -> str:
    """``5000`` -> ``'5,000 bytes'``, ``33554432`` -> ``'32 MB'``."""
    if count < 1 << 20:
        return f"{count:,} bytes"
    return f"{round(count / (1 << 20), 1):g} MB"


@dataclasses.dataclass(frozen=True)
class _Deadline:
    """The monotonic clock time by which the intake of one zip must be done."""

    seconds: float
    end: float

    def check(self, where: str) -> None:
        if time.monotonic() > self.end:
            raise IntakeError(
                f"taking in the archive took longer than its {self.seconds:g} s limit (stopped {where}); "
                f"a zip made by collectSubmission.sh takes about a second: {RESUBMIT}"
            )


def _too_many_entries(count: int) -> IntakeError:
    return IntakeError(f"the archive has {count:,} entries, more than the {MAX_ENTRIES:,} allowed; {RESUBMIT}")


def _check_end_record(handle: BinaryIO) -> None:
    """Refuse a zip file too large to open, or one whose end record announces too large a directory."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_ZIP_BYTES:
        raise IntakeError(f"the zip file is {_size(size)}, more than the {_size(MAX_ZIP_BYTES)} allowed; {RESUBMIT}")
    # zipfile's own reading of the end record: the directory size checked is the one ZipFile will read.
    end = zipfile._EndRecData(handle)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ENTRIES:
        raise _too_many_entries(end[zipfile._ECD_ENTRIES_TOTAL])
    directory, limit = end[zipfile._ECD_SIZE], MAX_ENTRIES * DIRECTORY_BYTES_PER_ENTRY
    if directory > limit:
        raise IntakeError(
            f"the archive's central directory is {_size(directory)}, more than the {_size(limit)} allowed "
            f"for {MAX_ENTRIES:,} entries; {RESUBMIT}"
        )


def _entries_to_read(infos: list[zipfile.ZipInfo], notes: list[str]) -> dict[str, zipfile.ZipInfo]:
    """The entries to read, by allow-listed name or ``MANIFEST``; ``notes`` gets what was skipped and why."""
    chosen: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.is_dir():
            continue
        path = _safe_member(info)
        if path is None:
            notes.append(f"skipped unsafe archive entry {info.filename!r} (absolute path, '..' or link)")
            continue
        name = _match_allowed(path)
        if name is None and path.name == MANIFEST and len(path.parts) <= 2:
            name = MANIFEST
        if name is None:
            continue  # anything else (data, checkpoints, caches) is not graded
        if name in chosen:
            notes.append(f"{name} appears twice in the archive; the first copy is used")
            continue
        chosen[name] = info
    return chosen


def _check_declared(chosen: dict[str, zipfile.ZipInfo]) -> None:
    """Refuse, from the central directory alone, entries that could not be read in bounded steps and time."""
    total = 0
    for info in chosen.values():
        name, declared = info.filename, info.file_size
        if info.flag_bits & ENCRYPTED_FLAG:
            raise IntakeError(f"{name} is encrypted; {RESUBMIT}, without a password")
        if info.compress_type not in READ_METHODS:
            method = zipfile.compressor_names.get(info.compress_type, "an unknown method")
            raise IntakeError(
                f"{name} is compressed with {method} (method {info.compress_type}), but only stored or deflated "
                f"files are read; {RESUBMIT}"
            )
        if declared > MAX_FILE_BYTES:
            raise IntakeError(
                f"{name} declares {_size(declared)} uncompressed, larger than the {_size(MAX_FILE_BYTES)} allowed "
                f"for one file; {RESUBMIT}"
            )
        ratio = declared / max(info.compress_size, 1)
        if declared > RATIO_FREE_BYTES and ratio > MAX_RATIO:
            raise IntakeError(
                f"{name} declares {_size(declared)} from {_size(info.compress_size)} compressed, {ratio:,.0f}-fold, "
                f"more than the {MAX_RATIO}-fold allowed for a file over {_size(RATIO_FREE_BYTES)} (notebooks and "
                f"modules reach under 10): clear any huge repeated output, save, and {RESUBMIT}"
            )
        total += declared
    if total > MAX_TOTAL_BYTES:
        raise IntakeError(
            f"the files taken in declare {_size(total)} uncompressed in total, more than the "
            f"{_size(MAX_TOTAL_BYTES)} allowed; {RESUBMIT}"
        )


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo, deadline: _Deadline) -> bytes:
    """Read one entry in chunks, refusing to inflate more than ``MAX_FILE_BYTES`` whatever its header claims.

    zipfile checks the entry's CRC once it is read to the end; a mismatch, like damaged compressed data or a
    damaged local header, is reported as a corrupt archive.
    """
    chunks = []
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise IntakeError(
                        f"{info.filename} is larger than the {_size(MAX_FILE_BYTES)} allowed for one file once "
                        f"inflated, though its header declares {_size(info.file_size)}; {RESUBMIT}"
                    )
                chunks.append(chunk)
                deadline.check(f"while reading {info.filename}")
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise IntakeError(
            f"the archive is corrupt in {info.filename} ({type(error).__name__}: {error}); {RESUBMIT}"
        ) from None
    return b"".join(chunks)


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
    submission: Submission,
    submitted_root: Path,
    repo_root: Path = REPO_ROOT,
    release_dir: Path | None = None,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> Intake:
    """Extract the allow-listed files of one zip into ``submitted_root/<student>/assignment1``.

    Parameters
    ----------
    submission : Submission
        The zip to take in; its content is untrusted.
    submitted_root : Path
        nbgrader's ``submitted`` folder; the student's folder in it is replaced.
    repo_root : Path, default REPO_ROOT
        Bundle holding the released stub of each classifier module, used for a module not submitted.
    release_dir : Path or None, default None
        The release notebooks. When given, each notebook is rebuilt from the release with only the
        student's answer cells (:func:`keep_answers`).
    time_limit : float, default TIME_LIMIT_SECONDS (30)
        Seconds, > 0, that reading and checking the zip may take.

    Returns
    -------
    Intake
        The folder to grade and the notes for the student's feedback.

    Raises
    ------
    IntakeError
        When the archive cannot be used at all: not a zip, corrupt, over a size, count or ratio limit
        (checked before anything is inflated), or slower than ``time_limit``.
    ValueError
        When ``time_limit`` is not a positive number.
    """
    if not time_limit > 0:
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    deadline = _Deadline(time_limit, time.monotonic() + time_limit)
    target = submitted_root / submission.student / ASSIGNMENT
    shutil.rmtree(target, ignore_errors=True)
    notes: list[str] = []
    try:
        with open(submission.path, "rb") as handle:
            _check_end_record(handle)
            with zipfile.ZipFile(handle) as archive:
                infos = archive.infolist()
                # The end record's count can lie; this one is what the directory really holds.
                if len(infos) > MAX_ENTRIES:
                    raise _too_many_entries(len(infos))
                chosen = _entries_to_read(infos, notes)
                _check_declared(chosen)
                files = {name: _read_limited(archive, info, deadline) for name, info in chosen.items()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise IntakeError(f"not a readable zip archive ({type(error).__name__}: {error}); {RESUBMIT}") from None
    manifest = files.pop(MANIFEST, None)

    notes.extend(_check_manifest(manifest, files))
    missing_notebooks = []
    for allowed in STUDENT_NOTEBOOKS:
        name = PurePosixPath(allowed).name
        if allowed not in files:
            notes.append(f"{name} was not submitted: its points are 0")
            missing_notebooks.append(PurePosixPath(allowed).stem)
            continue
        problem = _valid_notebook(files[allowed])
        deadline.check(f"after checking {name}")
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
