"""The grader's check of the computed answers: the results line is adversary data, refused when malformed;
the computations it reports are judged against the grader's own, and only the robust ones are compared."""

import json
import re
import shutil

import nbformat
import numpy as np
import pytest

from cs231n.report import PREFIX, best_k_report, cross_validation_report, search_report
from instructor.grade import answers as answer_checks
from instructor.grade import score as record
from instructor.grade.answers import AnswerChecker, LineError, Recomputer, parse_line, printed_by, tolerance
from instructor.course import COURSE_DIR
from instructor.grade.verdict import Check

K_CHOICES = [1, 3]
FOLD_SIZES = [100] * 5
GRADER_FOLDS = {1: [0.30, 0.25, 0.28, 0.31, 0.27], 3: [0.26, 0.24, 0.30, 0.29, 0.25]}
LRS, REGS = [1e-7, 5e-7], [1e3, 2e3]
GRADER_RUNS = {  # (learning rate, reg) -> runs as the notebook, float64 loss, reversed features
    (1e-7, 1e3): [(0.3012, 0.296), (0.3012, 0.296), (0.3014, 0.296)],
    (1e-7, 2e3): [(0.3110, 0.300), (0.3110, 0.300), (0.3110, 0.300)],
    (5e-7, 1e3): [(0.3500, 0.330), (0.3500, 0.330), (0.3500, 0.330)],
    (5e-7, 2e3): [(0.3400, 0.310), (0.3560, 0.334), (0.3300, 0.302)],  # chaotic: the runs disagree
}


class FakeRecomputer:
    """Answers as the recomputation process would, from the figures above; counts the settings asked."""

    def __init__(self):
        self.asked = []

    def ask(self, request):
        if request["op"] == "folds":
            return {"k_choices": K_CHOICES, "fold_sizes": FOLD_SIZES, "results": [[k, v] for k, v in GRADER_FOLDS.items()]}
        if request["op"] == "examples":
            return {"examples": [5000, 500]}
        self.asked.append((request["name"], request["learning_rate"], request["reg"]))
        return {"runs": [list(run) for run in GRADER_RUNS[(request["learning_rate"], request["reg"])]]}

    def close(self):
        pass


def graded_notebook(tmp_path, printed: dict[str, str]):
    """An autograded notebook whose cell ``grade_id`` printed ``printed[grade_id]`` on stdout."""
    cells = [nbformat.v4.new_markdown_cell("text")]
    for grade_id, text in printed.items():
        cell = nbformat.v4.new_code_cell("...", metadata={"nbgrader": {"grade_id": grade_id}})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cells.append(cell)
    path = tmp_path / "graded.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def knn_lines(folds=GRADER_FOLDS, best_k=1, best_of=None):
    return {
        "test_knn_cross_validation": "cross-validation: visible tests pass\n"
                                     + cross_validation_report(folds, K_CHOICES, FOLD_SIZES) + "\n",
        "test_best_k": best_k_report(best_k, best_of or folds) + "\n",
    }


def search_line(results, name="svm_search"):
    rates = sorted({lr for lr, _ in results})
    strengths = sorted({reg for _, reg in results})
    return {f"test_{name}": search_report(name, results, rates, strengths) + "\n"}


def expected_search(**changes):
    results = {setting: runs[0] for setting, runs in GRADER_RUNS.items()}
    return results | changes


# ------------------------------------------------------------------------------------------ the line itself

@pytest.mark.parametrize("printed, message", [
    ("visible tests pass\n", r"svm_search: its test cell printed no results line \(did the test pass in the notebook\?\)"),
    (f"{PREFIX}{{}}\n{PREFIX}{{}}\n", r"svm_search: its test cell printed 2 results lines; the test cell prints exactly one"),
    (PREFIX + "[" * 20000, r"svm_search: the results line has 20000 characters, more than the 16384 allowed"),
    (PREFIX + '{"check": "svm_search", "results": [[1e-7, 0, NaN, 0.3]]}', r"svm_search: the results line holds NaN, not a number"),
    (PREFIX + '{"check": "svm_search", "x": -Infinity}', r"the results line holds -Infinity, not a number"),
    (PREFIX + '{"check": "svm_search",', r"svm_search: the results line is not valid JSON \(JSONDecodeError\)"),
    (PREFIX + "[" * 16000 + "]" * 16000, r"more than the 16384 allowed"),
    (PREFIX + "[" * 8000 + "]" * 8000, r"the results line is not valid JSON \(RecursionError\)"),
    (PREFIX + '["svm_search"]', r'svm_search: the results line is not a JSON object with "check": "svm_search"'),
    (PREFIX + '{"check": "softmax_search", "results": []}', r'is not a JSON object with "check": "svm_search"'),
    (" " + PREFIX + "{}", r"printed no results line"),
])
def test_a_missing_repeated_oversized_or_malformed_line_is_refused(printed, message):
    with pytest.raises(LineError, match=message):
        parse_line(printed, "svm_search")


def test_the_line_is_read_from_the_stdout_of_its_own_test_cell_only(tmp_path):
    line = f'{PREFIX}{{"check": "best_k", "best_k": 3}}'
    cells = [nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "choose_best_k"}}),
             nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_best_k"}}),
             nbformat.v4.new_markdown_cell(line, metadata={"nbgrader": {"grade_id": "test_best_k"}})]
    cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=line + "\n")]  # the answer cell printed it
    cells[1].outputs = [nbformat.v4.new_output("stream", name="stderr", text=line + "\n"),
                        nbformat.v4.new_output("stream", name="stdout", text="best k: visible tests pass\n")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    assert printed_by(notebook, "test_best_k") == "best k: visible tests pass\n"
    with pytest.raises(LineError, match="printed no results line"):
        parse_line(printed_by(notebook, "test_best_k"), "best_k")


def test_the_tolerance_is_two_percent_of_the_examples_and_at_least_one():
    assert tolerance(500) == pytest.approx(10 / 500)
    assert tolerance(5000) == pytest.approx(100 / 5000)
    assert tolerance(20) == pytest.approx(1 / 20)
    assert tolerance(500, answer_checks.AGREE_FRACTION) == pytest.approx(3 / 500)


# ---------------------------------------------------------------------------------------------- verdicts

def test_honest_knn_results_pass_and_the_notes_say_why(tmp_path):
    verdicts = AnswerChecker(FakeRecomputer()).check("knn", graded_notebook(tmp_path, knn_lines()))
    assert verdicts == {
        "knn_cross_validation": Check(True, "knn_cross_validation: every fold accuracy matches the grader's own cross-validation"),
        "best_k": Check(True, "best_k: k = 1 has the highest mean accuracy of the cross-validation"),
    }


def test_cross_validation_accuracies_within_two_images_of_a_fold_pass_and_three_images_off_fail(tmp_path):
    close = GRADER_FOLDS | {3: [0.28, 0.24, 0.30, 0.29, 0.25]}  # 2 of 100 images off
    assert AnswerChecker(FakeRecomputer()).check("knn", graded_notebook(tmp_path, knn_lines(close)))["knn_cross_validation"].passed
    forged = GRADER_FOLDS | {3: [0.29, 0.24, 0.30, 0.29, 0.25]}  # 3 of 100 images off
    verdict = AnswerChecker(FakeRecomputer()).check("knn", graded_notebook(tmp_path, knn_lines(forged)))["knn_cross_validation"]
    assert verdict == Check(False, "knn_cross_validation: the fold accuracies for k = 3 are (0.290, 0.240, 0.300, 0.290, "
                                   "0.250), but the grader's cross-validation (5 folds in order, as np.array_split makes "
                                   "them) gives (0.260, 0.240, 0.300, 0.290, 0.250)")


def test_best_k_must_be_an_argmax_of_the_printed_cross_validation_not_of_later_changed_results(tmp_path):
    rewritten = {1: [0.0] * 5, 3: [0.9] * 5}  # what the best-k cell saw after the answer cell changed the results
    verdicts = AnswerChecker(FakeRecomputer()).check("knn", graded_notebook(tmp_path, knn_lines(best_k=3, best_of=rewritten)))
    assert verdicts["knn_cross_validation"].passed
    assert verdicts["best_k"] == Check(False, "best_k: best_k = 3 has the mean cross-validation accuracy 0.2680, but k = 1 "
                                              "has 0.2820: best_k must be the k with the highest mean")


def test_best_k_without_a_usable_cross_validation_line_fails_with_the_reason(tmp_path):
    lines = knn_lines()
    lines["test_knn_cross_validation"] = "cross-validation: visible tests pass\n"
    verdicts = AnswerChecker(FakeRecomputer()).check("knn", graded_notebook(tmp_path, lines))
    assert not verdicts["knn_cross_validation"].passed
    assert verdicts["best_k"].message.startswith("best_k: no cross-validation results to choose from "
                                                 "(knn_cross_validation: its test cell printed no results line")


def test_a_search_that_matches_passes_and_a_chaotic_setting_is_left_out_and_said(tmp_path):
    results = expected_search(**{})
    results[(5e-7, 2e3)] = (0.5, 0.5)  # far from every run, but the runs themselves disagree
    recomputer = FakeRecomputer()
    verdict = AnswerChecker(recomputer).check("svm", graded_notebook(tmp_path, search_line(results)))["svm_search"]
    assert verdict == Check(True, "svm_search: every setting matches the grader's own training of it (1 of 4 left out: "
                                  "their accuracies move with the rounding of the arithmetic)")
    assert sorted(recomputer.asked) == sorted(("svm_search", lr, reg) for lr, reg in GRADER_RUNS)


@pytest.mark.parametrize("forged, message", [
    ({(1e-7, 2e3): (0.3110, 0.322)}, r"svm_search: results\[\(1e-07, 2000\)\] = \(0.311, 0.322\), but training that "
                                     r"setting as the notebook says \(seed 0 for 40 steps, then seed 1 for 20 at a tenth "
                                     r"of the rate\) gives \(training, validation\) accuracy \(0.311, 0.300\)"),
    ({(5e-7, 1e3): (0.3800, 0.330)}, r"results\[\(5e-07, 1000\)\] = \(0.380, 0.330\)"),
])
def test_a_forged_search_entry_fails_with_the_grader_s_figures(tmp_path, forged, message):
    results = expected_search() | forged
    verdict = AnswerChecker(FakeRecomputer()).check("svm", graded_notebook(tmp_path, search_line(results)))["svm_search"]
    assert not verdict.passed
    assert re.search(message, verdict.message), verdict.message


def test_a_search_over_more_settings_than_quick_mode_keeps_is_refused_before_any_training(tmp_path):
    results = {(lr, reg): (0.3, 0.3) for lr in (1e-7, 5e-7, 1e-6) for reg in REGS}
    recomputer = FakeRecomputer()
    verdict = AnswerChecker(recomputer).check("svm", graded_notebook(tmp_path, search_line(results)))["svm_search"]
    assert verdict == Check(False, "svm_search: the results hold 3 learning rates and 2 strengths; in quick mode the "
                                   "notebook keeps the first 2 of each")
    assert recomputer.asked == []


def test_every_checked_answer_of_an_unreadable_notebook_fails(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    verdicts = AnswerChecker(FakeRecomputer()).check("knn", path)
    assert set(verdicts) == {"knn_cross_validation", "best_k"} and not any(v.passed for v in verdicts.values())


# ------------------------------------------------------------------------------- scoring and the real process

def test_record_caps_the_test_cell_of_a_checked_answer_by_its_verdict():
    cell = record.GradedCell("svm", "test_svm_search", "code", 2.0, solution=False, locked=True, checksum="x")
    assert cell.verdict_name == "svm_search"
    assert record.GradedCell("svm", "hidden_svm_search", "code", 2.0, False, True, "x").verdict_name is None
    assert record.GradedCell("svm", "test_svm_loss_naive", "code", 3.0, False, True, "x").verdict_name == "svm_loss_naive"
    failed = {"svm_search": Check(False, "svm_search: results[(1e-07, 2000)] = ...")}
    (capped,) = record._apply_verdicts([record.CellScore(cell, 2.0)], failed)
    assert capped.auto_score == 0.0
    assert capped.note == "test_svm_search: capped to 0 by the trusted check (svm_search: results[(1e-07, 2000)] = ...)"
    (kept,) = record._apply_verdicts([record.CellScore(cell, 2.0)], {"svm_search": Check(True, "ok")})
    assert kept.auto_score == 2.0


def test_the_recomputation_process_repeats_the_notebooks_computations_with_the_reference(small_cifar_dir, tmp_path):
    from solutions.cs231n.classifiers.linear_classifier import Softmax

    recomputer = Recomputer(COURSE_DIR, small_cifar_dir, tmp_path / "recompute.log")
    try:
        folds = recomputer.ask({"op": "folds"})
        runs = recomputer.ask({"op": "setting", "name": "softmax_search", "learning_rate": 4e-6, "reg": 250.0})["runs"]
        examples = recomputer.ask({"op": "examples"})["examples"]
    finally:
        recomputer.close()
    # 20 images per batch: 100 training images for kNN, in folds of 20; 80 training and 20 validation rows.
    assert folds["fold_sizes"] == [20] * 5 and folds["k_choices"] == [1, 3, 5, 8, 10, 12, 15, 20, 50]
    assert all(len(accuracies) == 5 for _, accuracies in folds["results"]) and examples == [80, 20]
    data = answer_checks.load_quick_data(small_cifar_dir)
    model = Softmax()
    model.train(data.X_train, data.y_train, learning_rate=4e-6, reg=250.0, num_iters=40, seed=0)
    model.train(data.X_train, data.y_train, learning_rate=4e-7, reg=250.0, num_iters=20, seed=1)
    assert len(runs) == len(answer_checks.ROUNDINGS)
    assert runs[0] == [float(np.mean(model.predict(data.X_train) == data.y_train)),
                       float(np.mean(model.predict(data.X_val) == data.y_val))]
    assert json.dumps(runs)  # plain numbers


def test_a_later_run_answers_from_the_cache_until_the_data_changes(small_cifar_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_cifar_dir, data)
    first = Recomputer(COURSE_DIR, data, tmp_path / "recompute.log", cache_dir=tmp_path / "cache")
    try:
        folds = first.ask({"op": "folds"})
    finally:
        first.close()
    later = Recomputer(COURSE_DIR, data, tmp_path / "recompute.log", cache_dir=tmp_path / "cache")
    assert later.ask({"op": "folds"}) == folds and later._process is None  # no child was started
    with open(data / "batches.meta", "ab") as handle:
        handle.write(b"\0")  # the data changed: the cache no longer answers
    changed = Recomputer(COURSE_DIR, data, tmp_path / "recompute.log", cache_dir=tmp_path / "cache")
    try:
        changed.ask({"op": "examples"})
        assert changed._process is not None
    finally:
        changed.close()
