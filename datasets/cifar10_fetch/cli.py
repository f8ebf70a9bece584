"""Command line of the CIFAR-10 fetch: options, environment variables, exit statuses."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

from .check_copy import check_copy
from .errors import FetchError
from .layout import CANONICAL_MD5, CANONICAL_SIZE, CANONICAL_URL, FOLDER_NAME
from .options import Options
from .pipeline import Interrupted, Settings, run
from .progress import human_bytes
from .sources import read_expected, read_sources

DEFAULT_TARGET = Path(__file__).resolve().parents[1] / FOLDER_NAME

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


def resolve_target(value: Optional[str]) -> Path:
    """The destination folder: ``value`` (relative to the working folder) or the default; links resolved."""
    target = Path(value).expanduser() if value else DEFAULT_TARGET
    target = Path(os.path.abspath(str(target)))
    return target.resolve() if target.is_symlink() else target


def _check(target: Path, quiet: bool) -> int:
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
            options=Options(timeout=args.timeout, retries=args.retries, backoff=args.backoff, quiet=args.quiet),
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
