"""Intake of submission zips: allow-list only, nothing outside the target, broken input named clearly."""

from __future__ import annotations

import json
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from solutions.instructor import intake
from solutions.instructor.course import STUDENT_MODULES

REPO = Path(__file__).resolve().parents[2]


def valid_notebook() -> bytes:
    return json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def full_files(prefix: str = "") -> dict[str, bytes]:
    files = {f"{prefix}assignment1/{n}.ipynb": valid_notebook() for n in ("knn", "svm", "softmax")}
    for module in STUDENT_MODULES:
        files[prefix + module] = f"# {module} by the student\n".encode()
    return files


def make_zip(path: Path, files: dict[str, bytes], symlinks: dict[str, str] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in dict(symlinks).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def take(tmp_path: Path, files: dict[str, bytes], **kwargs) -> intake.Intake:
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    make_zip(folder / "s1.zip", files, **kwargs)
    submissions, _ = intake.find_submissions(folder)
    return intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)


def test_takes_the_allow_listed_files_into_the_nbgrader_layout(tmp_path):
    files = full_files()
    files["datasets/cifar-10-batches-py/data_batch_1"] = b"pixels"
    files["cs231n/data_utils.py"] = b"print('trusted code replaced')"
    files["assignment1/.ipynb_checkpoints/knn-checkpoint.ipynb"] = valid_notebook()
    taken = take(tmp_path, files)
    got = sorted(p.relative_to(taken.folder).as_posix() for p in taken.folder.rglob("*") if p.is_file())
    assert got == sorted(
        ["knn.ipynb", "svm.ipynb", "softmax.ipynb", "timestamp.txt"] + list(STUDENT_MODULES)
    )
    assert taken.folder == tmp_path / "submitted" / "s1" / "assignment1"
    assert (taken.folder / "cs231n/classifiers/softmax.py").read_bytes() == files["cs231n/classifiers/softmax.py"]


def test_accepts_one_wrapping_folder_as_platforms_repack_zips(tmp_path):
    taken = take(tmp_path, full_files(prefix="s1_submission/"))
    assert (taken.folder / "knn.ipynb").is_file()
    assert not taken.missing_notebooks


def test_skips_entries_that_escape_the_target_and_links(tmp_path):
    files = full_files()
    files["../../evil.py"] = b"import os"
    files["/etc/evil.py"] = b"import os"
    files["assignment1/../../../escape.txt"] = b"x"
    taken = take(tmp_path, files, symlinks={"cs231n/classifiers/link.py": "/etc/passwd"})
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert not any("evil" in p.name or "escape" in p.name for p in written)
    assert sum("unsafe archive entry" in note for note in taken.notes) == 4


def test_a_corrupt_zip_is_refused_with_a_reason(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    make_zip(folder / "s1.zip", full_files())
    data = bytearray((folder / "s1.zip").read_bytes())
    data[40:60] = b"\xff" * 20  # inside the first member's data: its CRC no longer matches
    (folder / "s1.zip").write_bytes(bytes(data))
    submissions, _ = intake.find_submissions(folder)
    with pytest.raises(intake.IntakeError, match="corrupt|not a readable zip"):
        intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "s1.zip").write_text("this is a notebook, not a zip")
    submissions, _ = intake.find_submissions(folder)
    with pytest.raises(intake.IntakeError, match=r"not a readable zip archive \(BadZipFile"):
        intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)


def test_a_missing_module_is_graded_as_the_released_stub(tmp_path):
    files = full_files()
    del files["cs231n/classifiers/linear_svm.py"]
    taken = take(tmp_path, files)
    stub = (REPO / "cs231n/classifiers/linear_svm.py").read_bytes()
    assert (taken.folder / "cs231n/classifiers/linear_svm.py").read_bytes() == stub
    assert "cs231n/classifiers/linear_svm.py was not submitted: graded as the unmodified stub" in taken.notes


def test_a_notebook_that_is_not_json_counts_as_not_submitted(tmp_path):
    files = full_files()
    files["assignment1/svm.ipynb"] = b"{ this is not json"
    taken = take(tmp_path, files)
    assert taken.missing_notebooks == ["svm"]
    assert not (taken.folder / "svm.ipynb").exists()
    assert any(note.startswith("svm.ipynb is not a valid notebook (NotJSONError: Notebook does not appear to be JSON") for note in taken.notes)


def test_a_missing_notebook_is_reported(tmp_path):
    files = full_files()
    del files["assignment1/softmax.ipynb"]
    taken = take(tmp_path, files)
    assert taken.missing_notebooks == ["softmax"]
    assert "softmax.ipynb was not submitted: its points are 0" in taken.notes


def test_manifest_mismatch_is_noted(tmp_path):
    from cs231n.submission import write_zip

    files = full_files()
    folder = tmp_path / "incoming"
    folder.mkdir()
    write_zip(files, folder / "s1.zip")
    # Rewrite one member after packaging, keeping the manifest.
    with zipfile.ZipFile(folder / "s1.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["cs231n/classifiers/softmax.py"] = b"# edited afterwards\n"
    make_zip(folder / "s1.zip", members)
    submissions, _ = intake.find_submissions(folder)
    taken = intake.take_in(submissions["s1"], tmp_path / "submitted", REPO)
    assert taken.notes == [
        "cs231n/classifiers/softmax.py does not match its checksum in MANIFEST.sha256 (changed after packaging?)"
    ]


def test_an_oversized_member_is_refused_whatever_its_header_claims(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    files = full_files()
    files["cs231n/classifiers/softmax.py"] = b"#" * 5000
    with pytest.raises(intake.IntakeError, match="larger than"):
        take(tmp_path, files)


def test_student_ids_come_from_a_platform_pattern_and_the_newest_file_wins(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    pattern = r"^(?P<student_id>[a-z0-9]+)_\d+_(?P<attempt>\d+)_.*\.zip$"
    old = make_zip(folder / "ada_123_1_submission.zip", full_files())
    new = make_zip(folder / "ada_123_2_submission.zip", full_files())
    make_zip(folder / "bob_456_1_cs231n.zip", full_files())
    (folder / "notes.txt").write_text("not a submission")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(new, (now, now))
    submissions, warnings = intake.find_submissions(folder, pattern)
    assert sorted(submissions) == ["ada", "bob"]
    assert submissions["ada"].path == new
    assert any("ignoring ada_123_1_submission.zip" in w for w in warnings)
    assert any(w.startswith("notes.txt: name does not match") for w in warnings)


def test_unsafe_student_ids_are_skipped(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    make_zip(folder / "..hidden.zip", full_files())
    make_zip(folder / "a b.zip", full_files())
    submissions, warnings = intake.find_submissions(folder)
    assert submissions == {}
    assert any("'a b' is not a safe name" in w for w in warnings)


def test_a_pattern_without_student_id_group_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"has no \(\?P<student_id>\.\.\.\) group"):
        intake.find_submissions(tmp_path, r"(.*)\.zip")


def test_only_answer_cells_are_kept_from_a_submitted_notebook():
    def cell(grade_id, source, solution=False, cell_type="code"):
        meta = {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": not solution, "points": 1}}
        return {"cell_type": cell_type, "metadata": meta, "source": source, "outputs": [], "execution_count": None}

    release = {"cells": [cell("setup", "import numpy"), cell("answer", "# YOUR CODE HERE", solution=True),
                         cell("test_a", "assert f() == 1"), cell("q1", "YOUR ANSWER HERE", True, "markdown")],
               "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    student = {"cells": [cell("setup", "import numpy; np.allclose = lambda *a: True"),
                         {"cell_type": "code", "metadata": {}, "source": "cheat()", "outputs": [], "execution_count": 1},
                         cell("answer", "def f():\n    return 1", solution=True),
                         cell("q1", "Because it is linear.", True, "markdown")],
               "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    merged = json.loads(intake.keep_answers(json.dumps(release), json.dumps(student).encode()))
    assert [c["source"] for c in merged["cells"]] == [
        "import numpy", "def f():\n    return 1", "assert f() == 1", "Because it is linear."
    ]
