"""The autograder's command line: no sandbox means no grading, unless the instructor says so loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import samples
from instructor import autograde
from instructor.grade import sandbox


def course_and_submissions(grading_course: Path, release_notebooks: dict, tmp_path: Path) -> tuple[Path, Path]:
    course = tmp_path / "course"
    shutil.copytree(grading_course, course)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    files = samples.notebooks(release_notebooks, ["svm"]) | samples.stub_modules()
    samples.write_zip(files, submissions / "s1.zip")
    return course, submissions


def test_without_bubblewrap_the_autograder_refuses_and_says_how_to_fix_it(
        grading_course, release_notebooks, grading_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    course, submissions = course_and_submissions(grading_course, release_notebooks, tmp_path)
    code = autograde.main([str(submissions), "--course", str(course), "--out", str(tmp_path / "grading"),
                           "--data", str(grading_data), "--jobs", "1", "--uid-base", str(sandbox.DEFAULT_UID_BASE + 80)])
    err = capsys.readouterr().err
    assert code == 1
    assert "bubblewrap (`bwrap`) is not installed: install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`" in err
    assert "only if you accept that, pass --unsafe-no-sandbox" in err
    assert not (tmp_path / "grading" / "gradebook.db").exists()  # nothing was graded


@pytest.mark.slow
def test_grading_without_the_sandbox_says_so_in_the_output_and_every_feedback_page(
        grading_course, release_notebooks, grading_data, tmp_path, capsys):
    course, submissions = course_and_submissions(grading_course, release_notebooks, tmp_path)
    code = autograde.main([str(submissions), "--course", str(course), "--out", str(tmp_path / "grading"),
                           "--data", str(grading_data), "--jobs", "1", "--unsafe-no-sandbox", "--submission-timeout", "120"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"WARNING: {sandbox.UNSAFE_WARNING}" in err
    assert f"student code ran in: {sandbox.UNSAFE_WARNING}" in out
    pages = sorted((tmp_path / "grading" / "feedback" / "s1" / "assignment1").glob("*.html"))
    assert [page.name for page in pages] == ["index.html", "svm.html"]
    for page in pages:
        assert "UNSAFE: graded without a sandbox" in page.read_text(), page
