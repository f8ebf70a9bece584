"""make demo's grading options: the autograder's own options pass through, and a free uid range is found."""

from __future__ import annotations

from pathlib import Path

from instructor.course import COURSE_DIR
from instructor.grade import sandbox
from instructor.demo import grading_settings


def test_the_demo_takes_a_free_uid_range_when_another_grading_run_holds_the_default(tmp_path: Path):
    with sandbox.claim_uids(sandbox.DEFAULT_UID_BASE, 2):  # another grading run on this machine
        options, store, settings = grading_settings([], tmp_path / "subs", tmp_path / "out", tmp_path / "data", jobs=2)
    assert settings.sandbox.uid_base != sandbox.DEFAULT_UID_BASE
    assert settings.sandbox.uid_base >= sandbox.DEFAULT_UID_BASE + 2
    assert options.jobs == 2


def test_the_demo_passes_the_autograders_options_through(tmp_path: Path):
    options, store, settings = grading_settings(
        ["--memory-mb", "2048", "--cell-timeout", "30", "--uid-base", "63000", "--unsafe-no-sandbox"],
        tmp_path / "subs", tmp_path / "out", tmp_path / "data", jobs=1)
    assert settings.sandbox.limits.memory_bytes == 2048 << 20
    assert settings.cell_timeout == 30
    assert settings.sandbox.uid_base == 63000 and settings.sandbox.unsafe
    assert store.root == (tmp_path / "out").resolve() and settings.work_dir == store.work
    assert settings.course_dir == COURSE_DIR  # grading reads the single source, writes only the grading folder
