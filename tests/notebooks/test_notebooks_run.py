"""The notebooks run in a real Jupyter kernel: solutions pass every test cell, releases fail only for student code.

Both runs use quick mode (``CS231N_QUICK=1``) on generated CIFAR-10 look-alikes of 20 images per batch; the
``shared_data`` test repeats the solution run on the rebuilt CIFAR-10 archive when it is present.
"""

from __future__ import annotations

import ast
import os
import re
import tarfile

import nbformat
import pytest

from bench.notebook_bundle import REFERENCE_DIR, NOTEBOOKS, LiveKernel, cell_errors, execute, kernel_env, make_bundle, text_output
from instructor.grade.answers import AnswerChecker, Recomputer
from instructor.course import CHECKED_ANSWERS, COURSE_DIR

pytestmark = pytest.mark.slow

STUB_MESSAGE = re.compile(r"^Implement (?:\w+\.)?(\w+) in cs231n/classifiers/\w+\.py")
# What an answer cell of a released notebook raises until the student writes it (solutions/nbgrader_config.py).
CELL_STUB_MESSAGE = "write your code in this cell where it says YOUR CODE HERE, then run it again"
# The test cells of the answers that are computations (cross-validation, best k, the searches).
CHECKED_TESTS = {f"test_{answer}" for answer in CHECKED_ANSWERS}
# Each graded function, as the stub's message names it.
STUB_NAMES = {
    "knn": {"compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops", "predict_labels"},
    "svm": {"svm_loss_naive", "svm_loss_vectorized", "train", "predict"},
    "softmax": {"softmax_loss_naive", "softmax_loss_vectorized", "train"},
    "two_layer_net": {"loss", "train", "predict"},
    "features": set(),  # nothing new to write in modules: its searches are answer cells
}


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _figure(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"the notebook did not print {pattern!r}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def solution_runs(tmp_path_factory, small_cifar_dir):
    """The three source notebooks run against the reference submission, in quick mode on generated data."""
    assignment = make_bundle(tmp_path_factory.mktemp("reference-bundle"))
    env = kernel_env(small_cifar_dir)
    return {name: execute(assignment / f"{name}.ipynb", env)[0] for name in NOTEBOOKS}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_runs_without_any_error(solution_runs, name):
    errors = [(_grade_id(cell), output["ename"], output["evalue"][:200]) for _, cell, output in cell_errors(solution_runs[name])]
    assert errors == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_graded_cell_of_the_solution_passes(solution_runs, name):
    graded = [cell for cell in solution_runs[name].cells if _grade_id(cell).startswith(("test_", "hidden_"))]
    assert graded
    for cell in graded:
        printed = "".join(output.get("text", "") for output in cell.outputs if output.get("output_type") == "stream")
        expected = "visible tests pass" if _grade_id(cell).startswith("test_") else "hidden cases pass"
        assert expected in printed, f"{_grade_id(cell)} printed {printed!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_draws_its_figures(solution_runs, name):
    images = sum("image/png" in output.get("data", {}) for cell in solution_runs[name].cells
                 for output in cell.get("outputs", []))
    assert images == {"knn": 3, "svm": 4, "softmax": 4, "two_layer_net": 6, "features": 3}[name]


def test_knn_printed_figures_are_in_range(solution_runs):
    text = text_output(solution_runs["knn"])
    # The generated images are brightness-coded by class, so neighbours are nearly always right.
    assert _figure(text, r"k=1: \d+ / \d+ correct, test accuracy ([\d.]+)") >= 0.8
    assert _figure(text, r"best k = \d+: \d+ / \d+ correct, test accuracy ([\d.]+)") >= 0.8
    assert _figure(text, r"best k from cross-validation: (\d+)") in {1, 3, 5, 8, 10, 12, 15, 20, 50}
    assert _figure(text, r"one loop vs two loops on the slice: Frobenius norm of the difference ([\d.e+-]+)") < 1e-6
    assert re.search(r"two loops +[\d.]+ +[\d.]+ +\d+x", text), "the timing table is missing"
    assert text.count("fold accuracies") == 9  # every k of the grid that fits in a fold of 80 images


@pytest.mark.parametrize("name", ["svm", "softmax"])
def test_linear_classifier_printed_figures_are_in_range(solution_runs, name):
    text = text_output(solution_runs[name])
    initial = _figure(text, r"loss at initialization: ([\d.]+)")
    if name == "svm":
        assert 8.5 < initial < 9.5  # about C - 1
        assert "losses of the cat, car and frog images: [ 2.9  0.  12.9]" in text and "mean loss: 5.27" in text
        assert "loss with delta = 10: 8" in text
    else:
        assert abs(initial - 2.3026) < 0.2  # about log(10)
        assert "probabilities: [0.13 0.87 0.  ]" in text and "loss -log(P(cat)) = 2.04" in text
        assert "softmax loss 0.551" in text
    assert text.count("entries with relative error below 1e-6: 10 of 10") == 2
    assert _figure(text, r"relative error of the loss ([\d.e+-]+)") < 1e-12
    assert _figure(text, r"of the gradient \(Frobenius\) ([\d.e+-]+)") < 1e-12
    for pattern in (r"final validation accuracy ([\d.]+)", r"final test accuracy ([\d.]+)"):
        assert 0.0 <= _figure(text, pattern) <= 1.0
    # Better than chance on the coded images. The final model's 20 validation images are too few to ask the same
    # of it: after 200 steps on 80 images it fits their noise.
    assert _figure(text, r"best validation accuracy of the search: ([\d.]+)") > 0.1
    assert _figure(text, r"final test accuracy ([\d.]+)") > 0.1


def grader_verdicts(runs: dict, data_dir, folder) -> dict:
    """The grader's verdicts on the computed answers of executed notebooks, recomputed on ``data_dir``."""
    checker = AnswerChecker(Recomputer(COURSE_DIR, data_dir, folder / "recompute.log"))
    verdicts = {}
    try:
        for name, notebook in runs.items():
            nbformat.write(notebook, folder / f"{name}.ipynb")
            verdicts |= checker.check(name, folder / f"{name}.ipynb")
    finally:
        checker.close()
    return verdicts


def test_the_graders_own_computations_confirm_every_computed_answer_of_the_solutions(solution_runs, small_cifar_dir,
                                                                                      tmp_path):
    """answer_checks.py repeats the notebooks' quick mode on the same data; the solutions' results agree."""
    verdicts = grader_verdicts(solution_runs, small_cifar_dir, tmp_path)
    assert sorted(verdicts) == sorted(CHECKED_ANSWERS)
    assert all(verdict.passed for verdict in verdicts.values()), verdicts
    assert verdicts["knn_cross_validation"].message.endswith("matches the grader's own cross-validation")


# ------------------------------------------------------------------------- the release with the stubs

def _assigned_names(source: str) -> set[str]:
    """Names a cell assigns (variables, functions, imports), magics left out."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


@pytest.fixture(scope="module")
def release_runs(tmp_path_factory, small_cifar_dir):
    """The notebooks as nbgrader releases them from the current source, run against the untouched stubs."""
    from instructor.release.build import generate_notebooks

    released = tmp_path_factory.mktemp("release")
    for name, text in generate_notebooks().items():
        (released / f"{name}.ipynb").write_text(text, encoding="utf-8")
    assignment = make_bundle(tmp_path_factory.mktemp("stub-bundle"), notebooks_dir=released, reference=False)
    env = kernel_env(small_cifar_dir)
    return {name: execute(assignment / f"{name}.ipynb", env)[0] for name in NOTEBOOKS}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_holds_no_solution_and_no_hidden_test(release_runs, name):
    for cell in release_runs[name].cells:
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "hidden_checks"):
            assert marker not in cell.source, (_grade_id(cell), marker)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_fails_only_in_cells_that_need_student_code(release_runs, name):
    notebook = release_runs[name]
    errored = {index: output for index, _, output in cell_errors(notebook)}
    failed_names: set[str] = set()
    stub_functions = set()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if index not in errored:
            if _grade_id(cell).startswith("test_"):
                pytest.fail(f"{_grade_id(cell)} passed against the stubs")
            continue
        output = errored[index]
        stub = STUB_MESSAGE.match(output["evalue"]) if output["ename"] == "NotImplementedError" else None
        is_answer = cell.metadata.get("nbgrader", {}).get("solution", False)
        uses_failed = {name for name in failed_names if re.search(rf"\b{name}\b", cell.source)}
        if stub:
            stub_functions.add(stub.group(1))
        elif _grade_id(cell) in CHECKED_TESTS:
            # The test of a computed answer needs that answer: it fails on what the unanswered cell left.
            assert uses_failed and output["ename"] in ("ValueError", "NameError"), (
                f"{_grade_id(cell)} failed with {output['ename']}: {output['evalue'][:200]} before any answer it needs")
        elif _grade_id(cell).startswith("test_"):
            pytest.fail(f"{_grade_id(cell)} failed with {output['ename']}: {output['evalue']}, not the stub's message")
        elif is_answer and not uses_failed:
            assert (output["ename"], output["evalue"]) == ("NotImplementedError", CELL_STUB_MESSAGE), (
                f"cell {index} ({_grade_id(cell)}) is a student answer but raised {output['ename']}: {output['evalue'][:200]}")
        elif not uses_failed:
            pytest.fail(f"cell {index} ({_grade_id(cell)}) needs no student code but raised "
                        f"{output['ename']}: {output['evalue'][:200]}\n{cell.source[:400]}")
        failed_names |= _assigned_names(cell.source)
    assert stub_functions == STUB_NAMES[name]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_runs_the_provided_material_before_any_student_code(release_runs, name):
    text = text_output(release_runs[name])
    assert "quick mode" in text and ("Training data" in text or "train (" in text)
    if name == "svm":
        assert "mean loss: 5.27" in text and "bias trick on the dev set: the two score matrices agree" in text
    if name == "softmax":
        assert "loss -log(P(cat)) = 2.04" in text and "softmax loss 0.551" in text


def test_missing_data_gives_one_message_with_the_command(tmp_path):
    assignment = make_bundle(tmp_path / "bundle")
    notebook, _ = execute(assignment / "knn.ipynb", kernel_env(tmp_path / "nowhere"))
    (_, cell, output), *_ = cell_errors(notebook)
    assert output["ename"] == "FileNotFoundError"
    assert "bash datasets/get_datasets.sh" in output["evalue"] and "CIFAR10_DIR" in output["evalue"]
    traceback = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in output["traceback"]]  # without the colours
    frames = [line for line in traceback if line.startswith(("Cell In[", "File "))]
    assert len(frames) == 1, "the message should come from the notebook cell alone, not a library traceback"


@pytest.mark.shared_data
def test_solution_notebooks_run_on_the_rebuilt_archive(shared_archive, tmp_path):
    with tarfile.open(shared_archive) as archive:
        archive.extractall(tmp_path / "data", filter="data")
    assignment = make_bundle(tmp_path / "bundle")
    env = kernel_env(tmp_path / "data" / "cifar-10-batches-py")
    runs = {}
    for name in NOTEBOOKS:
        notebook, _ = execute(assignment / f"{name}.ipynb", env)
        runs[name] = notebook
        assert cell_errors(notebook) == []
        text = text_output(notebook)
        if name == "knn":
            accuracy = _figure(text, r"k=1: \d+ / 100 correct, test accuracy ([\d.]+)")  # 500 training images
            assert 0.15 < accuracy < 0.4
        elif name == "two_layer_net":  # 5,000 training images, 150 steps of a 50-unit network
            assert 0.2 < _figure(text, r"two-layer net: best validation accuracy ([\d.]+)") < 0.5
            assert 0.2 < _figure(text, r"two-layer net: best validation accuracy [\d.]+, test accuracy ([\d.]+)") < 0.5
        elif name == "features":  # the features lift the SVM above its pixel accuracy even in quick mode
            assert 0.35 < _figure(text, r"linear SVM on features: best validation accuracy [\d.]+, test accuracy ([\d.]+)") < 0.6
            assert 0.2 < _figure(text, r"two-layer net on features: best validation accuracy [\d.]+, test accuracy ([\d.]+)") < 0.7
        else:
            assert 0.2 < _figure(text, r"final validation accuracy ([\d.]+)") < 0.45
            assert 0.2 < _figure(text, r"final test accuracy ([\d.]+)") < 0.45
    # On real images the quick searches are far from chaos: every setting is compared, none left out.
    verdicts = grader_verdicts(runs, tmp_path / "data" / "cifar-10-batches-py", tmp_path)
    assert all(verdict.passed and "left out" not in verdict.message for verdict in verdicts.values()), verdicts


# ------------------------------------------------------------------------- the setup cell in a live kernel

def _setup_cell() -> str:
    from bench.notebook_bundle import SOURCE_DIR

    notebook = nbformat.read(SOURCE_DIR / "svm.ipynb", as_version=4)
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code")


def test_edits_to_the_classifiers_are_picked_up_without_restarting_the_kernel(tmp_path, small_cifar_dir):
    assignment = make_bundle(tmp_path / "bundle", reference=False)
    stub = assignment.parent / "cs231n" / "classifiers" / "linear_svm.py"
    call = "print(svm_loss_vectorized(np.zeros((3, 2)), np.eye(3), np.array([0, 1, 0]), 0.0)[0])"
    with LiveKernel(assignment, kernel_env(small_cifar_dir)) as kernel:
        printed, error = kernel.run(_setup_cell())
        assert error is None and str(assignment.parent / "cs231n") in printed
        _, error = kernel.run("from cs231n.classifiers.linear_svm import svm_loss_vectorized\n" + call)
        assert error["ename"] == "NotImplementedError" and "Implement svm_loss_vectorized" in error["evalue"]
        stub.write_text((REFERENCE_DIR / "linear_svm.py").read_text(encoding="utf-8"), encoding="utf-8")
        os.utime(stub, (stub.stat().st_atime, stub.stat().st_mtime + 5))  # a clearly newer file
        printed, error = kernel.run(call)
        assert error is None and printed.strip() == "1.0"  # all scores 0: each example pays C - 1 = 1


def test_setup_cell_explains_a_notebook_opened_outside_the_bundle(tmp_path, small_cifar_dir):
    with LiveKernel(tmp_path, kernel_env(small_cifar_dir)) as kernel:
        _, error = kernel.run(_setup_cell())
    assert error["ename"] == "FileNotFoundError"
    assert "no cs231n/data_utils.py" in error["evalue"] and "assignment1/ folder" in error["evalue"]


def test_setup_cell_turns_quick_mode_on_for_nbgrader_and_off_by_default(tmp_path, small_cifar_dir):
    assignment = make_bundle(tmp_path / "bundle")
    for extra, expected in ((dict(), "False"), (dict(NBGRADER_EXECUTION="autograde"), "True"),
                            (dict(CS231N_QUICK="1"), "True"), (dict(CS231N_QUICK="0"), "False")):
        env = kernel_env(small_cifar_dir, quick=False, **extra)
        with LiveKernel(assignment, env) as kernel:
            kernel.run(_setup_cell())
            printed, error = kernel.run("print(QUICK)")
        assert error is None and printed.strip() == expected, extra
