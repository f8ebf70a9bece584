"""The tree as the README draws it: every top-level folder in the layout table, no module editing
``sys.path``, and each course fact written in one place."""

from __future__ import annotations

import re
import subprocess

import pytest

from cs231n import course
from instructor.course import REPO_ROOT

PRODUCT = ("cs231n", "solutions", "instructor", "bench", "datasets")
# Code that runs where no package is installed, and so finds its neighbours by path: the scripts the grading
# sandbox runs with `python -I`, and the set-up cell the notebook builder writes into every notebook.
PATH_EDITS_ALLOWED = {
    "instructor/grade/runtime/run_hidden.py",
    "instructor/grade/runtime/run_notebooks.py",
    "instructor/release/notebooks.py",
}


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        pytest.skip("not a git checkout: the layout is checked on the tracked files")
    return listing.stdout.split()


def readme_table_paths() -> set[str]:
    """The first path of each row of the README's layout table (`| `path` | who | what |`)."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## How the bundle fits together"):text.index("## For students")]
    return {match.group(1).rstrip("/").split("/")[0] for match in re.finditer(r"^\| `([^`]+)`", section, re.M)}


def test_every_top_level_folder_and_script_is_in_the_readme_layout_table():
    top = {path.split("/")[0] for path in tracked_files() if "/" in path} - {".ci"}  # CI's one script
    top |= {"collectSubmission.sh", "RELEASE.sha256"}
    missing = sorted(top - readme_table_paths())
    assert not missing, f"README's layout table does not name {missing}"


def test_the_readme_table_names_no_folder_that_is_not_there():
    for name in readme_table_paths() - {"grading"}:  # grading/ is made by the first grading run
        assert (REPO_ROOT / name).exists(), name


def test_no_product_module_edits_sys_path():
    offenders = []
    for path in tracked_files():
        if path.endswith(".py") and path.split("/")[0] in PRODUCT and path not in PATH_EDITS_ALLOWED:
            if re.search(r"sys\.path\.(insert|append|extend)|sys\.path\s*=", (REPO_ROOT / path).read_text(encoding="utf-8")):
                offenders.append(path)
    assert not offenders, f"these modules edit sys.path instead of importing the installed packages: {offenders}"


def test_the_notebook_list_and_the_student_modules_are_written_only_in_the_course_manifest():
    notebooks = re.compile(r"""\(\s*["']knn["'],\s*["']svm["'],\s*["']softmax["']""")
    module_paths = [re.escape(path) for path in course.STUDENT_MODULES]
    found = []
    for path in tracked_files():
        if not path.endswith(".py") or path == "cs231n/course.py":
            continue
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        if notebooks.search(text) or sum(bool(re.search(p, text)) for p in module_paths) == len(module_paths):
            found.append(path)
    assert not found, f"the course's notebooks or student modules are listed again in {found}: use cs231n.course"


def test_grading_writes_outside_every_package_and_git_ignores_it():
    from instructor.course import DEFAULT_GRADING_DIR

    assert not any((DEFAULT_GRADING_DIR / "x").resolve().is_relative_to(REPO_ROOT / name) for name in PRODUCT)
    ignored = subprocess.run(["git", "check-ignore", "-q", "grading/gradebook.db"], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0
    not_ignored = subprocess.run(["git", "check-ignore", "-q", "tests/grading/samples.py"], cwd=REPO_ROOT, check=False)
    assert not_ignored.returncode == 1  # only the top-level grading folder is output
