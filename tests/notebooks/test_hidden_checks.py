"""The hidden checks: seeded edge cases, the reference loaded privately, and mistakes that they catch."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

from bench.notebook_bundle import REFERENCE_DIR


def test_names_are_the_ten_graded_functions(hidden_checks):
    from instructor.course import GRADED_FUNCTIONS

    assert sorted(hidden_checks.NAMES) == sorted(GRADED_FUNCTIONS)


def test_reference_is_loaded_by_path_under_a_private_package(hidden_checks):
    modules = hidden_checks.reference()
    assert set(hidden_checks.MODULES) <= set(modules)
    for module in modules.values():
        assert module.__name__.startswith("_cs231n_hidden_reference.")
        assert module.__file__.startswith(str(REFERENCE_DIR))


def test_reference_dir_honours_the_environment_and_explains_a_wrong_one(hidden_checks, monkeypatch, tmp_path):
    monkeypatch.delenv("CS231N_REFERENCE_DIR", raising=False)
    assert hidden_checks.reference_dir() == REFERENCE_DIR
    monkeypatch.setenv("CS231N_REFERENCE_DIR", str(REFERENCE_DIR))
    assert hidden_checks.reference_dir() == REFERENCE_DIR
    monkeypatch.setenv("CS231N_REFERENCE_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="holds no linear_svm.py"):
        hidden_checks.reference_dir()


def test_unknown_name_is_refused(hidden_checks):
    with pytest.raises(KeyError, match="unknown graded function 'svm_loss'"):
        hidden_checks.cases("svm_loss")


def test_cases_are_seeded_and_hold_only_arrays_and_python_numbers(hidden_checks):
    for name in hidden_checks.NAMES:
        first, second = hidden_checks.cases(name), hidden_checks.cases(name)
        assert len(first) == len(hidden_checks._notes(name)) >= 4
        for a, b in zip(first, second):
            assert a.keys() == b.keys()
            for key, value in a.items():
                assert isinstance(value, (np.ndarray, float, int)) and not isinstance(value, bool), (name, key)
                assert np.array_equal(value, b[key])


def test_loss_cases_cover_the_edge_cases(hidden_checks):
    cases = hidden_checks.cases("softmax_loss_naive")
    assert any(case["reg"] == 0.0 for case in cases)
    assert any(case["X"].shape[0] == 1 for case in cases)
    assert any(np.all(case["W"] == 0) for case in cases)  # every score tied
    assert max(np.abs(case["X"] @ case["W"]).max() for case in cases) > 1e4  # huge scores
    assert any(case["X"].dtype == np.uint8 for case in cases)
    distance_cases = hidden_checks.cases("compute_distances_no_loops")
    assert any(case["X_train"].dtype == np.uint8 and 255 in case["X_train"] for case in distance_cases)


def test_reference_passes_its_own_checks(hidden_checks):
    reference = hidden_checks.reference()
    for name in hidden_checks.NAMES:
        for case in hidden_checks.cases(name):
            assert hidden_checks.compare(name, hidden_checks.run(name, reference, case),
                                         hidden_checks.run(name, reference, case)) == (True, "ok")


def test_naive_and_vectorized_references_agree_within_the_tolerance(hidden_checks):
    reference = hidden_checks.reference()
    pairs = [("svm_loss_naive", "svm_loss_vectorized"), ("softmax_loss_naive", "softmax_loss_vectorized"),
             ("compute_distances_two_loops", "compute_distances_no_loops"),
             ("compute_distances_one_loop", "compute_distances_no_loops")]
    for slow, fast in pairs:
        for case in hidden_checks.cases(slow):
            passed, message = hidden_checks.compare(
                slow, hidden_checks.run(slow, reference, case), hidden_checks.run(fast, reference, case)
            )
            assert passed, (slow, message)


def test_cases_survive_the_graders_npz_round_trip(hidden_checks):
    reference = hidden_checks.reference()
    kinds = {float: float, int: int}
    for name in hidden_checks.NAMES:
        for case in hidden_checks.cases(name):
            buffer = io.BytesIO()
            np.savez(buffer, **{key: np.asarray(value) for key, value in case.items()})
            buffer.seek(0)
            with np.load(buffer, allow_pickle=False) as stored:
                loaded = {key: kinds[type(case[key])](stored[key].item()) if type(case[key]) in kinds else stored[key]
                          for key in stored.files}
            assert hidden_checks.compare(name, hidden_checks.run(name, reference, case),
                                         hidden_checks.run(name, reference, loaded))[0]


# ------------------------------------------------------------------ mistakes the hidden checks must catch

def _with(reference, module_name, **replacements):
    """The reference modules with some attributes of one module replaced (a wrong "student" submission)."""
    modules = dict(reference)
    patched = types.ModuleType(f"mutant_{module_name}")
    patched.__dict__.update(vars(reference[module_name]))
    patched.__dict__.update(replacements)
    modules[module_name] = patched
    return modules


def _loss_mutants(reference):
    svm, softmax = reference["linear_svm"], reference["softmax"]

    def svm_without_regularization_gradient(W, X, y, reg):
        loss, dW = svm.svm_loss_vectorized(W, X, y, reg)
        return loss, dW - 2 * reg * np.asarray(W, dtype=dW.dtype)

    def svm_summing_over_all_classes(W, X, y, reg):
        loss, dW = svm.svm_loss_vectorized(W, X, y, reg)
        return loss + 1.0, dW

    def softmax_without_shift(W, X, y, reg):
        X = np.asarray(X, dtype=float)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            exp_scores = np.exp(X @ W)  # (N, C), overflows for huge scores
            probabilities = exp_scores / exp_scores.sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(probabilities[np.arange(len(y)), y])) + reg * np.sum(W * W)
        probabilities[np.arange(len(y)), y] -= 1
        return loss, X.T @ probabilities / len(y) + 2 * reg * W

    def softmax_with_half_regularization(W, X, y, reg):
        loss, dW = softmax.softmax_loss_vectorized(W, X, y, reg)
        return loss - 0.5 * reg * np.sum(W * W), dW - reg * W

    return {
        "svm_loss_naive": [("linear_svm", {"svm_loss_naive": svm_without_regularization_gradient}),
                           ("linear_svm", {"svm_loss_naive": svm_summing_over_all_classes})],
        "svm_loss_vectorized": [("linear_svm", {"svm_loss_vectorized": svm_without_regularization_gradient})],
        "softmax_loss_naive": [("softmax", {"softmax_loss_naive": softmax_without_shift})],
        "softmax_loss_vectorized": [("softmax", {"softmax_loss_vectorized": softmax_with_half_regularization})],
    }


def _class_mutants(reference):
    knn, classifiers = reference["k_nearest_neighbor"], reference["linear_classifier"]

    class SquaredDistances(knn.KNearestNeighbor):
        def compute_distances_no_loops(self, X):
            return super().compute_distances_no_loops(X) ** 2

    class LargestLabelWinsTies(knn.KNearestNeighbor):
        def predict_labels(self, dists, k=1):
            nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
            votes = np.array([np.bincount(self.y_train[row], minlength=self.y_train.max() + 1) for row in nearest])
            return (votes.shape[1] - 1 - np.argmax(votes[:, ::-1], axis=1)).astype(self.y_train.dtype)

    class AscendingSVM(classifiers.LinearSVM):
        def loss(self, X_batch, y_batch, reg):
            loss, grad = super().loss(X_batch, y_batch, reg)
            return loss, -grad  # the update W -= lr * grad then climbs the loss: a sign error

    class AscendingSoftmax(classifiers.Softmax):
        def loss(self, X_batch, y_batch, reg):
            loss, grad = super().loss(X_batch, y_batch, reg)
            return loss, -grad

    class LastOfTiedScores(classifiers.LinearSVM):
        def predict(self, X):
            scores = np.asarray(X, dtype=float) @ self.W
            return (scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)).astype(np.int64)

    return {
        "compute_distances_no_loops": [("k_nearest_neighbor", {"KNearestNeighbor": SquaredDistances})],
        "predict_labels": [("k_nearest_neighbor", {"KNearestNeighbor": LargestLabelWinsTies})],
        "linear_classifier_train": [("linear_classifier", {"LinearSVM": AscendingSVM, "Softmax": AscendingSoftmax})],
        "linear_classifier_predict": [("linear_classifier", {"LinearSVM": LastOfTiedScores})],
    }


def _verdicts(hidden_checks, name, modules):
    reference = hidden_checks.reference()
    verdicts = []
    for case in hidden_checks.cases(name):
        expected = hidden_checks.run(name, reference, case)
        got = hidden_checks.run(name, modules, case)
        verdicts.append((expected, hidden_checks.compare(name, expected, got)))
    return verdicts


@pytest.mark.parametrize("name", ["svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive",
                                  "softmax_loss_vectorized", "compute_distances_no_loops", "predict_labels",
                                  "linear_classifier_train", "linear_classifier_predict"])
def test_wrong_implementations_fail_without_seeing_reference_values(hidden_checks, name):
    reference = hidden_checks.reference()
    mutants = _loss_mutants(reference) | _class_mutants(reference)
    for module_name, replacements in mutants[name]:
        verdicts = _verdicts(hidden_checks, name, _with(reference, module_name, **replacements))
        failures = [(expected, message) for expected, (passed, message) in verdicts if not passed]
        assert failures, f"{name}: the mutant {sorted(replacements)} passed every hidden case"
        for expected, message in failures:
            for value in expected.values():
                for number in np.ravel(value)[:20]:
                    if float(number) != round(float(number)):  # whole numbers would match the counts
                        assert f"{float(number):.4g}" not in message, (message, number)


def test_the_tie_and_huge_score_cases_are_the_ones_that_catch_their_mistakes(hidden_checks):
    reference = hidden_checks.reference()
    notes = hidden_checks.CASE_NOTES
    verdicts = _verdicts(hidden_checks, "softmax_loss_naive", _with(reference, "softmax", **{
        "softmax_loss_naive": _loss_mutants(reference)["softmax_loss_naive"][0][1]["softmax_loss_naive"]}))
    failed = [note for note, (_, (passed, _)) in zip(notes["loss"], verdicts) if not passed]
    assert "huge scores (around 1e4)" in failed
    verdicts = _verdicts(hidden_checks, "predict_labels", _with(reference, "k_nearest_neighbor",
                                                               **_class_mutants(reference)["predict_labels"][0][1]))
    failed = [note for note, (_, (passed, _)) in zip(notes["predict_labels"], verdicts) if not passed]
    assert "a tie in the vote, k=2" in failed


def test_compare_reports_shape_nan_and_missing_outputs(hidden_checks):
    want = {"loss": np.asarray(1.5), "dW": np.ones((3, 2))}
    assert hidden_checks.compare("svm_loss_naive", want, {"loss": np.asarray(1.5)}) == (False, "svm_loss_naive returned no dW")
    assert hidden_checks.compare("svm_loss_naive", want, {"loss": 1.5, "dW": np.ones((2, 3))}) == (
        False, "dW has shape (2, 3), expected (3, 2)")
    assert hidden_checks.compare("svm_loss_naive", want, {"loss": np.nan, "dW": np.ones((3, 2))}) == (
        False, "loss contains NaN or infinite values")
    passed, message = hidden_checks.compare("svm_loss_naive", want, {"loss": 1.5, "dW": np.full((3, 2), 1.1)})
    assert not passed and message == "dW differs from the expected result at 6 of 6 entries"
    labels = {"labels": np.array([0, 2, 1])}
    assert hidden_checks.compare("predict_labels", labels, {"labels": np.array([0, 1, 1])}) == (
        False, "labels is wrong at 1 of 3 entries")


def test_check_in_the_kernel_passes_the_reference_and_names_the_failing_case(hidden_checks, monkeypatch, capsys):
    monkeypatch.setattr(hidden_checks, "student", hidden_checks.reference)
    for name in hidden_checks.NAMES:
        hidden_checks.check(name)
    assert capsys.readouterr().out.count("hidden cases pass") == len(hidden_checks.NAMES)
    reference = hidden_checks.reference()
    wrong = _with(reference, "k_nearest_neighbor", **_class_mutants(reference)["predict_labels"][0][1])
    monkeypatch.setattr(hidden_checks, "student", lambda: wrong)
    with pytest.raises(AssertionError, match=r"predict_labels: hidden case 1 \(a tie in the vote, k=2\): labels is wrong"):
        hidden_checks.check("predict_labels")


def test_check_lets_the_stubs_clear_message_through(hidden_checks):
    # From the repository root, cs231n is the student release: its functions are stubs.
    for module in [m for m in sys.modules if m == "cs231n" or m.startswith("cs231n.")]:
        assert "solutions" not in (getattr(sys.modules[module], "__file__", "") or "")
    with pytest.raises(NotImplementedError, match="Implement svm_loss_naive"):
        hidden_checks.check("svm_loss_naive")
