"""The results line of the computed answers: what the notebook prints is what the grader reads back, and
malformed results are refused with a message that names the entry and the rule."""

import json

import numpy as np
import pytest

from cs231n.report import (
    PREFIX,
    best_k_report,
    check_best_k,
    check_fold_accuracies,
    check_search_results,
    cross_validation_report,
    read_best_k,
    read_cross_validation,
    read_search,
    search_report,
)

K_CHOICES = [1, 3, 5]
FOLD_SIZES = [4, 4, 2]
GOOD_FOLDS = {1: [0.5, 0.25, 1.0], 3: [0.75, 0.75, 0.5], 5: [0.0, 0.5, 0.5]}
LRS, REGS = [1e-7, 5e-7], [0.0, 2.5e4]
GOOD_SEARCH = {(1e-7, 0.0): (0.31, 0.3), (1e-7, 2.5e4): (0.33, 0.32), (5e-7, 0.0): (0.35, 0.34),
               (5e-7, 2.5e4): (0.36, 0.33)}


def decoded(line: str) -> dict:
    assert line.startswith(PREFIX) and "\n" not in line
    return json.loads(line[len(PREFIX):])


def test_a_cross_validation_line_reads_back_as_the_same_results_with_numpy_types_made_plain():
    numpy_typed = {np.int64(k): np.array(v) for k, v in GOOD_FOLDS.items()}  # what a notebook often holds
    line = cross_validation_report(numpy_typed, K_CHOICES, FOLD_SIZES)
    assert read_cross_validation(decoded(line), K_CHOICES, FOLD_SIZES) == GOOD_FOLDS


def test_a_search_line_reads_back_as_the_same_results_and_its_grid():
    line = search_report("svm_search", GOOD_SEARCH, LRS, REGS)
    assert read_search(decoded(line), "svm_search") == GOOD_SEARCH
    with pytest.raises(ValueError, match=r"a softmax_search line holds the fields check, results; got 'check', 'results'"):
        read_search(decoded(line), "softmax_search")


def test_best_k_is_any_k_of_the_highest_mean_and_reads_back():
    assert read_best_k(decoded(best_k_report(3, GOOD_FOLDS))) == 3
    tied = {1: [0.5, 0.5], 3: [0.75, 0.25], 5: [0.0, 0.0]}
    assert check_best_k(1, tied) == 1 and check_best_k(np.int64(3), tied) == 3


@pytest.mark.parametrize("results, message", [
    ([0.5], r"k_to_accuracies must be a dict \{k: list of fold accuracies\}, got list"),
    ({1: [0.5, 0.25, 1.0], 3: [0.75, 0.75, 0.5]}, r"must have exactly the keys of k_choices \[1, 3, 5\]: missing k = 5$"),
    (GOOD_FOLDS | {7: [0.0, 0.0, 0.0]}, r"not in k_choices: k = 7"),
    ({"1": [0.5, 0.25, 1.0], 3: [0.75, 0.75, 0.5], 5: [0.0, 0.5, 0.5]}, r"each key of k_to_accuracies must be an integer, got str '1'"),
    (GOOD_FOLDS | {3: [0.75, 0.75]}, r"k_to_accuracies\[3\] must hold 3 values, got 2"),
    (GOOD_FOLDS | {3: "0.75"}, r"k_to_accuracies\[3\] must be a list, got str"),
    (GOOD_FOLDS | {5: [0.0, float("nan"), 0.5]}, r"k_to_accuracies\[5\]\[1\] must be a finite number in \[0, 1\], got nan"),
    (GOOD_FOLDS | {5: [0.0, 1.5, 0.5]}, r"k_to_accuracies\[5\]\[1\] must be a finite number in \[0, 1\], got 1.5"),
    (GOOD_FOLDS | {5: [0.0, True, 0.5]}, r"k_to_accuracies\[5\]\[1\] must be a number, got bool True"),
    (GOOD_FOLDS | {1: [0.5, 0.3, 1.0]}, r"k_to_accuracies\[1\]\[1\] = 0.3 is not a number of correct images over the 4 "
                                        r"images of fold 1: is it measured on the held-out fold\?"),
])
def test_malformed_cross_validation_results_are_refused_naming_the_entry(results, message):
    with pytest.raises(ValueError, match=message):
        check_fold_accuracies(results, K_CHOICES, FOLD_SIZES)


@pytest.mark.parametrize("best_k, message", [
    (5, r"best_k = 5 has the mean cross-validation accuracy 0.3333, but k = 3 has 0.6667: best_k must be the k with "
        r"the highest mean"),
    (4, r"best_k = 4 is not a k of the cross-validation \(1, 3, 5\)"),
    (None, r"best_k must be an integer, got NoneType None"),
    (3.0, r"best_k must be an integer, got float 3.0"),
])
def test_a_best_k_that_is_not_an_argmax_of_the_results_is_refused(best_k, message):
    with pytest.raises(ValueError, match=message):
        check_best_k(best_k, GOOD_FOLDS)


@pytest.mark.parametrize("results, rates, strengths, message", [
    (GOOD_SEARCH, [1e-7], REGS, r"learning_rates holds 1 distinct value\(s\); a search compares at least 2"),
    (GOOD_SEARCH, LRS, [], r"regularization_strengths holds 0 distinct value\(s\)"),
    (GOOD_SEARCH, [0.0, 1e-7], REGS, r"each learning rate must be a finite number > 0, got 0.0"),
    (GOOD_SEARCH, LRS, [-1.0, 0.0], r"each regularization strength must be a finite number in \[0, inf\], got -1.0"),
    ({}, LRS, REGS, r"results must hold one entry for every \(learning_rate, reg\) of the grid and nothing else: "
                    r"missing \(1e-07, 0.0\)"),
    ({k: v for k, v in GOOD_SEARCH.items() if k != (5e-7, 0.0)}, LRS, REGS, r"missing \(5e-07, 0.0\)$"),
    (GOOD_SEARCH | {(1e-6, 0.0): (0.1, 0.1)}, LRS, REGS, r"not in the grid \(1e-06, 0.0\)"),
    (GOOD_SEARCH | {(1e-7, 0.0): 0.3}, LRS, REGS, r"results\[\(1e-07, 0.0\)\] must be a list, got float"),
    (GOOD_SEARCH | {(1e-7, 0.0): (0.3, 1.2)}, LRS, REGS, r"results\[\(1e-07, 0.0\)\]\[1\] must be a finite number in \[0, 1\]"),
    (GOOD_SEARCH | {1e-7: (0.3, 0.3)}, LRS, REGS, r"the key 1e-07 of results must be a list, got float"),
    ([(0.3, 0.3)], LRS, REGS, r"results must be a dict .* got list"),
])
def test_malformed_search_results_are_refused_naming_the_entry(results, rates, strengths, message):
    with pytest.raises(ValueError, match=message):
        check_search_results(results, rates, strengths)


@pytest.mark.parametrize("payload, message", [
    ({"check": "knn_cross_validation", "k_to_accuracies": [[1, [0.5, 0.25, 1.0]], [1, [0.5, 0.25, 1.0]]]},
     r"k_to_accuracies lists a k twice"),
    ({"check": "knn_cross_validation", "k_to_accuracies": {"1": [0.5, 0.25, 1.0]}}, r"k_to_accuracies must be a list, got dict"),
    ({"check": "knn_cross_validation", "k_to_accuracies": [[1]]}, r"each entry of k_to_accuracies must hold 2 values, got 1"),
    ({"check": "knn_cross_validation", "k_to_accuracies": [], "extra": 1},
     r"a knn_cross_validation line holds the fields check, k_to_accuracies; got 'check', 'extra', 'k_to_accuracies'"),
    (["knn_cross_validation"], r"a knn_cross_validation line holds the fields check, k_to_accuracies; got list"),
])
def test_a_decoded_cross_validation_line_of_the_wrong_shape_is_refused(payload, message):
    with pytest.raises(ValueError, match=message):
        read_cross_validation(payload, K_CHOICES, FOLD_SIZES)


@pytest.mark.parametrize("rows, message", [
    ([[1e-7, 0.0, 0.3, 0.3], [1e-7, 0.0, 0.3, 0.3]], r"results lists a setting twice"),
    ([[[1e-7], 0.0, 0.3, 0.3]], r"a learning rate must be a number, got list"),
    ([[1e-7, 0.0, 0.3]], r"each entry of results must hold 4 values, got 3"),
])
def test_a_decoded_search_line_of_the_wrong_shape_is_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        read_search({"check": "svm_search", "results": rows}, "svm_search")
