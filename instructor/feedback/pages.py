"""Per-student feedback HTML and the grades CSV, from the instructor's gradebook.

Usage (after manual grading in formgrader, to refresh both)::

    python -m instructor.feedback                  # all students of grading/
    python -m instructor.feedback --student s1 --out grading/

nbgrader's own ``generate_feedback`` shows the hidden tests to the student: the autograded notebook holds
the restored test cells in full, and a failing hidden test prints a traceback through the checking code.
Here each ``hidden_NAME`` cell keeps only its visible part and a one-line verdict; its outputs (which
could print hidden inputs) and tracebacks are dropped. HTML and JavaScript outputs are dropped from every
cell so that nothing a submission printed runs in a reader's browser.

A written answer that waits for manual grading (no automatic and no manual score) is *pending*, not 0:
the pages and the CSV say "pending" for it and count its points apart. An answer left as released already
scored 0 with the comment "No response." (:mod:`instructor.grade.score`).

The pages render their maths with a copy of MathJax 3 (the PyPI package django-static-mathjax) that each
student's folder gets beside the pages, so they work opened from the file system with no network.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import filecmp
import html
import io
import importlib.resources
import os
import shutil
import sys
from pathlib import Path

import nbformat

from instructor.course import ASSIGNMENT, DEFAULT_GRADING_DIR, NOTEBOOKS
from instructor.fences import HIDDEN_CELL_PREFIX
from instructor.grade.runtime.outputs import drop_active_outputs
from instructor.grade.result import NOTEBOOK_GRADED, Check, Result, Status
from instructor.grade.sandbox import UNSAFE_WARNING
from instructor.grade.store import CSV_NAME, GradingStore, write_atomically

PENDING = "pending"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# Beside each student's pages, the MathJax files that templates/cs231n_feedback/mathjax.html.j2 loads:
# path inside the package's es5/ folder (LICENSE: one folder up) -> path inside MATHJAX_DIR.
MATHJAX_DIR = "mathjax"
MATHJAX_FILES = {"tex-svg-full.js": "tex-svg-full.js", "ui/safe.js": "ui/safe.js", "../LICENSE": "LICENSE"}


def sanitize(notebook, verdicts: dict[str, Check]) -> None:
    """Remove hidden tests and unsafe outputs from an autograded notebook, in place."""
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code":
            continue
        if grade_id.startswith(HIDDEN_CELL_PREFIX):
            cell.source = "# hidden tests (run by the grader)"
            verdict = verdicts.get(grade_id[len(HIDDEN_CELL_PREFIX):])
            text = "hidden tests: " + (
                "passed" if verdict and verdict.passed else f"failed ({verdict.message})" if verdict else "failed"
            )
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
        else:
            cell.outputs = drop_active_outputs(cell.get("outputs", []))


def _exporter():
    """nbconvert's HTML exporter with templates/cs231n_feedback, which extends nbgrader's feedback template.

    nbgrader's template folder is a plain search path (for ``feedback/index.html.j2``), not a base folder:
    this project's template comes first, so its ``mathjax.html.j2`` replaces nbconvert's.
    """
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    import nbgrader

    class FeedbackExporter(HTMLExporter):
        """HTMLExporter without its last pass, which re-parses the whole page with BeautifulSoup to add
        JupyterLab focus attributes and image alt text: the classic-based feedback template has neither kind
        of element, and that pass is about half of each page's cost."""

        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name"))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "cs231n_feedback"
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.HTMLExporter.extra_template_paths = [
        str(base / "templates"), str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
    ]
    return FeedbackExporter(config=config)


def mathjax_source() -> Path:
    """The ``es5`` folder of MathJax 3 in the package django-static-mathjax (import name ``mathjax``)."""
    try:
        folder = Path(str(importlib.resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError:
        folder = None
    if folder is None or not all((folder / name).is_file() for name in MATHJAX_FILES):
        raise FileNotFoundError(
            "the feedback pages need MathJax 3 from the package django-static-mathjax, which is not installed "
            "in this environment (or lacks es5/tex-svg-full.js); install it with "
            "`pip install -r requirements.txt`"
        )
    return folder


def copy_mathjax(out_dir: Path) -> None:
    """Put the MathJax files the pages load into ``out_dir/MATHJAX_DIR``; a file already equal is kept."""
    source = mathjax_source()
    for name, target_name in MATHJAX_FILES.items():
        origin, target = source / name, out_dir / MATHJAX_DIR / target_name
        if target.is_file() and filecmp.cmp(origin, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target)


def is_pending(grade) -> bool:
    """A gradebook grade with no score yet: an answered written question before manual grading."""
    return grade.auto_score is None and grade.manual_score is None


def _grades(store: GradingStore, student: str) -> dict[str, dict]:
    """Per notebook, from the gradebook: score, max score, pending points and per-cell (score, max), comment.

    A pending cell's score is None; the notebook's score counts it as 0 and ``pending`` holds its points.
    """
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(store.db_url) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        for notebook in submission.notebooks:
            cells = {grade.name: (None if is_pending(grade) else grade.score, grade.max_score)
                     for grade in notebook.grades}
            comments = {comment.name: comment.comment for comment in notebook.comments}
            penalty = notebook.late_submission_penalty or 0
            grades[notebook.name] = {
                "score": notebook.score - penalty, "max_score": notebook.max_score,
                "pending": sum(maximum for score, maximum in cells.values() if score is None),
                "late_penalty": penalty, "cells": cells, "comments": comments,
                "needs_manual_grade": notebook.needs_manual_grade,
            }
    return grades


def render_student(store: GradingStore, student: str) -> list[Path]:
    """Write ``feedback/<student>/assignment1/{index.html, <notebook>.html}`` and the pages' ``mathjax/``.

    Returns the written pages.
    """
    result = store.result(student) or Result(student, "", "", "", Status.ERROR, ["no grading record was found"])
    grades = _grades(store, student)
    out_dir = store.feedback(student)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    exporter = None
    for name in NOTEBOOKS:
        source = store.autograded(student) / f"{name}.ipynb"
        target = out_dir / f"{name}.html"
        if not source.is_file():
            target.unlink(missing_ok=True)
            continue
        notebook = nbformat.read(source, as_version=4)
        sanitize(notebook, result.verdicts)
        if result.sandbox == UNSAFE_WARNING:
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"**WARNING: {result.sandbox}.**"))
        info = grades[name]
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta and meta.get("grade_id") in info["cells"]:
                meta["score"], meta["points"] = info["cells"][meta["grade_id"]]
            if meta and meta.get("grade_id") in info["comments"]:
                meta["comment"] = info["comments"][meta["grade_id"]]
        if exporter is None:
            exporter = _exporter()
            copy_mathjax(out_dir)
        resources = {"nbgrader": {
            "notebook": name, "score": info["score"], "max_score": info["max_score"],
            "pending": info["pending"], "late_penalty": info["late_penalty"],
        }}
        body, _ = exporter.from_notebook_node(notebook, resources=resources)
        target.write_text(body, encoding="utf-8")
        written.append(target)
    index = out_dir / "index.html"
    index.write_text(summary_html(student, grades, result), encoding="utf-8")
    written.append(index)
    return written


def _pending_text(points: float) -> str:
    if points <= 0:
        return ""
    return f", {points:g} point{'' if points == 1 else 's'} {PENDING} (written answers not graded yet)"


def summary_html(student: str, grades: dict[str, dict], result: Result) -> str:
    """A short page: total, per-notebook scores with links, points pending, and every grading note."""
    total = sum(info["score"] for info in grades.values())
    maximum = sum(info["max_score"] for info in grades.values())
    pending = sum(info["pending"] for info in grades.values())
    rows = []
    for name in NOTEBOOKS:
        info = grades.get(name)
        if info is None:
            continue
        link = f'<a href="{name}.html">{name}</a>' if result.notebooks.get(name) == NOTEBOOK_GRADED else name
        score = f"{info['score']:g} / {info['max_score']:g}{_pending_text(info['pending'])}"
        rows.append(f"<tr><td>{link}</td><td>{score}</td></tr>")
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(student)}: {ASSIGNMENT}</title></head><body>\n"
        f"<h1>{ASSIGNMENT}: {html.escape(student)}</h1>\n"
        f"<p>Score: {total:g} / {maximum:g}{_pending_text(pending)}</p>\n"
        f"<table>{''.join(rows)}</table>\n"
        + (f"<h2>Grading notes</h2><ul>{notes}</ul>\n" if notes else "")
        + "</body></html>\n"
    )


def export_csv(store: GradingStore, path: Path) -> Path:
    """Write the grades CSV: one row per student, totals, per-cell scores, status and notes.

    A cell waiting for manual grading reads "pending" and ``pending_points`` adds up such cells' points;
    ``score`` counts them as 0.
    """
    from nbgrader.api import Gradebook

    with Gradebook(store.db_url) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        cell_names = [
            (notebook.name, cell.name)
            for notebook in sorted(assignment.notebooks, key=lambda n: NOTEBOOKS.index(n.name) if n.name in NOTEBOOKS else 99)
            for cell in sorted(notebook.grade_cells, key=lambda c: c.name)
        ]
        rows = []
        for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
            student = submission.student.id
            result = store.result(student)
            scores, pending = {}, 0.0
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if is_pending(grade):
                        scores[(notebook.name, grade.name)] = PENDING
                        pending += grade.max_score
                    else:
                        scores[(notebook.name, grade.name)] = f"{grade.score:g}"
            rows.append(
                [student, submission.timestamp.isoformat() if submission.timestamp else "",
                 str(result.status) if result else "", f"{submission.score:g}", f"{submission.max_score:g}",
                 f"{pending:g}", f"{submission.code_score:g}", f"{submission.max_code_score:g}",
                 "yes" if submission.needs_manual_grade else "no"]
                + [scores.get(key, "0") for key in cell_names]
                + [" | ".join(result.notes if result else [])]
            )
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(
            ["student_id", "timestamp", "status", "score", "max_score", "pending_points", "autograded_score",
             "autograded_max", "needs_manual_grading"]
        + [f"{notebook}:{cell}" for notebook, cell in cell_names]
        + ["notes"]
    )
    writer.writerows(rows)
    write_atomically(path, table.getvalue().encode("utf-8"))
    return path


def render_all(store: GradingStore, students: list[str], jobs: int, progress=None) -> None:
    """Render feedback for ``students`` in ``jobs`` processes (readers only: the gradebook is not written)."""
    if not students:
        return
    if jobs <= 1 or len(students) == 1:
        for student in students:
            render_student(store, student)
            if progress:
                progress()
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(render_student, store, s) for s in students]):
            future.result()
            if progress:
                progress()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_GRADING_DIR,
                        help="grading folder (default: grading/, or $CS231N_GRADING_DIR)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--csv", type=Path, default=None, help=f"grades CSV path (default: <out>/{CSV_NAME})")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    store = GradingStore(args.out)
    if not store.gradebook.is_file():
        print(f"feedback: no gradebook in {store.root}; grade first (python -m instructor.autograde ZIPS --out "
              f"{args.out}) or pass the grading folder with --out", file=sys.stderr)
        return 1
    students = args.student or sorted(store.recorded())
    render_all(store, students, args.jobs)
    csv_path = export_csv(store, args.csv or store.default_csv)
    print(f"feedback for {len(students)} students in {store.root / 'feedback'}; grades in {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
