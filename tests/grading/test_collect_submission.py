"""collectSubmission.sh: packs exactly the allow-list with checksums, refuses what cannot be graded."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = ["k_nearest_neighbor", "linear_svm", "softmax", "linear_classifier"]
NOTEBOOKS = ["knn", "svm", "softmax"]
EXPECTED = sorted(
    [f"assignment1/{n}.ipynb" for n in NOTEBOOKS] + [f"cs231n/classifiers/{m}.py" for m in MODULES] + ["MANIFEST.sha256"]
)


def notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(count, outputs=()):
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": list(outputs), "source": "x = 1"}


def answer_cell(text):
    meta = {"nbgrader": {"grade": True, "solution": True, "grade_id": "inline_question_1", "points": 1}}
    return {"cell_type": "markdown", "metadata": meta, "source": text}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A student bundle with every function implemented and every notebook run cleanly."""
    root = tmp_path / "bundle"
    shutil.copytree(REPO / "cs231n", root / "cs231n", ignore=shutil.ignore_patterns("__pycache__"))
    for module in MODULES:
        shutil.copy2(REPO / "solutions" / "cs231n" / "classifiers" / f"{module}.py", root / "cs231n" / "classifiers")
    shutil.copy2(REPO / "collectSubmission.sh", root / "collectSubmission.sh")
    (root / "assignment1").mkdir()
    for name in NOTEBOOKS:
        cells = [code_cell(1), code_cell(2), answer_cell("Because the distances are symmetric.")]
        (root / "assignment1" / f"{name}.ipynb").write_text(notebook(cells))
    return root


def collect(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = path or f"{Path(sys.executable).parent}:/usr/bin:/bin"
    return subprocess.run(
        ["bash", str(root / "collectSubmission.sh"), *args], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )


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
    with zipfile.ZipFile(bundle / "cs231n_assignment1_submission.zip") as archive:
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


def test_refuses_a_missing_file_and_names_it(bundle):
    (bundle / "cs231n" / "classifiers" / "softmax.py").unlink()
    done = collect(bundle)
    assert done.returncode == 1
    assert "missing cs231n/classifiers/softmax.py" in done.stderr
    assert not (bundle / "cs231n_assignment1_submission.zip").exists()


def test_refuses_a_notebook_that_was_never_run(bundle):
    (bundle / "assignment1" / "svm.ipynb").write_text(notebook([code_cell(None), answer_cell("text")]))
    done = collect(bundle)
    assert done.returncode == 1
    assert "svm.ipynb was never run" in done.stderr
    assert not (bundle / "cs231n_assignment1_submission.zip").exists()


def test_refuses_a_notebook_whose_last_run_cell_ends_in_an_error(bundle):
    error = {"output_type": "error", "ename": "ValueError", "evalue": "shapes do not match", "traceback": []}
    # Cell order is not run order: the cell run last (count 7) is the first one in the file.
    cells = [code_cell(7, [error]), code_cell(3), answer_cell("text")]
    (bundle / "assignment1" / "knn.ipynb").write_text(notebook(cells))
    done = collect(bundle)
    assert done.returncode == 1
    assert "knn.ipynb ends in an error (ValueError: shapes do not match)" in done.stderr


def test_allows_an_error_that_a_later_run_fixed(bundle):
    error = {"output_type": "error", "ename": "ValueError", "evalue": "old", "traceback": []}
    cells = [code_cell(2, [error]), code_cell(5), answer_cell("text")]
    (bundle / "assignment1" / "knn.ipynb").write_text(notebook(cells))
    assert collect(bundle).returncode == 0


def test_refuses_a_stub_that_still_raises_not_implemented_and_names_the_functions(bundle):
    shutil.copy2(REPO / "cs231n" / "classifiers" / "linear_svm.py", bundle / "cs231n" / "classifiers" / "linear_svm.py")
    done = collect(bundle)
    assert done.returncode == 1
    assert "svm_loss_naive, svm_loss_vectorized still raise NotImplementedError" in done.stderr


def test_refuses_a_module_with_a_syntax_error(bundle):
    (bundle / "cs231n" / "classifiers" / "softmax.py").write_text("def softmax_loss_naive(W, X, y, reg:\n")
    done = collect(bundle)
    assert done.returncode == 1
    assert "softmax.py has a syntax error at line 1" in done.stderr


def test_warns_about_an_unanswered_inline_question_but_packages(bundle):
    cells = [code_cell(1), answer_cell("YOUR ANSWER HERE")]
    (bundle / "assignment1" / "softmax.ipynb").write_text(notebook(cells))
    done = collect(bundle)
    assert done.returncode == 0
    assert "WARNING:" in done.stderr and "inline_question_1 is still empty" in done.stderr
    assert (bundle / "cs231n_assignment1_submission.zip").is_file()


def test_the_abstract_base_class_error_is_not_mistaken_for_a_stub(bundle):
    from cs231n.submission import unimplemented_functions

    source = (REPO / "solutions" / "cs231n" / "classifiers" / "linear_classifier.py").read_text()
    assert "raise NotImplementedError(" in source  # LinearClassifier.loss is abstract by design
    assert unimplemented_functions(bundle / "cs231n" / "classifiers" / "linear_classifier.py") == []
    assert unimplemented_functions(REPO / "cs231n" / "classifiers" / "linear_classifier.py") == [
        "LinearClassifier.train", "LinearClassifier.predict"
    ]
