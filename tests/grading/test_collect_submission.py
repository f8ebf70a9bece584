"""collectSubmission.sh: packs the allow-list with checksums, finished or not, and says plainly what is unfinished.

Every test runs the real ``bash collectSubmission.sh`` in a copy of the bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cs231n.course import NOTEBOOKS, STUDENT_MODULES
from instructor.course import REPO_ROOT as REPO

MODULES = [Path(path).stem for path in STUDENT_MODULES]
EXPECTED = sorted(
    [f"assignment1/{n}.ipynb" for n in NOTEBOOKS] + [f"cs231n/classifiers/{m}.py" for m in MODULES] + ["MANIFEST.sha256"]
)
OUTPUT = "cs231n_assignment1_submission.zip"


def notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(count, outputs=()):
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": list(outputs), "source": "x = 1"}


def answer_cell(text, grade_id="inline_question_1", points=1):
    meta = {"nbgrader": {"grade": True, "solution": True, "grade_id": grade_id, "points": points}}
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def error_output(evalue="shapes do not match"):
    return {"output_type": "error", "ename": "ValueError", "evalue": evalue, "traceback": []}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A student bundle with every function implemented and every notebook run cleanly."""
    root = tmp_path / "bundle"
    shutil.copytree(REPO / "cs231n", root / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "RELEASE.sha256", root / "RELEASE.sha256")
    for module in MODULES:
        shutil.copy2(REPO / "solutions" / "cs231n" / "classifiers" / f"{module}.py", root / "cs231n" / "classifiers")
    shutil.copy2(REPO / "collectSubmission.sh", root / "collectSubmission.sh")
    (root / "assignment1").mkdir()
    for name in NOTEBOOKS:
        cells = [code_cell(1), code_cell(2), answer_cell("Because the distances are symmetric.")]
        (root / "assignment1" / f"{name}.ipynb").write_text(notebook(cells))
    return root


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The student release as handed out: the stubs, the release notebooks and the release record."""
    root = tmp_path / "release"
    shutil.copytree(REPO / "cs231n", root / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "assignment1", root / "assignment1", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(REPO / "collectSubmission.sh", root / "collectSubmission.sh")
    shutil.copy2(REPO / "RELEASE.sha256", root / "RELEASE.sha256")
    return root


def collect(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = path or f"{Path(sys.executable).parent}:/usr/bin:/bin"
    return subprocess.run(
        ["bash", str(root / "collectSubmission.sh"), *args], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )


def packed(root: Path, output: str = OUTPUT) -> list[str]:
    with zipfile.ZipFile(root / output) as archive:
        return sorted(archive.namelist())


def test_packs_exactly_the_notebooks_and_modules_never_data_environments_or_caches(bundle):
    (bundle / "datasets" / "cifar-10-batches-py").mkdir(parents=True)
    (bundle / "datasets" / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\0" * 1000)
    (bundle / ".venv").mkdir()
    (bundle / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (bundle / "assignment1" / ".ipynb_checkpoints").mkdir()
    (bundle / "assignment1" / ".ipynb_checkpoints" / "knn-checkpoint.ipynb").write_text("{}")
    (bundle / "cs231n" / "classifiers" / "__pycache__").mkdir()
    (bundle / "cs231n" / "classifiers" / "__pycache__" / "softmax.cpython-311.pyc").write_bytes(b"\0")
    (bundle / "cs231n" / "classifiers" / "scratch_notes.txt").write_text("ideas")

    done = collect(bundle)

    assert done.returncode == 0, done.stderr
    assert "Nothing is left unfinished" in done.stdout
    with zipfile.ZipFile(bundle / OUTPUT) as archive:
        assert sorted(archive.namelist()) == EXPECTED
        manifest = archive.read("MANIFEST.sha256").decode()
        listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
        assert sorted(listed) == [name for name in EXPECTED if name != "MANIFEST.sha256"]
        for name, digest in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
            assert archive.read(name) == (bundle / name).read_bytes()


def test_packs_with_python_alone_when_the_zip_program_is_absent_or_broken(bundle, tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "zip").write_text("#!/bin/sh\necho 'zip must not be used' >&2\nexit 99\n")
    (tools / "zip").chmod(0o755)
    for tool in ("dirname", "bash"):
        os.symlink(shutil.which(tool), tools / tool)
    os.symlink(sys.executable, tools / "python3")

    done = collect(bundle, "-o", "out.zip", path=str(tools))

    assert done.returncode == 0, done.stderr
    assert zipfile.ZipFile(bundle / "out.zip").testzip() is None


def test_packages_knn_only_work_and_lists_what_scores_zero_without_any_flag(release):
    """The newcomer's case: kNN done, SVM and Softmax not started. The zip is made, with its manifest, and the
    grader's intake takes it without a note; the script lists every unfinished piece."""
    shutil.copy2(REPO / "solutions" / "cs231n" / "classifiers" / "k_nearest_neighbor.py",
                 release / "cs231n" / "classifiers" / "k_nearest_neighbor.py")
    knn_path = release / "assignment1" / "knn.ipynb"
    knn = json.loads(knn_path.read_text())
    for cell in knn["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = "An answer." if cell["cell_type"] == "markdown" else "best_k = 10\n"
        if cell["cell_type"] == "code":
            cell["execution_count"] = 1 + knn["cells"].index(cell)
    knn_path.write_text(json.dumps(knn))
    softmax_path = release / "assignment1" / "softmax.ipynb"
    softmax = json.loads(softmax_path.read_text())
    setup = next(c for c in softmax["cells"] if c["cell_type"] == "code")
    setup["execution_count"], setup["outputs"] = 1, [error_output("Implement softmax_loss_naive")]
    softmax_path.write_text(json.dumps(softmax))

    done = collect(release)

    assert done.returncode == 0, done.stderr
    assert packed(release) == EXPECTED
    out = done.stdout
    assert "Scores 0 as it stands:" in out
    assert "linear_svm.py: svm_loss_naive, svm_loss_vectorized still raise NotImplementedError" in out
    assert "softmax.py: softmax_loss_naive, softmax_loss_vectorized still raise NotImplementedError" in out
    assert "linear_classifier.py: LinearClassifier.train, LinearClassifier.predict still raise" in out
    assert "svm.ipynb: written answers still empty, scored 0: inline_question_1 (worth 1 point)" in out
    assert "inline_question_4 (worth 2 points)" in out
    assert "svm.ipynb: never run" in out
    assert "softmax.ipynb: the last cell you ran ended in an error (ValueError: Implement softmax_loss_naive)" in out
    assert "svm.ipynb: code cells search_grid, search_loop still raise NotImplementedError" in out
    # Nothing of the finished kNN part is listed.
    assert "knn.ipynb" not in out and "k_nearest_neighbor.py" not in out

    from instructor.intake import Submission, take_in

    zipped = release / OUTPUT
    taken = take_in(Submission("s1", zipped, hashlib.sha256(zipped.read_bytes()).hexdigest(),
                               datetime.now(timezone.utc)), release / "intake", repo_root=REPO)
    assert taken.notes == [] and taken.missing_notebooks == []


def test_an_untouched_release_is_refused_even_after_its_notebooks_were_run(release):
    svm_path = release / "assignment1" / "svm.ipynb"
    svm = json.loads(svm_path.read_text())
    first = next(c for c in svm["cells"] if c["cell_type"] == "code")
    first["execution_count"], first["outputs"] = 1, [error_output()]
    svm_path.write_text(json.dumps(svm))

    done = collect(release)

    assert done.returncode == 1
    assert "nothing to hand in yet: every module in cs231n/classifiers/ is as released (RELEASE.sha256)" in done.stderr
    assert "Nothing was packaged." in done.stderr
    assert not (release / OUTPUT).exists()


@pytest.mark.parametrize("work", ["one written answer", "one function", "one notebook code cell"])
def test_the_smallest_piece_of_work_is_enough_to_package(release, work):
    if work == "one function":
        path = release / "cs231n" / "classifiers" / "linear_svm.py"
        path.write_text(path.read_text().replace(
            'raise NotImplementedError("Implement svm_loss_naive', 'return 0.0, W * 0  # ("Implement svm_loss_naive', 1))
        expected = "linear_svm.py: svm_loss_vectorized still raises NotImplementedError, so its tests score 0"
    else:
        path = release / "assignment1" / "knn.ipynb"
        nb = json.loads(path.read_text())
        wanted = "markdown" if work == "one written answer" else "code"
        cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
                    and c["cell_type"] == wanted)
        cell["source"] = "An answer." if wanted == "markdown" else "best_k = 1\n"
        path.write_text(json.dumps(nb))
        expected = "knn.ipynb: never run"

    done = collect(release)

    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert packed(release) == EXPECTED


def test_missing_files_are_listed_and_the_rest_is_packaged(bundle):
    (bundle / "cs231n" / "classifiers" / "softmax.py").unlink()
    (bundle / "assignment1" / "svm.ipynb").unlink()

    done = collect(bundle)

    assert done.returncode == 0, done.stderr
    assert "assignment1/svm.ipynb: missing, its points are 0" in done.stdout
    assert "cs231n/classifiers/softmax.py: missing, graded as the released stub" in done.stdout
    assert packed(bundle) == [n for n in EXPECTED if n not in {"cs231n/classifiers/softmax.py", "assignment1/svm.ipynb"}]


def test_refuses_a_folder_without_any_of_the_files(tmp_path):
    shutil.copy2(REPO / "collectSubmission.sh", tmp_path / "collectSubmission.sh")
    (tmp_path / "cs231n").mkdir()
    shutil.copy2(REPO / "cs231n" / "submission.py", tmp_path / "cs231n" / "submission.py")
    done = collect(tmp_path)
    assert done.returncode == 1
    assert "none of assignment1/knn.ipynb" in done.stderr and "run this from the assignment's top folder" in done.stderr


def test_a_notebook_that_is_not_a_notebook_stops_packaging_and_says_how_to_restore_it(bundle):
    (bundle / "assignment1" / "svm.ipynb").write_text('{"cells": [ {"cell_type": "code", ')
    done = collect(bundle)
    assert done.returncode == 1
    assert "ERROR: assignment1/svm.ipynb cannot be read as a notebook (JSONDecodeError" in done.stderr
    assert "restore it from assignment1/.ipynb_checkpoints/" in done.stderr
    assert not (bundle / OUTPUT).exists()


def test_a_file_that_cannot_be_read_stops_packaging(bundle):
    # A folder where the module should be cannot be read even by root (a file without permissions can).
    module = bundle / "cs231n" / "classifiers" / "softmax.py"
    module.unlink()
    module.mkdir()
    done = collect(bundle)
    assert done.returncode == 1
    assert "ERROR: cs231n/classifiers/softmax.py cannot be read (Is a directory)" in done.stderr
    assert not (bundle / OUTPUT).exists()


def test_a_notebook_never_run_is_listed_but_packaged(bundle):
    (bundle / "assignment1" / "svm.ipynb").write_text(notebook([code_cell(None), answer_cell("text")]))
    done = collect(bundle)
    assert done.returncode == 0, done.stderr
    assert "Left to do (the grader runs the notebooks again" in done.stdout
    assert "assignment1/svm.ipynb: never run" in done.stdout
    assert packed(bundle) == EXPECTED


def test_the_cell_run_last_decides_whether_a_notebook_ends_in_an_error(bundle):
    # Cell order is not run order: the cell run last (count 7) is the first one in the file.
    cells = [code_cell(7, [error_output()]), code_cell(3), answer_cell("text")]
    (bundle / "assignment1" / "knn.ipynb").write_text(notebook(cells))
    done = collect(bundle)
    assert done.returncode == 0, done.stderr
    assert "knn.ipynb: the last cell you ran ended in an error (ValueError: shapes do not match)" in done.stdout


def test_an_error_that_a_later_run_fixed_is_not_listed(bundle):
    cells = [code_cell(2, [error_output("old")]), code_cell(5), answer_cell("text")]
    (bundle / "assignment1" / "knn.ipynb").write_text(notebook(cells))
    done = collect(bundle)
    assert done.returncode == 0, done.stderr
    assert "ended in an error" not in done.stdout and "Nothing is left unfinished" in done.stdout


def test_a_module_with_a_syntax_error_is_packaged_and_the_consequence_said(bundle):
    (bundle / "cs231n" / "classifiers" / "softmax.py").write_text("def softmax_loss_naive(W, X, y, reg:\n")
    done = collect(bundle)
    assert done.returncode == 0, done.stderr
    assert "cs231n/classifiers/softmax.py: does not parse (SyntaxError at line 1" in done.stdout
    assert "every test of the assignment fails until you fix it" in done.stdout
    with zipfile.ZipFile(bundle / OUTPUT) as archive:
        assert archive.read("cs231n/classifiers/softmax.py") == b"def softmax_loss_naive(W, X, y, reg:\n"


def test_the_abstract_base_class_error_is_not_mistaken_for_a_stub(bundle):
    from cs231n.submission import unimplemented_functions

    source = (REPO / "solutions" / "cs231n" / "classifiers" / "linear_classifier.py").read_text()
    assert "raise NotImplementedError(" in source  # LinearClassifier.loss is abstract by design
    assert unimplemented_functions(bundle / "cs231n" / "classifiers" / "linear_classifier.py") == []
    assert unimplemented_functions(REPO / "cs231n" / "classifiers" / "linear_classifier.py") == [
        "LinearClassifier.train", "LinearClassifier.predict"
    ]
