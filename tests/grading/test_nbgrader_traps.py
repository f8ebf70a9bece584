"""nbgrader 0.9's traps, each pinned: configuration, PATH for alembic, injected files, versions.

The behaviour under real grading (restored cells, warnings, dead kernels, feedback) is asserted on the
graded batch in test_autograde_batch.py; these tests pin the settings and helpers that make it so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from traitlets.config.loader import PyFileConfigLoader

from instructor import course as course_facts
from instructor.feedback import pages as feedback
from instructor.grade.result import Check
from instructor.nbgrader_course import run_nbgrader
from instructor.course import REPO_ROOT as REPO



@pytest.fixture(scope="module")
def config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "solutions")).load_config()


def test_student_modules_are_never_overwritten_with_the_source_version(config):
    assert sorted(config.Autograde.exclude_overwriting["assignment1"]) == sorted(course_facts.STUDENT_MODULES)


def test_the_warning_filter_is_enabled_not_only_given_a_pattern(config):
    assert config.IgnorePattern.enabled is True
    pattern = re.compile(config.IgnorePattern.pattern)
    assert pattern.search("/x/softmax.py:12: RuntimeWarning: overflow encountered in exp\n  e = np.exp(s)")
    assert pattern.search(" 40%|####      | 4/10 [00:01<00:01]")
    assert not pattern.search("Traceback (most recent call last):")


def test_deleted_test_cells_are_added_back(config):
    assert config.OverwriteCells.add_missing_cells is True


def test_hidden_checks_are_ignored_by_the_release(config):
    assert {"hidden_checks.py", "graded_calls.py"} <= set(config.CourseDirectory.ignore)


def test_the_sandbox_input_holds_no_hidden_test_reference_or_solution(grading_course, grading_data, release_notebooks,
                                                                    tmp_path):
    """What a submission's notebook sandbox is given: the trusted package with the student's modules, the
    notebooks as intake rebuilt them, the runner and its spec; no gradebook, configuration or hidden test."""
    from instructor.grade.config import GradingConfig
    from instructor.grade.notebooks import build_template, prepare_input

    course = tmp_path / "course"
    shutil.copytree(grading_course, course)
    settings = GradingConfig(course_dir=course, repo_root=REPO, work_dir=tmp_path / "work", data_dir=grading_data)
    template = build_template(settings)
    submitted = tmp_path / "submitted"
    shutil.copytree(REPO / "cs231n" / "classifiers", submitted / "cs231n" / "classifiers")
    for name, text in release_notebooks.items():
        (submitted / f"{name}.ipynb").write_text(text, encoding="utf-8")
    folder = prepare_input(settings, template, submitted, tmp_path / "in", deadline=0)
    names = {path.name for path in folder.rglob("*")}
    assert {"run_notebooks.py", "spec.json", "knn.ipynb", "data_utils.py", "linear_svm.py"} <= names
    assert not names & {"hidden_checks.py", "graded_calls.py", "nbgrader_config.py", "gradebook.db", "submission.py"}
    text = b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())
    for secret in (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS", b"hidden_checks.check", b"CS231N_REFERENCE_DIR"):
        assert secret not in text, secret
    assert all(oct(path.stat().st_mode)[-3:] in ("755", "644") for path in folder.rglob("*"))


def test_nbgrader_finds_alembic_without_the_environment_on_path(tmp_path, monkeypatch):
    """Creating a gradebook runs `alembic`; run_nbgrader puts the interpreter's bin/ first on PATH."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    run_nbgrader(["db", "student", "list", f"--CourseDirectory.root={tmp_path}"], tmp_path)
    assert (tmp_path / "gradebook.db").is_file()


def test_without_bin_on_path_nbgrader_cannot_create_a_gradebook(tmp_path):
    """The trap itself, so that the helper above is known to be needed."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "db", "student", "list", f"--CourseDirectory.root={tmp_path}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0 and "alembic" in done.stderr


def test_requirements_pin_nbgrader_for_each_python():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line.startswith("nbgrader")]
    assert any(re.match(r'nbgrader==0\.9\.5; python_version < "3\.11"', line) for line in pins), pins
    assert any(re.match(r'nbgrader==0\.9\.6; python_version >= "3\.11"', line) for line in pins), pins


def test_feedback_strips_hidden_tests_and_their_tracebacks():
    import nbformat

    cell = nbformat.v4.new_code_cell(
        "# the visible part\n### BEGIN HIDDEN TESTS\nimport hidden_checks\nhidden_checks.check(\"svm_loss_naive\")\n"
        "### END HIDDEN TESTS\n",
        metadata={"nbgrader": {"grade_id": "hidden_svm_loss_naive", "grade": True, "points": 3}},
    )
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="case inputs [[1.5, 2.5]]\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="x",
                               traceback=["File hidden_checks.py, line 310, in check", "want = run(...)"]),
    ]
    html_cell = nbformat.v4.new_code_cell("plot()")
    html_cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>x()</script>",
                                                                        "text/plain": "<Figure>"})]
    notebook = nbformat.v4.new_notebook(cells=[cell, html_cell])
    feedback.sanitize(notebook, {"svm_loss_naive": Check(False, "svm_loss_naive: dW differs")})
    assert cell.source == "# hidden tests (run by the grader)"
    assert [o["text"] for o in cell.outputs] == ["hidden tests: failed (svm_loss_naive: dW differs)\n"]
    assert html_cell.outputs[0]["data"] == {"text/plain": "<Figure>"}


def test_sandboxed_processes_get_the_fast_setting_and_no_path_to_instructor_files(grading_course, grading_data, tmp_path):
    from instructor.grade.config import GradingConfig
    from instructor.grade.notebooks import DATA_TARGET, sandbox_env

    settings = GradingConfig(course_dir=grading_course, repo_root=REPO, work_dir=tmp_path, data_dir=grading_data)
    env = sandbox_env(settings)
    assert env["CS231N_QUICK"] == "1" and env["CIFAR10_DIR"] == DATA_TARGET
    # nbgrader itself sets NBGRADER_EXECUTION=autograde around execution; the grader names no instructor path.
    assert "NBGRADER_EXECUTION" not in env and "CS231N_REFERENCE_DIR" not in env
    assert not any(str(REPO / "solutions") in value or str(grading_course) in value for value in env.values())


def test_what_the_sandbox_says_of_a_notebook_run_is_cut_to_sane_values():
    """The durations a notebook frame reports end up in the student's result: a lying sandbox can put there
    only numbers between 0 and a day, and short strings."""
    from instructor.grade.notebooks import _notebook_run

    run = _notebook_run({"status": "graded" * 50, "reason": "x" * 10_000, "incidents": ["y" * 1000] * 50 + [7],
                         "seconds": float("nan"), "kernel_seconds": 1e300})
    assert len(run.status) == 20 and len(run.reason) == 500 and len(run.incidents) == 5
    assert all(len(incident) == 300 for incident in run.incidents)
    assert run.seconds == 0.0 and run.kernel_seconds == 86400.0
    for lie in (-5, "12", None, [1], True and "x"):
        assert _notebook_run({"seconds": lie}).seconds == 0.0


def test_the_ignore_pattern_drops_matching_stderr_only_never_an_error(tmp_path):
    """The grader applies the course's IgnorePattern to what comes back: a warning on stderr is no failure,
    but an error output (a failing assert) survives whatever text it holds."""
    import json

    import nbformat
    import numpy as np

    from instructor.grade.notebooks import _keep_notebook, ignore_pattern

    pattern = ignore_pattern(REPO / "solutions")
    cell = nbformat.v4.new_code_cell("assert False")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="x.py:1: RuntimeWarning: overflow\n"),
        nbformat.v4.new_output("stream", name="stderr", text="a real complaint\n"),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="UserWarning: hidden?", traceback=[]),
    ]
    data = nbformat.writes(nbformat.v4.new_notebook(cells=[cell])).encode()
    assert _keep_notebook(np.frombuffer(data, dtype=np.uint8), tmp_path / "nb.ipynb", pattern) is None
    kept = json.loads((tmp_path / "nb.ipynb").read_text())["cells"][0]["outputs"]
    assert ["".join(o["text"]) if "text" in o else o["ename"] for o in kept] == ["a real complaint\n", "AssertionError"]
