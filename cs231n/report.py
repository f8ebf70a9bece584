"""The line a notebook prints about a computed answer for the grader, and the rules its content follows.

Some answers are computations rather than functions: the cross-validation of k, the choice of the best k and
the hyperparameter searches. The test cell after each checks the results with the rules below and prints
them as one line, :data:`PREFIX` followed by JSON. When the work is graded, the grader reads that line back,
applies the same rules, and repeats some of the computations itself with the reference classifiers on the
same data: a line that does not match the work it reports earns nothing.

Each rule returns a plain copy of what it checked (Python ints, floats, lists and dicts) and raises
``ValueError`` saying what is wrong and what was expected.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
from collections.abc import Mapping

import numpy as np

PREFIX = "cs231n results: "
# An accuracy is a number of correct examples over the number of examples: a whole count up to the
# rounding of that division.
COUNT_TOLERANCE = 1e-6
# A search compares settings: at least this many values of the learning rate and of the strength.
MIN_GRID_VALUES = 2


def _number(name: str, value, low: float = -math.inf, high: float = math.inf, positive: bool = False) -> float:
    """``value`` as a float: a real number (not a bool), finite, in ``[low, high]`` (and > 0 if ``positive``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {type(value).__name__} {value!r:.40}")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high or (positive and number <= 0):
        bounds = "> 0" if positive else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a finite number {bounds}, got {number!r}")
    return number


def _integer(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r:.40}")
    return int(value)


def _sequence(name: str, value, length: int | None = None) -> list:
    """``value`` (a list, tuple or 1-D array) as a list, of ``length`` items when given."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must hold {length} values, got {len(value)}")
    return list(value)


def _listed(values) -> str:
    values = sorted(values)
    return ", ".join(repr(v) for v in values[:5]) + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def check_fold_accuracies(k_to_accuracies, k_choices, fold_sizes) -> dict[int, list[float]]:
    """The cross-validation results: for every k, one accuracy per fold, each a fraction of its fold.

    Parameters
    ----------
    k_to_accuracies : mapping of int to list of float
        ``k_to_accuracies[k][i]``: the accuracy on fold ``i`` of the classifier trained on the other folds.
    k_choices : sequence of int
        The values of k that were to be tried, each a key of ``k_to_accuracies``.
    fold_sizes : sequence of int
        The number of images of each fold, in fold order.

    Returns
    -------
    dict of int to list of float
        The results, ordered by k.
    """
    if not isinstance(k_to_accuracies, Mapping):
        raise ValueError(f"k_to_accuracies must be a dict {{k: list of fold accuracies}}, got {type(k_to_accuracies).__name__}")
    given = {_integer("each key of k_to_accuracies", k): k for k in k_to_accuracies}
    wanted = [int(k) for k in k_choices]
    missing, extra = set(wanted) - set(given), set(given) - set(wanted)
    if missing or extra:
        raise ValueError(f"k_to_accuracies must have exactly the keys of k_choices {wanted}: "
                         + "; ".join(part for part in (missing and f"missing k = {_listed(missing)}",
                                                       extra and f"not in k_choices: k = {_listed(extra)}") if part))
    checked = {}
    for k in sorted(wanted):
        accuracies = _sequence(f"k_to_accuracies[{k}]", k_to_accuracies[given[k]], len(fold_sizes))
        checked[k] = []
        for fold, (value, size) in enumerate(zip(accuracies, fold_sizes)):
            accuracy = _number(f"k_to_accuracies[{k}][{fold}]", value, 0.0, 1.0)
            if abs(accuracy * size - round(accuracy * size)) > COUNT_TOLERANCE:
                raise ValueError(f"k_to_accuracies[{k}][{fold}] = {accuracy!r} is not a number of correct images over "
                                 f"the {size} images of fold {fold}: is it measured on the held-out fold?")
            checked[k].append(accuracy)
    return checked


def check_best_k(best_k, k_to_accuracies) -> int:
    """``best_k``: a k of the cross-validation whose mean accuracy over the folds is the highest.

    ``k_to_accuracies`` is as checked by :func:`check_fold_accuracies`; equal means are equally good.
    """
    best_k = _integer("best_k", best_k)
    means = {int(k): float(np.mean(accuracies)) for k, accuracies in k_to_accuracies.items()}
    if best_k not in means:
        raise ValueError(f"best_k = {best_k} is not a k of the cross-validation ({_listed(means)})")
    top = max(means, key=lambda k: (means[k], -k))
    if means[best_k] < means[top] - 1e-12:
        raise ValueError(f"best_k = {best_k} has the mean cross-validation accuracy {means[best_k]:.4f}, but k = {top} "
                         f"has {means[top]:.4f}: best_k must be the k with the highest mean")
    return best_k


def check_search_results(results, learning_rates, regularization_strengths) -> dict[tuple[float, float], tuple[float, float]]:
    """The search results: a (training, validation) accuracy for every setting of the grid.

    Parameters
    ----------
    results : mapping of (float, float) to (float, float)
        ``results[(learning_rate, reg)] = (training accuracy, validation accuracy)``.
    learning_rates, regularization_strengths : sequence of float
        The grid (at least :data:`MIN_GRID_VALUES` distinct values each); every pair must be a key of ``results``.

    Returns
    -------
    dict of (float, float) to (float, float)
        The results, ordered by setting.
    """
    rates = {_number("each learning rate", lr, positive=True) for lr in _sequence("learning_rates", learning_rates)}
    strengths = {_number("each regularization strength", reg, low=0.0)
                 for reg in _sequence("regularization_strengths", regularization_strengths)}
    for name, values in (("learning_rates", rates), ("regularization_strengths", strengths)):
        if len(values) < MIN_GRID_VALUES:
            raise ValueError(f"{name} holds {len(values)} distinct value(s); a search compares at least {MIN_GRID_VALUES}")
    if not isinstance(results, Mapping):
        raise ValueError(f"results must be a dict {{(learning_rate, reg): (train_accuracy, val_accuracy)}}, "
                         f"got {type(results).__name__}")
    checked = {}
    for key, value in results.items():
        lr, reg = _sequence(f"the key {key!r:.60} of results", key, 2)
        setting = (_number("a learning rate in results", lr), _number("a strength in results", reg))
        pair = _sequence(f"results[{setting}]", value, 2)
        checked[setting] = tuple(_number(f"results[{setting}][{i}]", accuracy, 0.0, 1.0) for i, accuracy in enumerate(pair))
    grid = set(itertools.product(rates, strengths))
    missing, extra = grid - set(checked), set(checked) - grid
    if missing or extra:
        raise ValueError("results must hold one entry for every (learning_rate, reg) of the grid and nothing else: "
                         + "; ".join(part for part in (missing and f"missing {_listed(missing)}",
                                                       extra and f"not in the grid {_listed(extra)}") if part))
    return dict(sorted(checked.items()))


def _line(check: str, payload: dict) -> str:
    return PREFIX + json.dumps({"check": check, **payload}, sort_keys=True, allow_nan=False)


def cross_validation_report(k_to_accuracies, k_choices, fold_sizes) -> str:
    """The results line of the cross-validation (checked by :func:`check_fold_accuracies`)."""
    checked = check_fold_accuracies(k_to_accuracies, k_choices, fold_sizes)
    return _line("knn_cross_validation", {"k_to_accuracies": [[k, accuracies] for k, accuracies in checked.items()]})


def best_k_report(best_k, k_to_accuracies) -> str:
    """The results line of the choice of k (checked by :func:`check_best_k`)."""
    return _line("best_k", {"best_k": check_best_k(best_k, k_to_accuracies)})


def search_report(check: str, results, learning_rates, regularization_strengths) -> str:
    """The results line of a hyperparameter search named ``check`` (checked by :func:`check_search_results`)."""
    checked = check_search_results(results, learning_rates, regularization_strengths)
    return _line(check, {"results": [[lr, reg, train, val] for (lr, reg), (train, val) in checked.items()]})


def _fields(payload: dict, check: str, *names: str) -> list:
    if not isinstance(payload, dict) or payload.get("check") != check or set(payload) != {"check", *names}:
        got = _listed(str(key)[:40] for key in payload) if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"a {check} line holds the fields check, {', '.join(names)}; got {got}")
    return [payload[name] for name in names]


def read_cross_validation(payload: dict, k_choices, fold_sizes) -> dict[int, list[float]]:
    """The results of a decoded cross-validation line, checked as the notebook checks them."""
    (pairs,) = _fields(payload, "knn_cross_validation", "k_to_accuracies")
    pairs = [_sequence("each entry of k_to_accuracies", pair, 2) for pair in _sequence("k_to_accuracies", pairs)]
    results = {_integer("each k", k): accuracies for k, accuracies in pairs}
    if len(results) != len(pairs):
        raise ValueError("k_to_accuracies lists a k twice")
    return check_fold_accuracies(results, k_choices, fold_sizes)


def read_best_k(payload: dict) -> int:
    """The k of a decoded best-k line."""
    (best_k,) = _fields(payload, "best_k", "best_k")
    return _integer("best_k", best_k)


def read_search(payload: dict, check: str) -> dict[tuple[float, float], tuple[float, float]]:
    """The results of a decoded search line named ``check``, checked as the notebook checks them; the grid is
    the settings the results hold."""
    (rows,) = _fields(payload, check, "results")
    rows = [_sequence("each entry of results", row, 4) for row in _sequence("results", rows)]
    results = {(_number("a learning rate", lr), _number("a strength", reg)): (train, val) for lr, reg, train, val in rows}
    if len(results) != len(rows):
        raise ValueError("results lists a setting twice")
    return check_search_results(results, [lr for lr, _ in results], [reg for _, reg in results])
