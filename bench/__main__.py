"""Command line of the benchmark suite: ``python -m bench`` (what ``make bench`` runs).

Usage::

    python -m bench                    # every section, full setting (minutes)
    python -m bench --quick            # tiny shapes, generated data: a smoke run
    python -m bench --only losses,knn  # selected sections
    python -m bench --json PATH        # where the JSON goes (default bench-results/latest.json)

It prints one Markdown table of ratios measured side by side, and writes the same rows as JSON.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from . import SECTIONS, run
from .settings import DEFAULT_JSON, BenchSettings


def parse_sections(text: str) -> list:
    """``"losses,knn"`` -> ``["losses", "knn"]``, checked against the known sections."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none given)'}; choose among {', '.join(SECTIONS)}, "
            "separated by commas")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny shapes and generated data (a smoke run, seconds)")
    parser.add_argument("--only", type=parse_sections, action="extend", metavar="NAME[,NAME]",
                        help=f"run only these sections (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--json", default=str(DEFAULT_JSON), metavar="PATH", help="where to write the JSON results")
    parser.add_argument("--runs", type=int, metavar="N", help="least timed pairs per figure (default 5, quick 3)")
    parser.add_argument("--heavy-runs", type=int, metavar="N",
                        help="runs of each notebook and grading configuration (default 2, quick 1)")
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = build_parser().parse_args(argv)
    overrides = {}
    for option, name in ((options.runs, "runs"), (options.heavy_runs, "heavy_runs")):
        if option is not None:
            if option < 1:
                build_parser().error(f"--{name.replace('_', '-')} must be at least 1, got {option}")
            overrides[name] = option
    settings = BenchSettings.quick_smoke(**overrides) if options.quick else BenchSettings.full(**overrides)
    command = " ".join(["python -m bench", *map(shlex.quote, argv)])
    start = time.perf_counter()
    report = run(settings, options.only or list(SECTIONS), command)
    path = report.write_json(options.json)
    print(f"\nwrote {path} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
