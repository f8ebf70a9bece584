"""The command: options and environment variables, the run step by step, messages and exit statuses.

A run takes these steps, in this order (``run``):

1. A copy that passes the quick check (sizes against its manifest) ends the run before any lock is taken, so
   a good copy in a read-only place is accepted.
2. Under the lock on the destination's folder: undo what an interrupted run left, check the copy again (a run
   that held the lock may have fetched it), and refuse a destination that holds anything but CIFAR-10.
3. Get a verified archive: one left by an earlier run, else each source of ``CIFAR10_URL`` in turn.
4. Unpack it into a temporary folder beside the destination, then swap that folder into place.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

from . import (
    ARCHIVE_NAME,
    CANONICAL_MD5,
    CANONICAL_SIZE,
    CANONICAL_URL,
    FOLDER_NAME,
    PART_NAME,
    FetchError,
    SourceFailed,
    discard,
    disk_errors,
    human_bytes,
    sidecar,
)
from .install import exclusive_lock, recover_and_clean, swap_into_place, tidy, unpack
from .verify import (
    Expected,
    VerificationFailed,
    build_manifest,
    check_copy,
    file_digests,
    foreign_entries,
    verify_archive,
    write_manifest,
)

DEFAULT_TARGET = Path(__file__).resolve().parents[1] / FOLDER_NAME
# Receives the one-line notes for the user (silent with --quiet).
Say = Callable[[str], None]
_HEX_DIGITS = {"md5": 32, "sha256": 64}

DESCRIPTION = f"""\
Fetch CIFAR-10 (python version) into datasets/{FOLDER_NAME}: data_batch_1..5, test_batch,
batches.meta, readme.html. The archive is verified (size and checksum) before anything is unpacked,
unpacked into a temporary folder and renamed into place, so an existing copy is never damaged by a failed
or interrupted run. A second run checks the existing copy against its manifest and downloads nothing.
"""

EPILOG = f"""\
environment variables:
  CIFAR10_URL     where to get the archive; several entries separated by spaces are tried in order.
                  Each is an http:// or https:// URL, a file:// URL or a plain path of a local copy.
                  Default: {CANONICAL_URL}
  CIFAR10_MD5     md5 of the archive (hex, or a file holding it as written by md5sum).
  CIFAR10_SHA256  sha256 of the archive (same forms). When both are unset the canonical archive is
                  expected: md5 {CANONICAL_MD5}, {CANONICAL_SIZE:,} bytes.
  CIFAR10_DIR     destination folder, the same variable the loader and the notebooks read.
                  Default: datasets/{FOLDER_NAME} next to this script.
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY are honoured as usual.

files beside the destination (git ignores them in datasets/):
  cifar-10-python.tar.gz.part(.json)  a partial download, resumed by the next run
  cifar-10-python.tar.gz(.json)       a verified archive, removed after unpacking unless --keep-archive
  .cifar10-lock, .cifar10-extract-*   lock and temporary folder of a running fetch
  {FOLDER_NAME}/.cifar10-manifest.json  sizes and sha256 of the unpacked files

exit status: 0 done (or --check passed), 1 failed, 2 bad option or variable, 130 interrupted.

examples:
  bash datasets/get_datasets.sh
  CIFAR10_URL=file:///data/cifar-10-python.tar.gz bash datasets/get_datasets.sh
  CIFAR10_URL="https://mirror.example/c10.tar.gz {CANONICAL_URL}" CIFAR10_MD5={CANONICAL_MD5} \\
      python datasets/fetch_cifar10.py
  python datasets/fetch_cifar10.py --check
"""


class UsageError(FetchError):
    """Bad option or environment variable."""

    exit_code = 2


class Interrupted(FetchError):
    """Ctrl-C or SIGTERM; the message says what was kept and how the next run continues."""

    exit_code = 130


@dataclass(frozen=True)
class Source:
    """One place to get the archive from: ``url`` as the user wrote it, ``path`` for a local file."""

    url: str
    path: Optional[Path] = None


@dataclass(frozen=True)
class Settings:
    """Everything one run needs, validated: see ``build_parser`` for the options and variables that set it."""

    target: Path
    sources: Tuple[Source, ...]
    expected: Expected
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    quiet: bool = False
    force: bool = False
    keep_archive: bool = False


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _non_negative(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} >= 0, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="get_datasets.sh / fetch_cifar10.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the existing copy (every file's size and sha256 against its manifest) and download "
        "nothing; exit 0 if it is complete and unchanged, 1 otherwise",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="fetch and unpack again even if the existing copy checks out (the old copy is replaced only "
        "once the new one is complete; a partial download or verified archive left by an earlier run is "
        "still reused, because its checksum proves it is the same file)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="give up on an attempt after this long without data (connect or read); default 30",
    )
    parser.add_argument(
        "--retries",
        type=_non_negative(int),
        default=5,
        metavar="N",
        help="attempts after a failed one, per URL, with the wait doubling each time; an attempt that "
        "brought data resets the count; default 5",
    )
    parser.add_argument(
        "--backoff",
        type=_non_negative(float),
        default=1.0,
        metavar="SECONDS",
        help="first wait between attempts (then 2x, 4x, ... up to 60 s); default 1",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or notes, only errors")
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help=f"destination folder (overrides CIFAR10_DIR); default datasets/{FOLDER_NAME}",
    )
    parser.add_argument(
        "--keep-archive",
        action="store_true",
        help="keep the downloaded cifar-10-python.tar.gz beside the destination after unpacking",
    )
    return parser


def parse_source(text: str) -> Source:
    """One entry of ``CIFAR10_URL``: an ``http(s)://`` or ``file://`` URL, or a local path."""
    parsed = urllib.parse.urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        if not parsed.netloc:
            raise UsageError(f"CIFAR10_URL entry {text!r} has no host name. Expected e.g. https://host/path.tar.gz.")
        return Source(url=text)
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(
                f"CIFAR10_URL entry {text!r} names the host {parsed.netloc!r}: file:// URLs must be local, "
                "as file:///absolute/path/cifar-10-python.tar.gz (three slashes)."
            )
        # url2pathname handles Windows drive letters; imported here as urllib.request is slow to load.
        from urllib.request import url2pathname

        return Source(url=text, path=Path(url2pathname(parsed.path)))
    # No scheme (or a Windows drive letter such as C:) means a path on this machine.
    if scheme == "" or len(scheme) == 1:
        return Source(url=text, path=Path(text).expanduser())
    raise UsageError(
        f"CIFAR10_URL entry {text!r} uses the unsupported scheme {scheme!r}.\n"
        "Expected http://, https://, file:// or a plain path of a local copy."
    )


def read_sources(env: Mapping[str, str]) -> Tuple[Source, ...]:
    """The sources to try in order: the entries of ``CIFAR10_URL``, or the canonical URL when it is unset."""
    entries = env.get("CIFAR10_URL", "").split()
    if not entries:
        return (Source(url=CANONICAL_URL),)
    return tuple(parse_source(entry) for entry in entries)


def _digest(env: Mapping[str, str], name: str, algorithm: str) -> Optional[str]:
    value = env.get(name, "").strip()
    if not value:
        return None
    # Accept the output of md5sum/sha256sum, or the path of such a `.md5`/`.sha256` file, as well as bare hex.
    candidate = Path(value).expanduser()
    if not re.fullmatch(r"[0-9a-fA-F]+", value) and candidate.is_file():
        value = candidate.read_text(encoding="ascii", errors="replace").strip()
    token = value.split()[0].lower() if value.split() else ""
    if not re.fullmatch(r"[0-9a-f]{%d}" % _HEX_DIGITS[algorithm], token):
        raise UsageError(
            f"{name}={env.get(name)!r} is not a{'n' if algorithm == 'md5' else ''} {algorithm} checksum: "
            f"expected {_HEX_DIGITS[algorithm]} hexadecimal digits (the first word of `{algorithm}sum FILE`), "
            f"or the path of a file holding them.\nWhat to do: fix or unset {name}."
        )
    return token


def read_expected(env: Mapping[str, str]) -> Expected:
    """The checksums (and size) the archive must match, from ``CIFAR10_MD5`` / ``CIFAR10_SHA256``.

    Without either, the canonical archive's md5 and size apply, so a mirror that serves the very same file
    needs no checksum.
    """
    md5 = _digest(env, "CIFAR10_MD5", "md5")
    sha256 = _digest(env, "CIFAR10_SHA256", "sha256")
    if md5 is None and sha256 is None:
        return Expected(md5=CANONICAL_MD5, sha256=None, size=CANONICAL_SIZE)
    size = CANONICAL_SIZE if md5 == CANONICAL_MD5 else None
    return Expected(md5=md5, sha256=sha256, size=size)


def resolve_target(value: Optional[str]) -> Path:
    """The destination folder: ``value`` (relative to the working folder) or the default; links resolved."""
    target = Path(value).expanduser() if value else DEFAULT_TARGET
    target = Path(os.path.abspath(str(target)))
    return target.resolve() if target.is_symlink() else target


def _check(target: Path, quiet: bool) -> int:
    """``--check``: every file's size and sha256 against the manifest; the exit status."""
    started = time.perf_counter()
    result = check_copy(target, full=True, quiet=quiet)
    elapsed = time.perf_counter() - started
    if not result.ok:
        print(
            f"CIFAR-10 in {target} is NOT complete: {'; '.join(result.problems)}.\n"
            "What to do: run `bash datasets/get_datasets.sh` (add --force if it reports the copy as present).",
            file=sys.stderr,
        )
        return 1
    if result.manifest is None:
        print(f"CIFAR-10 in {target}: every file is present and every pickle complete ({elapsed:.2f} s); it has "
              "no manifest, so checksums cannot be compared (a normal run writes one).")
        return 0
    total = sum(entry["size"] for entry in result.manifest["files"].values())
    if not quiet:
        print(f"CIFAR-10 in {target} is complete: {len(result.manifest['files'])} files, {human_bytes(total)}, "
              f"sizes and sha256 match the manifest (checked in {elapsed:.2f} s).")
    return 0


@dataclass
class _Where:
    """Where the run is, so that Ctrl-C can be answered with what was kept."""

    step: str = "starting"
    part: Optional[Path] = None
    archive: Optional[Path] = None


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
    total = sum(entry["size"] for entry in result.manifest["files"].values())
    say(
        f"CIFAR-10 is already in {target} ({len(result.manifest['files'])} files, {human_bytes(total)}; sizes "
        f"match its manifest, checked in {time.perf_counter() - started:.3f} s). Nothing to download.\n"
        "(--check also compares checksums; --force fetches again.)"
    )
    return True


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


def _download_verified(source: Source, part: Path, settings: Settings, say: Say, where: _Where) -> dict:
    """Download ``source`` into ``part`` and verify it; returns the digests.

    A resumed file that does not match its checksum gets one fresh download.
    """
    # Imported here, not at the top: see the download module's docstring.
    from .download import download

    def attempt(last_try: bool) -> Optional[dict]:
        where.step, where.part = "download", part
        reused = download(source.url, part, settings.expected, say, timeout=settings.timeout,
                          retries=settings.retries, backoff=settings.backoff, quiet=settings.quiet)
        where.step = "verify"
        try:
            return verify_archive(part, settings.expected, source.url, quiet=settings.quiet)
        except VerificationFailed:
            discard(part)
            if last_try or not reused:
                raise
            return None

    digests = attempt(last_try=False)
    if digests is None:
        # Bytes kept from an earlier attempt may belong to another file or be damaged: start from nothing.
        say("The resumed download does not match its checksum; downloading it again from the start.")
        digests = attempt(last_try=True)
    return digests


def _obtain_archive(settings: Settings, say: Say, where: _Where) -> Tuple[Path, dict, bool]:
    """A verified archive: ``(path, source record for the manifest, True if it sits beside the destination)``.

    An archive left by an earlier run is reused; otherwise the sources are tried in order, and a source that
    fails (or delivers another file) passes the turn to the next one.
    """
    workdir = settings.target.parent
    cached = workdir / ARCHIVE_NAME
    if cached.is_file():
        where.step, where.archive = "verify", cached
        try:
            digests = verify_archive(cached, settings.expected, str(cached), quiet=settings.quiet)
        except VerificationFailed:
            say(f"Discarding {cached}: it does not match {settings.expected.describe()}.")
            discard(cached)
        else:
            say(f"Reusing the verified archive {cached} left by an earlier run.")
            try:
                origin = json.loads(sidecar(cached).read_text(encoding="utf-8")).get("url")
            except (OSError, ValueError, AttributeError):
                origin = None
            return cached, {"url": origin, "archive_bytes": cached.stat().st_size, **digests}, True

    failures: List[Tuple[Source, FetchError]] = []
    for index, source in enumerate(settings.sources):
        try:
            if source.path is not None:
                if not source.path.is_file():
                    raise SourceFailed(f"{source.url}: there is no file {source.path.resolve()}.")
                where.step = "verify"
                say(f"Verifying {source.path} ...")
                digests = verify_archive(source.path, settings.expected, source.url, quiet=settings.quiet)
                return source.path, {"url": source.url, "archive_bytes": source.path.stat().st_size, **digests}, False
            say(f"Downloading {source.url}")
            part = workdir / PART_NAME
            digests = _download_verified(source, part, settings, say, where)
            # The download's state file becomes the archive's note of origin, read when a later run reuses it.
            with disk_errors("renaming", part):
                os.replace(part, cached)
                os.replace(sidecar(part), sidecar(cached))
            where.archive = cached
            return cached, {"url": source.url, "archive_bytes": cached.stat().st_size, **digests}, True
        except (SourceFailed, VerificationFailed) as exc:
            failures.append((source, exc))
            if index + 1 < len(settings.sources):
                say(f"{source.url} failed; trying the next source.")
    if len(failures) == 1:
        raise failures[0][1]
    listing = "\n\n".join(f"{number}. {source.url}\n{exc}" for number, (source, exc) in enumerate(failures, 1))
    raise FetchError(f"None of the {len(failures)} sources in CIFAR10_URL delivered the archive:\n\n{listing}")


def _interrupted(target: Path, where: _Where) -> Interrupted:
    """The message for Ctrl-C or SIGTERM at ``where``: what is kept, and how the next run continues."""
    untouched = f"The copy in {target} is untouched. " if target.is_dir() else ""
    if where.step == "download" and where.part is not None and where.part.exists():
        return Interrupted(
            f"Interrupted. {untouched}{human_bytes(where.part.stat().st_size)} of the download are kept in "
            f"{where.part}: run the same command again to resume."
        )
    if where.step == "swap":
        return Interrupted(
            f"Interrupted; the new copy was put in place first, so {target} is complete. Leftover temporary "
            "files are removed by the next run."
        )
    if where.step in ("verify", "unpack") and where.archive is not None and where.archive.exists():
        return Interrupted(
            f"Interrupted while {'verifying' if where.step == 'verify' else 'unpacking'}. "
            f"{untouched}The verified archive {where.archive} is kept: run the same command again to finish "
            "without downloading."
        )
    return Interrupted(f"Interrupted. {untouched}Run the same command again to finish.")


def run(settings: Settings, say: Say) -> None:
    """Make ``settings.target`` hold a complete, verified copy of CIFAR-10 (steps: see the module's docstring).

    Parameters
    ----------
    settings : Settings
        The validated options.
    say : callable
        Receives one-line notes for the user.

    Raises
    ------
    FetchError
        With a message for the user; ``Interrupted`` (exit status 130) on Ctrl-C or SIGTERM.
    """
    target = settings.target
    if not settings.force and _report_good_copy(target, say):
        tidy(target, say)
        return
    with disk_errors("creating", target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    where = _Where()
    try:
        with exclusive_lock(target.parent):
            recover_and_clean(target, say)
            # Again under the lock: a copy put back just now, or fetched by a run that held the lock.
            if not settings.force and _report_good_copy(target, say):
                return
            _explain_replacement(settings, say)
            started = time.perf_counter()
            archive, record, beside = _obtain_archive(settings, say, where)
            where.step, where.archive = "unpack", (archive if beside else None)
            new_copy = unpack(archive, target.parent, record, quiet=settings.quiet)
            where.step = "swap"
            swap_into_place(new_copy, target, say)
            with disk_errors("removing", new_copy.parent):
                new_copy.parent.rmdir()
            where.step = "done"
            if beside and not settings.keep_archive:
                discard(archive)
            kept = f" The archive is kept in {archive}." if (beside and settings.keep_archive) else ""
            say(f"CIFAR-10 is ready in {target} ({time.perf_counter() - started:.1f} s).{kept}")
    except KeyboardInterrupt:
        raise _interrupted(target, where) from None


def _sigterm_as_interrupt(number, frame):
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> int:
    """Run the command; returns the exit status (see ``--help``)."""
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        # SIGTERM gets the same clean-up as Ctrl-C (temporary folders removed, partial download kept).
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

    def say(message: str) -> None:
        if not args.quiet:
            print(message, flush=True)

    try:
        target = resolve_target(args.dir or env.get("CIFAR10_DIR"))
        if args.check:
            return _check(target, args.quiet)
        settings = Settings(
            target=target,
            sources=read_sources(env),
            expected=read_expected(env),
            timeout=args.timeout,
            retries=args.retries,
            backoff=args.backoff,
            quiet=args.quiet,
            force=args.force,
            keep_archive=args.keep_archive,
        )
        run(settings, say)
        return 0
    except Interrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        return exc.exit_code
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nInterrupted before anything was changed.", file=sys.stderr)
        return Interrupted.exit_code
