"""The instructor's end-to-end dry run (what ``make demo`` runs).

1. CIFAR-10: use ``datasets/cifar-10-batches-py`` if present, else ``bash datasets/get_datasets.sh`` (a mirror
   via ``CIFAR10_URL``). When the download fails, grading uses a small generated stand-in and says so.
2. The student release: ``python -m instructor.release.build`` (stubs, notebooks, student archive).
3. The reference submission: the release notebooks with every answer cell filled in (code answers from the
   source notebooks' solutions, written answers with a stand-in text) and the reference classifiers, packed
   as ``collectSubmission.sh`` packs them.
4. Autograding it into the grading folder ``dist/demo/grading`` (the instructor's ``grading/`` is not
   touched), with the notebooks' fast grading setting, then the result table.

Usage::

    python -m instructor.demo [--jobs N] [--skip-fetch] [AUTOGRADE OPTIONS]

Any other option goes to the autograder (``--cell-timeout``, ``--memory-mb``, ``--uid-base``, ...). Without
``--uid-base`` the demo takes the first range of grading uids that no other grading run holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from instructor import autograde
from instructor.course import ASSIGNMENT, COURSE_DIR, NOTEBOOKS, REPO_ROOT, STUDENT_MODULES, source_dir
from instructor.fences import without_fence_lines
from instructor.grade import sandbox, score
from instructor.grade.store import GradingStore
from instructor.release import build as release

DEMO_DIR = REPO_ROOT / "dist" / "demo"
ANSWER = "Nearby images share most pixels, so the distance ranks them first."


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def fetch_data(skip_fetch: bool) -> tuple[Path, str | None]:
    """The CIFAR-10 folder to grade with, and what was skipped (None when the real data is used)."""
    data = autograde.default_data_dir(REPO_ROOT)
    try:
        autograde.check_data(data)
        print(f"CIFAR-10 found in {data}")
        return data, None
    except FileNotFoundError:
        pass
    why = "--skip-fetch was given"
    if not skip_fetch:
        print("Fetching CIFAR-10 with `bash datasets/get_datasets.sh` (set CIFAR10_URL for a mirror) ...", flush=True)
        done = subprocess.run(
            ["bash", str(REPO_ROOT / "datasets" / "get_datasets.sh"), "--retries", "1", "--timeout", "20"],
            cwd=REPO_ROOT, check=False,
        )
        try:
            autograde.check_data(data)
            return data, None
        except FileNotFoundError:
            why = f"the download failed (exit {done.returncode})"
    from instructor.fake_cifar import write_cifar_batches

    stand_in = write_cifar_batches(DEMO_DIR / "stand-in-data", images_per_batch=20, seed=0)
    for path in [stand_in.parent, stand_in, *stand_in.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # readable by the unprivileged grading uids
    return stand_in, f"real CIFAR-10 ({why}); graded on a generated stand-in of 20 images per batch"


def solution_code(source: str) -> str:
    """An answer cell of a source notebook as a student who solved it hands it in: the solution without its
    ``### BEGIN/END SOLUTION`` fence lines."""
    return without_fence_lines(source)


def with_answers(notebook_text: str, source_text: str) -> bytes:
    """A release notebook (JSON text) with every answer filled in, as a student hands it in: each code answer
    cell from the source notebook ``source_text`` (its solution), each written answer :data:`ANSWER`."""
    notebook = json.loads(notebook_text)
    solutions = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
                 for cell in json.loads(source_text)["cells"]
                 if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = ANSWER
        else:
            cell["source"] = solution_code(solutions[meta["grade_id"]])
    return json.dumps(notebook).encode()


def source_notebooks(course_dir: Path = COURSE_DIR) -> dict[str, str]:
    """The source notebooks (name -> JSON text) of the course, whose answer cells hold the solutions."""
    return {name: (source_dir(course_dir) / f"{name}.ipynb").read_text(encoding="utf-8") for name in NOTEBOOKS}


def reference_files(release: dict[str, str], source: dict[str, str] | None = None) -> dict[str, bytes]:
    """Zip entries of the reference submission: the ``release`` notebooks (name -> JSON text) with every
    answer cell filled from the ``source`` notebooks (default: the course's, :func:`source_notebooks`), and
    the reference classifiers in place of the stubs. It earns every autograded point."""
    source = source or source_notebooks()
    files = {f"{ASSIGNMENT}/{name}.ipynb": with_answers(release[name], source[name]) for name in NOTEBOOKS}
    for module in STUDENT_MODULES:
        files[module] = (REPO_ROOT / "solutions" / module).read_bytes()
    return files


def reference_submission(folder: Path) -> Path:
    """Zip the committed release notebooks (every answer filled in) with the reference classifiers, like
    collectSubmission.sh."""
    from cs231n.submission import write_zip

    release = {name: (REPO_ROOT / ASSIGNMENT / f"{name}.ipynb").read_text(encoding="utf-8") for name in NOTEBOOKS}
    folder.mkdir(parents=True, exist_ok=True)
    return write_zip(reference_files(release), folder / "reference.zip")


def grading_settings(autograde_options: list[str], submissions: Path, out: Path, data: Path, jobs: int):
    """The autograder's options for the demo (``autograde_options`` passed through), its grading folder and
    its configuration.

    Without ``--uid-base`` the first range of grading uids that no account owns and no other grading run
    holds is taken, so the demo runs beside a real grading run.
    """
    options = autograde.build_parser().parse_args(
        [str(submissions), "--out", str(out), "--data", str(data), "--jobs", str(jobs),
         "--cell-timeout", "120", "--submission-timeout", "900", *autograde_options])
    if not any(option.startswith("--uid-base") for option in autograde_options):
        options.uid_base = sandbox.free_uid_base(jobs)
    store = GradingStore(options.out, options.course)
    return options, store, autograde.config_from_args(options, store)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-fetch", action="store_true", help="do not download CIFAR-10 when it is absent")
    args, autograde_options = parser.parse_known_args(argv)
    started = time.monotonic()
    skipped = []

    step("1/4 CIFAR-10")
    data, missing = fetch_data(args.skip_fetch)
    if missing:
        skipped.append(missing)
        print(f"SKIPPED: {missing}")

    step("2/4 student release (make release)")
    if release.main([]) != 0:
        print("the release build failed; see above", file=sys.stderr)
        return 1

    step("3/4 reference submission")
    out = DEMO_DIR / "grading"
    shutil.rmtree(out, ignore_errors=True)
    submissions = DEMO_DIR / "submissions"
    shutil.rmtree(submissions, ignore_errors=True)
    print(f"packed {reference_submission(submissions)}")

    step("4/4 autograde (fast grading setting)")
    jobs = max(1, args.jobs)
    options, store, config = grading_settings(autograde_options, submissions, out, data, jobs)
    try:
        config.sandbox.check()
    except sandbox.SandboxUnavailable as error:
        # The demo grades the reference submission, trusted code; the autograder itself refuses here.
        skipped.append(f"the grading sandbox ({error}); the demo graded its trusted reference submission without it")
        config.sandbox = sandbox.Sandbox(config.sandbox.limits, unsafe=True)
        print(f"SKIPPED: {skipped[-1]}")
    summary = autograde.grade_all(submissions, config, store, autograde.RunOptions(jobs=jobs, force=options.force))
    print()
    print_result(store)
    print(f"\ngrades CSV: {summary['csv']}")
    print(f"feedback:   {store.feedback('reference') / 'index.html'}")
    print(f"student code ran in: {summary['sandbox']}\ntotal {time.monotonic() - started:.0f} s")
    for item in skipped:
        print(f"SKIPPED: {item}")
    return 0


def print_result(store: GradingStore) -> None:
    """Per notebook: autograded score, its maximum, and the inline questions waiting for formgrader."""
    url = store.db_url
    model = score.course_model(url)
    from nbgrader.api import Gradebook

    with Gradebook(url) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "reference")
        width = max(len(name) for name in NOTEBOOKS) + 2
        print(f"{'notebook':<{width}}{'autograded':>12}{'of':>6}{'written answers':>18}")
        for notebook in sorted(submission.notebooks, key=lambda n: NOTEBOOKS.index(n.name)):
            manual = [g for g in notebook.grades if g.name in {c.name for c in model[notebook.name] if c.manual}]
            auto = [g for g in notebook.grades if g not in manual]
            pending = sum(1 for g in manual if g.needs_manual_grade)
            print(f"{notebook.name:<{width}}{sum(g.score for g in auto):>12g}{sum(g.max_score for g in auto):>6g}"
                  f"{f'{pending} to grade':>18}")
    result = store.result("reference")
    print(f"status: {result.status if result else 'not recorded'}"
          + "".join(f"\n  note: {n}" for n in (result.notes if result else [])))


if __name__ == "__main__":
    sys.exit(main())
