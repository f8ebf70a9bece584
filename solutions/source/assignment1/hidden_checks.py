"""Hidden checks of assignment 1: the student's functions against the reference on unseen, seeded inputs.

Instructor only: nbgrader's ``CourseDirectory.ignore`` keeps this file out of the student release, and the
grader brings its own copy. Each ``hidden_NAME`` cell of the source notebooks runs ``check("NAME")``.

The module is split so that a trusted process can use every part that does not run student code:

- :data:`NAMES` the graded functions;
- :func:`cases` the hidden inputs of one function: plain arrays and Python scalars, seeded, including
  edge cases (reg = 0, a single example, tied scores, scores around 1e4, integer pixels);
- :func:`run` (from ``graded_calls.py`` beside this file, the only part the grader's sandbox gets) calls one
  implementation (the student's modules or :func:`reference`) on one case and returns plain arrays;
- :data:`TIMED` and :func:`timing_case`: the vectorized functions, timed against the reference on large
  inputs so that one that loops earns none of its points;
- :func:`compare` judges one output against the reference's, with messages that never show reference values;
- :func:`check` all of the above inside the notebook kernel, raising ``AssertionError`` on a mismatch.

The reference is ``$CS231N_REFERENCE_DIR`` (a folder with ``k_nearest_neighbor.py``, ``linear_svm.py``, ``neural_net.py``,
``softmax.py``, ``linear_classifier.py`` and their ``input_checks.py``) or else ``solutions/cs231n/classifiers``
found above this file. It is loaded by file path under a private package name, never as ``cs231n``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np

from cs231n.course import STUDENT_MODULES

# The calling convention is shared with the grader's sandbox; it lives beside this file.
_calls_spec = importlib.util.spec_from_file_location(
    "_cs231n_graded_calls", Path(__file__).resolve().with_name("graded_calls.py"))
_graded_calls = importlib.util.module_from_spec(_calls_spec)
_calls_spec.loader.exec_module(_graded_calls)
run = _graded_calls.run

NAMES = _graded_calls.NAMES
MODULES = tuple(Path(path).stem for path in STUDENT_MODULES)
REFERENCE_PACKAGE = "_cs231n_hidden_reference"
# Relative tolerance of floating-point outputs, against the largest magnitude of the expected array: loose
# enough for any summation order in float64, far tighter than any real mistake (a missing 1/N or factor 2).
RELATIVE_TOLERANCE = 1e-7
# Distances: the no-loop expansion |x|^2 + |t|^2 - 2 x.t loses about sqrt(machine epsilon) of the scale
# for near-identical points, so distances get a looser bound than losses and gradients.
DISTANCE_TOLERANCE = 1e-6

_reference_modules = None


class _Modules(dict):
    """Classifier modules by name, also reachable as attributes (``modules.linear_svm``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def reference_dir() -> Path:
    """The folder of the reference classifiers: ``$CS231N_REFERENCE_DIR`` or ``solutions/cs231n/classifiers``."""
    override = os.environ.get("CS231N_REFERENCE_DIR")
    if override:
        folder = Path(override).expanduser()
        if not (folder / "linear_svm.py").is_file():
            raise FileNotFoundError(
                f"CS231N_REFERENCE_DIR={override} holds no linear_svm.py; point it at the folder of the "
                "reference classifiers (solutions/cs231n/classifiers)"
            )
        return folder
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "solutions" / "cs231n" / "classifiers"
        if (candidate / "linear_svm.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"the reference classifiers were not found above {Path(__file__).parent}; set CS231N_REFERENCE_DIR "
        "to the folder holding the reference linear_svm.py, softmax.py, k_nearest_neighbor.py, linear_classifier.py"
    )


def reference() -> _Modules:
    """The reference modules, loaded once by file path as the private package ``_cs231n_hidden_reference``."""
    global _reference_modules
    if _reference_modules is None:
        folder = reference_dir()
        package = types.ModuleType(REFERENCE_PACKAGE)
        package.__path__ = [str(folder)]
        sys.modules[REFERENCE_PACKAGE] = package
        modules = _Modules()
        # input_checks first: the classifiers import it relatively (from .input_checks import ...).
        for name in ("input_checks",) + MODULES:
            path = folder / f"{name}.py"
            if not path.is_file():
                continue
            spec = importlib.util.spec_from_file_location(f"{REFERENCE_PACKAGE}.{name}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            modules[name] = module
        _reference_modules = modules
    return _reference_modules


def student() -> _Modules:
    """The student's ``cs231n.classifiers`` modules, as the notebook kernel imports them."""
    return _Modules({name: importlib.import_module(f"cs231n.classifiers.{name}") for name in MODULES})


# ----------------------------------------------------------------------------------------------- cases

def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([231, NAMES.index(name)])


def _distance_cases(rng):
    train = rng.integers(0, 256, size=(9, 48)).astype(np.uint8)  # (9, 48)
    train[0] = 0
    train[1] = 255  # the extremes: uint8 arithmetic would wrap around
    test = rng.integers(0, 256, size=(5, 48)).astype(np.uint8)  # (5, 48)
    test[2] = train[4]  # an exact duplicate: its distance is 0, never NaN
    test[3] = 255 - train[0]
    big_train = rng.integers(0, 256, size=(6, 3072)).astype(np.uint8)  # CIFAR-sized rows
    big_test = np.vstack([big_train[3], rng.integers(0, 256, size=(2, 3072))]).astype(np.uint8)  # (3, 3072)
    labels = lambda n: np.arange(n, dtype=np.int64) % 4  # noqa: E731 (labels play no part in distances)
    return [
        {"X_train": train, "y_train": labels(9), "X_test": test},
        {"X_train": rng.standard_normal((12, 30)), "y_train": labels(12), "X_test": rng.standard_normal((1, 30))},
        {"X_train": rng.standard_normal((15, 7)) * 3, "y_train": labels(15), "X_test": rng.standard_normal((8, 7))},
        {"X_train": big_train, "y_train": labels(6), "X_test": big_test},
    ]


def _predict_labels_cases(rng):
    # Vote ties: two neighbours with different labels; distance ties: equal distances at different indices.
    tie_votes = np.array([[0.5, 0.1, 0.9, 0.2, 0.7], [0.3, 0.3, 0.3, 0.3, 0.3]])  # (2, 5)
    tie_distances = np.array([[1.0, 2.0, 1.0, 1.0, 3.0, 2.0], [4.0, 1.0, 1.0, 0.0, 1.0, 1.0]])  # (2, 6)
    random_dists = rng.random((7, 20))
    return [
        {"dists": tie_votes, "y_train": np.array([3, 1, 0, 2, 1]), "k": 2},
        {"dists": tie_votes, "y_train": np.array([3, 1, 0, 2, 1]), "k": 4},
        {"dists": tie_distances, "y_train": np.array([2, 0, 1, 1, 0, 2]), "k": 1},
        {"dists": tie_distances, "y_train": np.array([2, 0, 1, 1, 0, 2]), "k": 3},
        {"dists": random_dists, "y_train": rng.integers(0, 5, 20), "k": 5},
        {"dists": random_dists, "y_train": rng.integers(0, 5, 20), "k": 20},
        {"dists": random_dists[:1], "y_train": rng.integers(0, 3, 20), "k": 1},
        {"dists": rng.integers(0, 4, (6, 10)).astype(np.float64), "y_train": rng.integers(0, 4, 10), "k": 5},
    ]


def _loss_cases(rng):
    D, C = 20, 5
    W = 0.3 * rng.standard_normal((D, C))
    X = rng.standard_normal((16, D))
    y = rng.integers(0, C, 16)
    tied = rng.standard_normal((D, C))
    tied[:, 2] = tied[:, 0]  # classes 0 and 2 always score the same
    return [
        {"W": W, "X": X, "y": y, "reg": 0.1},
        {"W": W, "X": X, "y": y, "reg": 0.0},
        {"W": W, "X": X[:1], "y": y[:1], "reg": 0.05},
        {"W": np.zeros((D, C)), "X": X, "y": y, "reg": 0.3},  # every score 0: ties everywhere
        {"W": tied, "X": X[:6], "y": np.array([0, 2, 0, 1, 2, 4]), "reg": 0.0},
        {"W": 10 * rng.standard_normal((D, C)), "X": 100 * rng.standard_normal((8, D)), "y": y[:8], "reg": 1e-3},
        {"W": 1e-3 * rng.standard_normal((D, C)), "X": rng.integers(0, 256, (10, D)).astype(np.uint8),
         "y": y[:10], "reg": 2.5},
        {"W": 0.01 * rng.standard_normal((3073, 10)), "X": rng.standard_normal((7, 3073)),
         "y": np.array([9, 0, 1, 2, 3, 4, 9]), "reg": 0.5},
    ]


def _train_cases(rng):
    # Identical rows with identical labels make every minibatch the same: the gradient steps, the loss
    # history and the final weights do not depend on which rows are sampled, so they can be compared.
    row = rng.standard_normal((1, 6))
    same = np.repeat(row, 5, axis=0)  # (5, 6)
    separable_X = np.vstack([rng.normal(+2, 1, (40, 4)), rng.normal(-2, 1, (40, 4))])  # (80, 4)
    separable_X = np.hstack([separable_X, np.ones((80, 1))])  # bias column
    separable_y = np.repeat([0, 1], 40)
    return [
        {"X": same, "y": np.full(5, 2), "model": 0, "learning_rate": 0.1, "reg": 0.01, "num_iters": 7,
         "batch_size": 3, "seed": 5},
        {"X": same, "y": np.full(5, 1), "model": 1, "learning_rate": 0.5, "reg": 0.0, "num_iters": 4,
         "batch_size": 12, "seed": 11},  # more rows per batch than examples: sampling is with replacement
        {"X": separable_X, "y": separable_y, "model": 0, "learning_rate": 0.05, "reg": 1e-3, "num_iters": 60,
         "batch_size": 16, "seed": 3},
        {"X": separable_X, "y": separable_y, "model": 1, "learning_rate": 0.2, "reg": 1e-3, "num_iters": 60,
         "batch_size": 16, "seed": 4},
    ]


def _predict_cases(rng):
    tied = rng.standard_normal((5, 4))
    tied[:, 3] = tied[:, 1]  # classes 1 and 3 tie on every example: the first (1) must win
    return [
        {"W": rng.standard_normal((5, 4)), "X": rng.standard_normal((9, 5))},
        {"W": rng.standard_normal((5, 4)), "X": rng.standard_normal((1, 5))},
        {"W": tied, "X": rng.standard_normal((6, 5))},
        {"W": 1e3 * rng.standard_normal((5, 3)), "X": 1e2 * rng.standard_normal((4, 5))},
        {"W": rng.standard_normal((3073, 10)).astype(np.float32),
         "X": rng.standard_normal((8, 3073)).astype(np.float32)},
    ]


def _network_params(rng, input_size, hidden_size, num_classes, scale=1.0):
    return {"W1": scale * rng.standard_normal((input_size, hidden_size)) / np.sqrt(input_size),
            "b1": 0.1 * rng.standard_normal(hidden_size),
            "W2": scale * rng.standard_normal((hidden_size, num_classes)) / np.sqrt(hidden_size),
            "b2": 0.1 * rng.standard_normal(num_classes)}


def _network_loss_cases(rng):
    X = rng.standard_normal((12, 8))
    y = rng.integers(0, 4, 12)
    params = _network_params(rng, 8, 6, 4)
    # Scores in the thousands with a wide spread: one row spans thousands while another stays near 0, so a
    # softmax shifted by the maximum of all scores (not each row's) overflows or underflows to 0 / 0.
    wide = _network_params(rng, 8, 6, 4, scale=1.0)
    wide_X = X[:5].copy()
    wide_X[0] *= 3000.0
    cifar_params = _network_params(rng, 3072, 10, 10, scale=0.5)
    return [
        {**params, "X": X, "y": y, "reg": 0.1},
        {**params, "X": X, "y": y, "reg": 0.0},
        {**params, "X": X, "y": y, "reg": 0.7},  # reg well above 0: the gradient of reg * sum(W ** 2) is 2 * reg * W
        {**params, "X": X[:1], "y": y[:1], "reg": 0.05},
        {**params, "X": X},  # no labels: the scores
        {**wide, "X": wide_X, "y": np.array([0, 1, 2, 3, 0]), "reg": 0.01},
        {**cifar_params, "X": rng.integers(0, 256, (4, 3072)).astype(np.float64) - 128.0, "y": np.array([9, 0, 3, 3]),
         "reg": 0.25},
    ]


def _network_train_cases(rng):
    row = rng.standard_normal((1, 5))
    same = np.repeat(row, 6, axis=0)  # (6, 5): every minibatch is the same
    separable_X = np.vstack([rng.normal(+1.5, 1, (50, 4)), rng.normal(-1.5, 1, (50, 4))])  # (100, 4)
    separable_y = np.repeat([0, 1], 50)
    return [
        {**_network_params(rng, 5, 4, 3, scale=0.5), "X": same, "y": np.full(6, 2), "X_val": rng.standard_normal((7, 5)),
         "y_val": rng.integers(0, 3, 7), "learning_rate": 0.1, "learning_rate_decay": 0.9, "reg": 0.01,
         "num_iters": 9, "batch_size": 4, "seed": 3},  # 2 steps per epoch: the decay applies every other step
        {**_network_params(rng, 5, 4, 3, scale=0.5), "X": same, "y": np.full(6, 0), "X_val": same[:2],
         "y_val": np.array([0, 1]), "learning_rate": 0.3, "learning_rate_decay": 0.95, "reg": 0.0,
         "num_iters": 5, "batch_size": 10, "seed": 4},  # more rows per batch than examples
        {**_network_params(rng, 4, 8, 2, scale=0.1), "X": separable_X, "y": separable_y, "X_val": separable_X[::5],
         "y_val": separable_y[::5], "learning_rate": 0.1, "learning_rate_decay": 0.95, "reg": 1e-3,
         "num_iters": 80, "batch_size": 20, "seed": 5},
        {**_network_params(rng, 5, 4, 3), "X": same, "y": np.full(6, 1), "X_val": rng.standard_normal((3, 5)),
         "y_val": np.array([1, 1, 2]), "learning_rate": 0.05, "learning_rate_decay": 1.0, "reg": 0.5,
         "num_iters": 6, "batch_size": 6, "seed": 6},  # reg well above 0: its gradient is 2 * reg * W
    ]


def _network_predict_cases(rng):
    tied = _network_params(rng, 6, 5, 4)
    tied["W2"][:, 3] = tied["W2"][:, 1]
    tied["b2"][3] = tied["b2"][1]  # classes 1 and 3 tie on every example: the first (1) must win
    float32 = {key: value.astype(np.float32) for key, value in _network_params(rng, 3072, 20, 10).items()}
    return [
        {**_network_params(rng, 6, 5, 4), "X": rng.standard_normal((9, 6))},
        {**_network_params(rng, 6, 5, 4), "X": rng.standard_normal((1, 6))},
        {**tied, "X": rng.standard_normal((7, 6))},
        {**float32, "X": rng.standard_normal((5, 3072)).astype(np.float32)},
    ]


_CASE_BUILDERS = {
    "compute_distances_two_loops": _distance_cases,
    "compute_distances_one_loop": _distance_cases,
    "compute_distances_no_loops": _distance_cases,
    "predict_labels": _predict_labels_cases,
    "svm_loss_naive": _loss_cases,
    "svm_loss_vectorized": _loss_cases,
    "softmax_loss_naive": _loss_cases,
    "softmax_loss_vectorized": _loss_cases,
    "linear_classifier_train": _train_cases,
    "linear_classifier_predict": _predict_cases,
    "two_layer_net_loss": _network_loss_cases,
    "two_layer_net_train": _network_train_cases,
    "two_layer_net_predict": _network_predict_cases,
}

# What each case exercises, in order; shown to the student with a failure (never any value).
CASE_NOTES = {
    "distances": ["uint8 pixels with 0, 255 and a duplicate row", "a single test example",
                  "float data", "CIFAR-sized uint8 rows with a duplicate"],
    "predict_labels": ["a tie in the vote, k=2", "all distances equal, k=4", "equal distances, k=1",
                       "equal distances, k=3", "random distances, k=5", "k equal to the number of training examples",
                       "a single test example", "integer distances with many ties"],
    "loss": ["a typical minibatch", "reg = 0", "a single example", "all scores equal (W = 0)",
             "two classes with equal scores", "huge scores (around 1e4)", "integer pixels", "D = 3073, C = 10"],
    "linear_classifier_train": ["identical rows, LinearSVM", "identical rows, Softmax, batch larger than the data",
                                "separable data, LinearSVM", "separable data, Softmax"],
    "linear_classifier_predict": ["random weights", "a single example", "two classes with equal scores",
                                  "huge scores", "float32 data, D = 3073"],
    "two_layer_net_loss": ["a typical minibatch", "reg = 0", "reg = 0.7 (well above 0)", "a single example",
                           "no labels: the scores", "one example's scores in the thousands", "CIFAR-sized rows"],
    "two_layer_net_train": ["identical rows, two steps per epoch", "identical rows, batch larger than the data",
                            "separable data", "identical rows, reg = 0.5"],
    "two_layer_net_predict": ["random weights", "a single example", "two classes with equal scores",
                              "float32 data, D = 3072"],
}


def _notes(name: str) -> list[str]:
    if name.startswith("compute_distances"):
        return CASE_NOTES["distances"]
    if name.endswith(("loss_naive", "loss_vectorized")):
        return CASE_NOTES["loss"]
    return CASE_NOTES[name]


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise KeyError(f"unknown graded function {name!r}; expected one of {', '.join(NAMES)}")


def cases(name: str) -> list[dict]:
    """The hidden inputs of ``name``: a list of dicts of ndarrays, floats and ints (seeded, fixed).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    """
    _check_name(name)
    return _CASE_BUILDERS[name](_rng(name))


# ---------------------------------------------------------------------------------------------- timing

# A vectorized function is also timed against the reference (ratio of wall times measured side by side, by
# the grader, from outside the student's process). The inputs have many examples and few features, so a
# Python loop over the examples costs far more than the arithmetic: such a loop is at least 20x slower than
# the reference (`make bench` prints the measured ratios), and SLOWDOWN_LIMIT leaves honest, slightly slower
# vectorized code a wide margin.
TIMED = ("compute_distances_no_loops", "svm_loss_vectorized", "softmax_loss_vectorized")
SLOWDOWN_LIMIT = 5.0
TIMING_REPEATS = 3  # different inputs each time, so a cache of earlier answers does not help
TIMING_NOTE = {
    "compute_distances_no_loops": "20,000 test examples against 4 training examples of 4 features",
    "svm_loss_vectorized": "20,000 examples of 4 features and 10 classes",
    "softmax_loss_vectorized": "20,000 examples of 4 features and 10 classes",
}


def timing_case(name: str, repeat: int) -> dict:
    """A large seeded input of the vectorized function ``name`` (one of :data:`TIMED`) for timing run ``repeat``."""
    if name not in TIMED:
        raise KeyError(f"{name!r} is not timed; timed functions: {', '.join(TIMED)}")
    rng = np.random.default_rng([231, 1000 + NAMES.index(name), repeat])
    if name == "compute_distances_no_loops":
        return {"X_train": rng.standard_normal((4, 4)), "y_train": np.arange(4, dtype=np.int64),
                "X_test": rng.standard_normal((20000, 4))}
    num_examples, num_features, num_classes = 20000, 4, 10
    return {"W": 0.1 * rng.standard_normal((num_features, num_classes)),
            "X": rng.standard_normal((num_examples, num_features)),
            "y": rng.integers(0, num_classes, num_examples), "reg": 0.1}


# --------------------------------------------------------------------------------------------- compare

def compare(name: str, expected: dict, got: dict) -> tuple[bool, str]:
    """Judge one case: ``(passed, message)``; the message describes the mismatch without reference values.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    expected, got : dict of str to array_like
        ``run(name, reference(), case)`` and the student's ``run(name, ..., case)``.
    """
    _check_name(name)
    tolerance = DISTANCE_TOLERANCE if name.startswith("compute_distances") else RELATIVE_TOLERANCE
    for key, want in expected.items():
        want = np.asarray(want)
        if key not in got:
            return False, f"{name} returned no {key}"
        have = np.asarray(got[key])
        if have.shape != want.shape:
            return False, f"{key} has shape {have.shape}, expected {want.shape}"
        if want.dtype.kind in "biu":
            if have.dtype.kind not in "biuf" or not np.array_equal(have, want):
                wrong = int(np.sum(have != want)) if have.dtype.kind in "biuf" else have.size
                return False, f"{key} is wrong at {wrong} of {want.size} entries"
            continue
        if have.dtype.kind not in "biuf":
            return False, f"{key} is not numeric (dtype {have.dtype})"
        have = have.astype(np.float64)
        if not np.all(np.isfinite(have)):
            return False, f"{key} contains NaN or infinite values"
        scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
        wrong = np.abs(have - want) > tolerance * scale
        if np.any(wrong):
            where = "" if want.ndim == 0 else f" at {int(wrong.sum())} of {want.size} entries"
            return False, f"{key} differs from the expected result{where}"
    return True, "ok"


def check(name: str) -> None:
    """Compare the student's ``name`` with the reference on every hidden case, inside the notebook kernel.

    Raises
    ------
    AssertionError
        At the first case that differs, naming the case (never its values). Exceptions raised by the
        student's code (for example the stub's ``NotImplementedError``) propagate unchanged.
    """
    _check_name(name)
    expected_modules, student_modules = reference(), student()
    for index, (case, note) in enumerate(zip(cases(name), _notes(name))):
        want = run(name, expected_modules, case)
        have = run(name, student_modules, case)
        passed, message = compare(name, want, have)
        if not passed:
            raise AssertionError(f"{name}: hidden case {index + 1} ({note}): {message}")
    print(f"{name}: all {len(cases(name))} hidden cases pass")
