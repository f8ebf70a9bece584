"""The fetch, step by step: check the existing copy, get a verified archive, unpack it, swap it into place."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from .check_copy import check_copy, foreign_entries
from .errors import Busy, FetchError, PermissionDenied, SourceFailed, VerificationFailed, disk_errors
from .install import exclusive_lock, recover_and_clean, swap_into_place
from .layout import ARCHIVE_NAME, EXTRACT_PREFIX, OLD_COPY_PREFIX, PART_STATE_SUFFIX, PART_SUFFIX
from .manifest import build_manifest, write_manifest
from .options import Options
from .progress import human_bytes
from .safe_extract import unpack
from .sources import Expected, Source
from .verify import file_digests, verify_archive

Say = Callable[[str], None]


class Interrupted(FetchError):
    """Ctrl-C or SIGTERM; the message says what was kept and how the next run continues."""

    exit_code = 130


@dataclass(frozen=True)
class Settings:
    """Everything one run needs (see ``cli`` for the options and variables that set them)."""

    target: Path
    sources: Tuple[Source, ...]
    expected: Expected
    options: Options
    force: bool = False
    keep_archive: bool = False


@dataclass
class _Progress:
    """What the run is doing, so that Ctrl-C can be answered with what was kept."""

    step: str = "starting"
    part: Optional[Path] = None
    archive: Optional[Path] = None


def _folder_size(folder: Path, manifest: dict) -> int:
    return sum(entry["size"] for entry in manifest["files"].values())


def _report_good_copy(target: Path, say: Say) -> bool:
    """True (and says so) when ``target`` passes the quick check; a complete folder without manifest is adopted.

    Reads only (apart from the adopted manifest), so a good copy in a read-only place needs no lock.
    """
    started = time.perf_counter()
    result = check_copy(target, full=False)
    if not result.ok:
        return False
    if result.manifest is None:
        _adopt(target, say)
        return True
    say(
        f"CIFAR-10 is already in {target} ({len(result.manifest['files'])} files, "
        f"{human_bytes(_folder_size(target, result.manifest))}; sizes match its manifest, checked in "
        f"{time.perf_counter() - started:.3f} s). Nothing to download.\n"
        "(--check also compares checksums; --force fetches again.)"
    )
    return True


def _explain_replacement(settings: Settings, say: Say) -> None:
    """Say why an existing destination is fetched again, or refuse when it is not ours to replace."""
    target = settings.target
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise FetchError(
            f"{target} exists but is not a folder.\nWhat to do: move it away, or set CIFAR10_DIR elsewhere."
        )
    foreign = foreign_entries(target)
    if foreign:
        raise FetchError(
            f"{target} holds files that are not part of CIFAR-10 ({', '.join(foreign[:5])}); refusing to replace "
            "it.\nWhat to do: point CIFAR10_DIR at the cifar-10-batches-py folder itself, or at a new path."
        )
    if settings.force:
        say(f"--force: fetching again; the copy in {target} stays until the new one is complete.")
    else:
        say(f"The copy in {target} is incomplete or damaged ({check_copy(target).reason}). Fetching a fresh one; "
            "the old copy stays until the new one is complete.")


def _adopt(target: Path, say: Say) -> None:
    """Write a manifest for a complete folder unpacked by other means, so later runs can check it quickly."""
    files = {}
    for path in sorted(target.iterdir()):
        if path.is_file():
            files[path.name] = (path.stat().st_size, file_digests(path, ["sha256"])["sha256"])
    note = {"url": None, "note": "folder found without a manifest; every file present and every pickle complete"}
    try:
        write_manifest(target, build_manifest(files, note))
    except FetchError as exc:
        say(f"CIFAR-10 is already in {target} (all files present, every pickle complete). {exc}")
        return
    say(f"CIFAR-10 is already in {target} (all files present, every pickle complete); wrote a manifest "
        "so later runs check it quickly. Nothing to download.")


def _origin_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".json")


def _download_verified(source: Source, part: Path, settings: Settings, say: Say, progress: _Progress) -> dict:
    """Download ``source`` into ``part`` and verify it; one fresh download if a resumed file does not match."""
    # Imported here: urllib and ssl take a noticeable share of a run that finds the data already in place.
    from .download import discard_partial, download

    def attempt(last_try: bool) -> Optional[dict]:
        progress.step, progress.part = "download", part
        reused = download(source.url, part, settings.expected, settings.options, say)
        progress.step = "verify"
        try:
            return verify_archive(part, settings.expected, source.url, quiet=settings.options.quiet)
        except VerificationFailed:
            discard_partial(part)
            if last_try or not reused:
                raise
            return None

    digests = attempt(last_try=False)
    if digests is None:
        # Bytes kept from an earlier attempt may belong to another file or be damaged: start from nothing.
        say("The resumed download does not match its checksum; downloading it again from the start.")
        digests = attempt(last_try=True)
    return digests


def _obtain_archive(settings: Settings, say: Say, progress: _Progress) -> Tuple[Path, dict, bool]:
    """A verified archive: ``(path, source record for the manifest, True if it was downloaded here)``."""
    workdir = settings.target.parent
    cached = workdir / ARCHIVE_NAME
    if cached.is_file():
        progress.step, progress.archive = "verify", cached
        try:
            digests = verify_archive(cached, settings.expected, str(cached), quiet=settings.options.quiet)
        except VerificationFailed:
            say(f"Discarding {cached}: it does not match {settings.expected.describe()}.")
            _remove_archive(cached)
        else:
            say(f"Reusing the verified archive {cached} left by an earlier run.")
            origin = _read_origin(cached)
            return cached, {"url": origin, "archive_bytes": cached.stat().st_size, **digests}, True
    failures: List[Tuple[Source, FetchError]] = []
    for index, source in enumerate(settings.sources):
        try:
            if source.is_local:
                if not source.path.is_file():
                    raise SourceFailed(f"{source.url}: there is no file {source.path.resolve()}.")
                progress.step = "verify"
                say(f"Verifying {source.path} ...")
                digests = verify_archive(source.path, settings.expected, source.url, quiet=settings.options.quiet)
                record = {"url": source.url, "archive_bytes": source.path.stat().st_size, **digests}
                return source.path, record, False
            say(f"Downloading {source.url}")
            part = workdir / (ARCHIVE_NAME + PART_SUFFIX)
            digests = _download_verified(source, part, settings, say, progress)
            with disk_errors("renaming", part):
                os.replace(part, cached)
                os.replace(workdir / (ARCHIVE_NAME + PART_STATE_SUFFIX), _origin_path(cached))
            progress.archive = cached
            return cached, {"url": source.url, "archive_bytes": cached.stat().st_size, **digests}, True
        except (SourceFailed, VerificationFailed) as exc:
            failures.append((source, exc))
            if index + 1 < len(settings.sources):
                say(f"{source.url} failed; trying the next source.")
    if len(failures) == 1:
        raise failures[0][1]
    listing = "\n\n".join(f"{number}. {source.url}\n{exc}" for number, (source, exc) in enumerate(failures, 1))
    raise FetchError(f"None of the {len(failures)} sources in CIFAR10_URL delivered the archive:\n\n{listing}")


def _read_origin(archive: Path) -> Optional[str]:
    try:
        return json.loads(_origin_path(archive).read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError, AttributeError):
        return None


def _remove_archive(archive: Path) -> None:
    for path in (archive, _origin_path(archive)):
        with disk_errors("removing", path):
            if path.exists():
                path.unlink()


def _interrupted(settings: Settings, progress: _Progress) -> Interrupted:
    target = settings.target
    untouched = f"The copy in {target} is untouched. " if target.is_dir() else ""
    if progress.step == "download" and progress.part is not None and progress.part.exists():
        size = progress.part.stat().st_size
        return Interrupted(
            f"Interrupted. {untouched}{human_bytes(size)} of the download are kept in {progress.part}: "
            "run the same command again to resume."
        )
    if progress.step == "swap":
        return Interrupted(
            f"Interrupted; the new copy was put in place first, so {target} is complete. Leftover temporary "
            "files are removed by the next run."
        )
    if progress.step in ("verify", "unpack") and progress.archive is not None and progress.archive.exists():
        return Interrupted(
            f"Interrupted while {'verifying' if progress.step == 'verify' else 'unpacking'}. "
            f"{untouched}The verified archive {progress.archive} is kept: run the same command again to finish "
            "without downloading."
        )
    return Interrupted(f"Interrupted. {untouched}Run the same command again to finish.")


def _tidy(target: Path, say: Say) -> None:
    """Remove what an interrupted run left beside a good copy, when there is any and the lock is free."""
    if not any(path for prefix in (EXTRACT_PREFIX, OLD_COPY_PREFIX) for path in target.parent.glob(prefix + "*")):
        return
    try:
        with exclusive_lock(target.parent):
            recover_and_clean(target, say)
    except (Busy, PermissionDenied):
        pass  # Another run is busy there, or the folder is read-only: the leftovers wait for a later run.


def run(settings: Settings, say: Say) -> None:
    """Make ``settings.target`` hold a complete, verified copy of CIFAR-10.

    Raises
    ------
    FetchError
        With a message for the user; ``Interrupted`` (exit status 130) on Ctrl-C or SIGTERM.
    """
    target = settings.target
    if not settings.force and _report_good_copy(target, say):
        _tidy(target, say)
        return
    with disk_errors("creating", target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress()
    try:
        with exclusive_lock(target.parent):
            recover_and_clean(target, say)
            # Checked again under the lock: a copy put back just now, or fetched by a run that held the lock.
            if not settings.force and _report_good_copy(target, say):
                return
            _explain_replacement(settings, say)
            started = time.perf_counter()
            archive, record, downloaded = _obtain_archive(settings, say, progress)
            progress.step, progress.archive = "unpack", (archive if downloaded else None)
            new_copy = unpack(archive, target.parent, record, quiet=settings.options.quiet)
            progress.step = "swap"
            swap_into_place(new_copy, target, say)
            with disk_errors("removing", new_copy.parent):
                new_copy.parent.rmdir()
            progress.step = "done"
            if downloaded and not settings.keep_archive:
                _remove_archive(archive)
            kept = f" The archive is kept in {archive}." if (downloaded and settings.keep_archive) else ""
            say(f"CIFAR-10 is ready in {target} ({time.perf_counter() - started:.1f} s).{kept}")
    except KeyboardInterrupt:
        raise _interrupted(settings, progress) from None
