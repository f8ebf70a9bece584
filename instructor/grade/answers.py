"""The grader's own verdict on the answers that are computations: cross-validation, best k, the searches.

Each of these answer cells is followed by an autograded test cell (``test_NAME`` for NAME in
:data:`~.course.CHECKED_ANSWERS`) that checks the structure of the results in the kernel and prints them as
one line (:mod:`cs231n.report`). The kernel can fake both, so :mod:`.record` caps each such cell by the
verdict computed here, in the grader's process:

1. the line is read from the test cell's output in the autograded notebook as adversary data: exactly one
   line with the prefix, at most :data:`MAX_LINE` characters, strict JSON (no NaN or infinity), then the
   rules of :mod:`cs231n.report` (types, finite numbers, the structure of the results);
2. best k must be a k of the highest mean accuracy in the *cross-validation line* (not whatever the kernel
   holds when the best-k cell runs);
3. the computation the line reports is repeated with the reference classifiers on the grading data, as the
   notebook does it in quick mode (nbgrader always grades in quick mode): every k and fold of the
   cross-validation, and every setting of a search (quick mode keeps two values of each: four settings).

The repetitions run in a trusted child process of the grader (:class:`Recomputer`, this module's
``serve`` command) with one BLAS thread, as the notebook's kernel runs: a different number of threads adds
in another order and rounds differently. It loads the data once per grading run; each result is kept for
later submissions.

A correct computation that follows the notebook (folds in order, seeds 0 and 1, minibatches drawn with
``rng.integers`` as ``train``'s TODO says) repeats the reference's predictions up to rounding. So an
accuracy may differ from the grader's by 2% of its examples (at least one): room for ties that rounding
decides, and still well inside the 0.05 by which another pair of seeds moved validation accuracies on
rebuilt CIFAR-10 in quick mode.

Some search settings are chaotic: near divergence (Softmax at learning rates from 3e-5 on CIFAR-10, or
almost anything on a few dozen images), a difference in the last bit grows into another model, so another
correct implementation lands elsewhere. The grader therefore trains each setting three times, as the
notebook does and twice rounded otherwise (the loss evaluated in float64; the features summed in reverse
order); a setting whose runs differ by more than 0.5% of the examples (at least one) is left out of the
comparison, and the verdict says how many were. Measured on rebuilt CIFAR-10 over 80 settings of each
search (learning rates 1e-7 to 1e-5 for the SVM and 1e-6 to 1e-4 for Softmax, strengths 0 to 5e4), with
two implementations of each loss in other operation orders and one in float64: 6 settings were left out,
and every other implementation matched every setting kept. On the 20-image batches of the tests, where
one image is 5% of the validation set, one kept setting of 80 (Softmax at 3e-5) was missed by one of them.
The network searches were probed the same way (``python -m bench.network_rounding``: 24 settings, learning
rates 5e-4 to 3e-3 on pixels and 0.1 to 3 on features, with a network whose loss adds and multiplies in
another order): 5 settings were left out (the features network at rates 1 and 3), and the other network
matched every one of the 19 kept; the two settings it missed were among those left out.
kNN needs no such care: on 8-bit pixels every squared distance is an integer below 2**53, exact in
float64, so only true ties remain, and the vote breaks those by rule.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import nbformat
import numpy as np

from cs231n import report
from instructor.course import CHECKED_ANSWERS, REPO_ROOT, tool_env
from instructor.fences import TEST_CELL_PREFIX
from instructor.grade.result import Check

# An honest line is well under 2 KB (ten k of five folds, or four settings).
MAX_LINE = 16384
# The notebooks' quick mode, as their cells define it (solutions/source/*_notebook.py); the tests grade the
# reference submission and run the notebooks against these figures.
KNN_TRAINING = 500
NUM_FOLDS = 5
K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)
SEARCH_VALIDATION = 500
SEARCH_TRAINING = 5000
SEARCH_ITERS = 40  # the linear searches on pixels: at the learning rate, then half as many at a tenth of it
SEARCH_SEEDS = (0, 1)
TRAIN_ACCURACY_ROWS = 10000
QUICK_GRID = 2  # values of each hyperparameter that quick mode keeps
NETWORK_DECAY = 0.95
NETWORK_BATCH = 200


@dataclasses.dataclass(frozen=True)
class Search:
    """How one search of the notebooks trains a setting in quick mode (as its cells say).

    ``rows`` is ``"pixels"`` (the preprocessed images) or ``"features"`` (HOG and hue histogram, standardized);
    ``model`` the reference class. A linear model trains ``iters`` steps with seed 0, then ``iters // 2`` at a
    tenth of the rate with seed 1, on rows with a bias column; a ``TwoLayerNet`` of ``hidden_size`` units built
    with seed 0 trains ``iters`` steps with seed 1 (batches of 200, decay 0.95), on rows without one.
    """

    rows: str
    model: str
    iters: int
    hidden_size: int = 0

    def protocol(self) -> str:
        """How the setting is trained, in the words of a failure message."""
        if self.model == "TwoLayerNet":
            return (f"TwoLayerNet(D, {self.hidden_size}, C, seed={SEARCH_SEEDS[0]}), {self.iters} steps with "
                    f"seed={SEARCH_SEEDS[1]}, batch_size={NETWORK_BATCH}, learning_rate_decay={NETWORK_DECAY}")
        return (f"seed {SEARCH_SEEDS[0]} for {self.iters} steps, then seed {SEARCH_SEEDS[1]} for {self.iters // 2} "
                "at a tenth of the rate")


SEARCHES = {
    "svm_search": Search("pixels", "LinearSVM", SEARCH_ITERS),
    "softmax_search": Search("pixels", "Softmax", SEARCH_ITERS),
    "two_layer_net_search": Search("pixels", "TwoLayerNet", 150, hidden_size=50),
    "features_svm_search": Search("features", "LinearSVM", 100),
    "features_net_search": Search("features", "TwoLayerNet", 200, hidden_size=100),
}
# The loss of each linear model (module, function), which the rounding probes call.
LINEAR_LOSSES = {"LinearSVM": ("linear_svm", "svm_loss_vectorized"), "Softmax": ("softmax", "softmax_loss_vectorized")}
# How each setting is trained: as the notebook does it, then the two rounding probes.
ROUNDINGS = ("as the notebook", "float64 loss", "reversed features")
# A reported accuracy may differ from the grader's by this fraction of its examples; the grader's three runs
# of a setting must agree within AGREE_FRACTION for it to be compared (see the module docstring).
COMPARE_FRACTION = 0.02
AGREE_FRACTION = 0.005
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class LineError(ValueError):
    """A test cell's results line is missing, repeated, too long or not the JSON object it should be."""


def tolerance(examples: int, fraction: float = COMPARE_FRACTION) -> float:
    """How far an accuracy on ``examples`` examples may be from another: ``fraction`` of them, at least one."""
    return max(1, math.ceil(fraction * examples - 1e-9)) / max(examples, 1)


def _near(got, expected, examples, fraction: float = COMPARE_FRACTION) -> bool:
    return all(abs(g - e) <= tolerance(n, fraction) + 1e-9 for g, e, n in zip(got, expected, examples))


def _rounded(values) -> str:
    return "(" + ", ".join(f"{value:.3f}" for value in values) + ")"


# --------------------------------------------------------------------------------- the line, as adversary data

def parse_line(printed: str, name: str) -> dict:
    """The decoded results line of check ``name`` in the text a test cell printed.

    Raises
    ------
    LineError
        No line or several lines start with :data:`cs231n.report.PREFIX`, the line is longer than
        :data:`MAX_LINE`, or it is not a JSON object whose ``check`` is ``name`` (NaN and infinity refused).
    """
    lines = [line for line in printed.splitlines() if line.startswith(report.PREFIX)]
    if not lines:
        raise LineError(f"{name}: its test cell printed no results line (did the test pass in the notebook?)")
    if len(lines) > 1:
        raise LineError(f"{name}: its test cell printed {len(lines)} results lines; the test cell prints exactly one")
    text = lines[0][len(report.PREFIX):]
    if len(text) > MAX_LINE:
        raise LineError(f"{name}: the results line has {len(text)} characters, more than the {MAX_LINE} allowed")

    def refuse_constant(constant):
        raise LineError(f"{name}: the results line holds {constant}, not a number")

    try:
        payload = json.loads(text, parse_constant=refuse_constant)
    except LineError:
        raise
    except (ValueError, RecursionError) as error:
        raise LineError(f"{name}: the results line is not valid JSON ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("check") != name:
        raise LineError(f"{name}: the results line is not a JSON object with \"check\": \"{name}\"")
    return payload


def printed_by(notebook, grade_id: str) -> str:
    """What the code cell ``grade_id`` of an autograded notebook printed on stdout ('' when there is none)."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
                texts.append(text if isinstance(text, str) else "")
    return "".join(texts)


# ------------------------------------------------------------------- the computations (in the child process)

@dataclasses.dataclass
class QuickData:
    """The images of the notebooks in quick mode.

    Attributes
    ----------
    knn_X : ndarray of uint8, shape (n, 3072)
        knn.ipynb's training images, flattened; ``knn_y`` (n,) their labels.
    X_train : ndarray of float32, shape (m, 3073)
        The search notebooks' training rows: mean training image subtracted, a 1 appended; ``y_train`` (m,).
    X_val : ndarray of float32, shape (v, 3073)
        Their validation rows, preprocessed alike; ``y_val`` (v,).
    """

    knn_X: np.ndarray
    knn_y: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    train_images: np.ndarray | None = None
    val_images: np.ndarray | None = None
    _features: tuple | None = None

    def rows(self, search: Search) -> tuple[np.ndarray, np.ndarray]:
        """``(X_train, X_val)`` as the notebook of ``search`` trains on them (bias column for linear models)."""
        if search.rows == "features":
            train, val = self.features()
        else:
            train, val = self.X_train, self.X_val
        if search.model == "TwoLayerNet":
            if search.rows == "pixels":  # two_layer_net.ipynb preprocesses without the column: contiguous rows
                return np.ascontiguousarray(train[:, :-1]), np.ascontiguousarray(val[:, :-1])
            return train[:, :-1], val[:, :-1]  # features.ipynb slices the column off its arrays
        return train, val

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        """features.ipynb's rows: HOG and a 10-bin hue histogram, standardized by the training statistics,
        a 1 appended, float32; ``(train (m, 155), val (v, 155))``. Computed once."""
        if self._features is None:
            from cs231n.features import color_histogram_hsv, extract_features, hog_feature

            feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=10)]
            train = extract_features(self.train_images, feature_fns)  # (m, 154) float64
            val = extract_features(self.val_images, feature_fns)
            mean = np.mean(train, axis=0, keepdims=True)  # (1, 154)
            std = np.std(train, axis=0, keepdims=True)
            std[std == 0] = 1.0

            def normalized(features):
                return np.hstack([(features - mean) / std, np.ones((features.shape[0], 1))]).astype(np.float32)

            self._features = (normalized(train), normalized(val))
        return self._features


def load_quick_data(data_dir: Path) -> QuickData:
    """What the notebooks take from ``data_dir`` in quick mode (their set-up cells; features are made on demand)."""
    from cs231n.data_utils import load_CIFAR10

    X_all, y_all, _, _ = load_CIFAR10(data_dir, dtype=np.uint8)  # (N, 32, 32, 3) uint8
    available = X_all.shape[0]
    knn_count = min(KNN_TRAINING, available)
    num_validation = max(1, min(SEARCH_VALIDATION, available // 5))
    num_training = min(SEARCH_TRAINING, available - num_validation)
    train = X_all[:num_training].reshape(num_training, -1)  # (num_training, 3072) uint8
    val = X_all[num_training:num_training + num_validation].reshape(num_validation, -1)
    mean_image = train.mean(axis=0, dtype=np.float64)  # (3072,)

    def preprocess(images):
        X = np.empty((images.shape[0], images.shape[1] + 1), dtype=np.float32)  # (N, 3073)
        np.subtract(images, mean_image.astype(np.float32), out=X[:, :-1])  # (N, 3072) - (3072,) over the rows
        X[:, -1] = 1.0
        return X

    return QuickData(
        knn_X=X_all[:knn_count].reshape(knn_count, -1).copy(), knn_y=y_all[:knn_count].copy(),
        X_train=preprocess(train), y_train=y_all[:num_training].copy(),
        X_val=preprocess(val), y_val=y_all[num_training:num_training + num_validation].copy(),
        train_images=X_all[:num_training].copy(), val_images=X_all[num_training:num_training + num_validation].copy(),
    )


def folds(count: int) -> tuple[list[int], list[int]]:
    """``(k_choices, fold sizes)`` of knn.ipynb's cross-validation of ``count`` training images."""
    k_choices = [k for k in K_CHOICES if k <= count * (NUM_FOLDS - 1) // NUM_FOLDS]
    return k_choices, [len(fold) for fold in np.array_split(np.arange(count), NUM_FOLDS)]


def cross_validation(reference, data: QuickData) -> dict[int, list[float]]:
    """knn.ipynb's cross-validation with the reference classifier: folds in order, one distance matrix per
    fold, every k."""
    k_choices, _ = folds(data.knn_X.shape[0])
    X_folds, y_folds = np.array_split(data.knn_X, NUM_FOLDS), np.array_split(data.knn_y, NUM_FOLDS)
    results = {k: [] for k in k_choices}
    for fold in range(NUM_FOLDS):
        classifier = reference.k_nearest_neighbor.KNearestNeighbor()
        classifier.train(np.concatenate(X_folds[:fold] + X_folds[fold + 1:]),
                         np.concatenate(y_folds[:fold] + y_folds[fold + 1:]))
        dists = classifier.compute_distances_no_loops(X_folds[fold])  # (fold size, other images)
        for k in k_choices:
            results[k].append(float(np.mean(classifier.predict_labels(dists, k=k) == y_folds[fold])))
    return results


def train_setting(reference, data: QuickData, name: str, learning_rate: float, reg: float,
                  rounding: str) -> tuple[float, float]:
    """``(training, validation)`` accuracy of one setting of search ``name``, trained as the notebook does it.

    ``rounding`` is one of :data:`ROUNDINGS`: the notebook's arithmetic, or the same steps with the loss and
    gradient evaluated in float64, or with the features (and rows of W or W1) in reverse order, so that every
    sum over them is added in another order.
    """
    search = SEARCHES[name]
    X_train, X_val = data.rows(search)
    with warnings.catch_warnings():
        # A diverging setting is a result (its model predicts class 0); the warning is the student's to see.
        warnings.simplefilter("ignore", RuntimeWarning)
        if search.model == "TwoLayerNet":
            model, X_train, X_val = _train_network(reference, search, X_train, X_val, data, learning_rate, reg, rounding)
        else:
            model = _train_linear(reference, search, X_train, data.y_train, learning_rate, reg, rounding)
    rows = TRAIN_ACCURACY_ROWS
    return (float(np.mean(model.predict(X_train[:rows]) == data.y_train[:rows])),
            float(np.mean(model.predict(X_val) == data.y_val)))


def _train_linear(reference, search: Search, X_train, y_train, learning_rate, reg, rounding):
    model = getattr(reference.linear_classifier, search.model)()
    module, function = LINEAR_LOSSES[search.model]
    loss = getattr(getattr(reference, module), function)
    if rounding == "float64 loss":
        def step(X_batch, y_batch, strength):
            value, grad = loss(model.W.astype(np.float64), X_batch.astype(np.float64), y_batch, strength)
            return value, grad.astype(model.W.dtype)
        model.loss = step
    elif rounding == "reversed features":
        def step(X_batch, y_batch, strength):
            value, grad = loss(model.W[::-1], X_batch[:, ::-1], y_batch, strength)  # (D, C) and (N, D) reversed
            return value, grad[::-1]
        model.loss = step
    model.train(X_train, y_train, learning_rate=learning_rate, reg=reg, num_iters=search.iters, seed=SEARCH_SEEDS[0])
    model.train(X_train, y_train, learning_rate=learning_rate / 10, reg=reg, num_iters=search.iters // 2,
                seed=SEARCH_SEEDS[1])
    return model


def _train_network(reference, search: Search, X_train, X_val, data: QuickData, learning_rate, reg, rounding):
    """The trained network and the rows to measure it on (the probes train on transformed copies)."""
    from cs231n.data_utils import CLASSES

    net = reference.neural_net.TwoLayerNet(X_train.shape[1], search.hidden_size, len(CLASSES), seed=SEARCH_SEEDS[0])
    if rounding == "float64 loss":  # float64 rows train a float64 network
        X_train, X_val = X_train.astype(np.float64), X_val.astype(np.float64)
    elif rounding == "reversed features":
        X_train, X_val = X_train[:, ::-1], X_val[:, ::-1]
        net.params["W1"] = net.params["W1"][::-1].copy()  # (D, H), rows in the features' new order
    net.train(X_train, data.y_train, X_val, data.y_val, learning_rate=learning_rate, learning_rate_decay=NETWORK_DECAY,
              reg=reg, num_iters=search.iters, batch_size=NETWORK_BATCH, seed=SEARCH_SEEDS[1])
    return net, X_train, X_val


def serve(course_dir: Path, data_dir: Path, requests=sys.stdin, replies=sys.stdout) -> None:
    """Answer the grader's requests, one JSON object per line, until the end of input (the child process).

    ``{"op": "folds"}`` gets ``k_choices``, ``fold_sizes`` and ``results`` of the cross-validation;
    ``{"op": "examples"}`` the sizes the search accuracies count; ``{"op": "setting", "name", "learning_rate",
    "reg"}`` the ``runs`` of that setting, one ``[training, validation]`` per rounding of :data:`ROUNDINGS`.
    """
    from instructor.grade.verdict import load_hidden_checks

    reference = load_hidden_checks(course_dir, REPO_ROOT).reference()
    data = load_quick_data(data_dir)
    for line in requests:
        request = json.loads(line)
        if request["op"] == "folds":
            k_choices, sizes = folds(data.knn_X.shape[0])
            reply = {"k_choices": k_choices, "fold_sizes": sizes,
                     "results": [[k, accuracies] for k, accuracies in cross_validation(reference, data).items()]}
        elif request["op"] == "examples":
            reply = {"examples": [min(TRAIN_ACCURACY_ROWS, data.X_train.shape[0]), data.X_val.shape[0]]}
        else:
            reply = {"runs": [train_setting(reference, data, request["name"], request["learning_rate"], request["reg"],
                                            rounding) for rounding in ROUNDINGS]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


class Recomputer:
    """The child process that repeats the computations with one BLAS thread; started when first asked.

    Parameters
    ----------
    course_dir : Path
        The course whose hidden checks locate the reference classifiers.
    data_dir : Path
        The grading data.
    log_path : Path
        Where the child's stderr goes.
    cache_dir : Path, optional
        Where replies are kept for later runs. The computations depend only on the grading data, the
        reference and this module, so a file named after their digest answers the same requests again
        without the child (an interrupted run resumes, a second run of the course starts warm).
    """

    def __init__(self, course_dir: Path, data_dir: Path, log_path: Path, cache_dir: Path | None = None):
        self.course_dir, self.data_dir, self.log_path = course_dir, data_dir, log_path
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._cache_path = cache_dir / f"answer-checks-{self._basis()}.json" if cache_dir is not None else None
        self._cache: dict[str, dict] = {}
        if self._cache_path is not None and self._cache_path.is_file():
            try:
                self._cache = json.loads(self._cache_path.read_text(encoding="utf-8"))
            except ValueError:  # a damaged cache is recomputed
                self._cache = {}

    def _basis(self) -> str:
        """Digest of everything a reply depends on: the grading data's files, the reference, this module."""
        from instructor.course import reference_dir, source_dir

        digest = hashlib.sha256()
        paths = sorted(p for p in self.data_dir.iterdir() if p.is_file())
        paths += sorted(reference_dir().glob("*.py")) + [source_dir(self.course_dir) / "hidden_checks.py", Path(__file__)]
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:20]

    def ask(self, request: dict) -> dict:
        """The reply to ``request``, from the cache or the child (thread-safe); RuntimeError if the child died."""
        key = json.dumps(request, sort_keys=True)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            reply = self._ask_child(request)
            self._cache[key] = reply
            if self._cache_path is not None:
                self._cache_path.parent.mkdir(parents=True, exist_ok=True)
                partial = self._cache_path.with_name(self._cache_path.name + ".partial")
                partial.write_text(json.dumps(self._cache), encoding="utf-8")
                os.replace(partial, self._cache_path)
            return reply

    def _ask_child(self, request: dict) -> dict:
        """The child's reply to ``request`` (called under the lock)."""
        if self._process is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "instructor.grade.answers", "serve", "--course", str(self.course_dir),
                 "--data", str(self.data_dir)],
                cwd=REPO_ROOT, env=tool_env(ONE_THREAD), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=open(self.log_path, "ab"), text=True,
            )
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        reply = self._process.stdout.readline()
        if not reply:
            raise RuntimeError(f"the grader's recomputation process ended (exit {self._process.poll()}); see {self.log_path}")
        return json.loads(reply)

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.stdin.close()
                self._process.wait(timeout=60)
                self._process.stdout.close()
                self._process = None


# ------------------------------------------------------------------------------------------------ verdicts

class AnswerChecker:
    """Verdicts on the checked answers of each submission's autograded notebooks; one per grading run.

    Parameters
    ----------
    recomputer : Recomputer
        The process that repeats the computations.
    """

    def __init__(self, recomputer: Recomputer):
        self.recomputer = recomputer
        self._lock = threading.Lock()
        self._folds: dict | None = None
        self._examples: tuple[int, int] | None = None
        self._settings: dict[tuple[str, float, float], list[tuple[float, float]]] = {}

    def close(self) -> None:
        self.recomputer.close()

    def check(self, notebook_name: str, path: Path) -> dict[str, Check]:
        """The verdict on each checked answer of the autograded notebook ``notebook_name`` at ``path``."""
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # unreadable: every cell scores 0 anyway, and each answer has no line
            notebook = nbformat.v4.new_notebook()
        verdicts = {}
        for name in (name for name, where in CHECKED_ANSWERS.items() if where == notebook_name):
            try:
                verdicts[name] = self._judge(name, notebook)
            except ValueError as error:  # LineError, or the rules of cs231n.report
                message = str(error) if str(error).startswith(f"{name}: ") else f"{name}: {error}"
                verdicts[name] = Check(False, message)
        return verdicts

    def _payload(self, name: str, notebook) -> dict:
        return parse_line(printed_by(notebook, TEST_CELL_PREFIX + name), name)

    def _judge(self, name: str, notebook) -> Check:
        if name == "knn_cross_validation":
            return self._judge_cross_validation(self._read_cross_validation(notebook))
        if name == "best_k":
            best_k = report.read_best_k(self._payload(name, notebook))
            try:
                results = self._read_cross_validation(notebook)
            except ValueError as error:
                return Check(False, f"best_k: no cross-validation results to choose from ({error})")
            report.check_best_k(best_k, results)
            return Check(True, f"best_k: k = {best_k} has the highest mean accuracy of the cross-validation")
        return self._judge_search(name, report.read_search(self._payload(name, notebook), name))

    # ------------------------------------------------------------------------------------ cross-validation

    def folds(self) -> dict:
        """``k_choices``, ``fold_sizes`` and the grader's ``results`` of knn.ipynb's cross-validation."""
        with self._lock:
            if self._folds is None:
                reply = self.recomputer.ask({"op": "folds"})
                self._folds = {"k_choices": reply["k_choices"], "fold_sizes": reply["fold_sizes"],
                               "results": {k: accuracies for k, accuracies in reply["results"]}}
            return self._folds

    def _read_cross_validation(self, notebook) -> dict[int, list[float]]:
        known = self.folds()
        return report.read_cross_validation(self._payload("knn_cross_validation", notebook), known["k_choices"],
                                            known["fold_sizes"])

    def _judge_cross_validation(self, results: dict[int, list[float]]) -> Check:
        known = self.folds()
        for k, accuracies in results.items():
            expected = known["results"][k]
            if not _near(accuracies, expected, known["fold_sizes"]):
                return Check(False, f"knn_cross_validation: the fold accuracies for k = {k} are {_rounded(accuracies)}, "
                                    f"but the grader's cross-validation ({NUM_FOLDS} folds in order, as np.array_split "
                                    f"makes them) gives {_rounded(expected)}")
        return Check(True, "knn_cross_validation: every fold accuracy matches the grader's own cross-validation")

    # ------------------------------------------------------------------------------------------- searches

    def examples(self) -> tuple[int, int]:
        """How many examples the training and the validation accuracy of a search count."""
        with self._lock:
            if self._examples is None:
                self._examples = tuple(self.recomputer.ask({"op": "examples"})["examples"])
            return self._examples

    def setting(self, name: str, learning_rate: float, reg: float) -> list[tuple[float, float]]:
        """The ``(training, validation)`` accuracy of one search setting in each rounding of :data:`ROUNDINGS`."""
        key = (name, learning_rate, reg)
        with self._lock:
            if key not in self._settings:
                reply = self.recomputer.ask({"op": "setting", "name": name, "learning_rate": learning_rate, "reg": reg})
                self._settings[key] = [tuple(run) for run in reply["runs"]]
            return self._settings[key]

    def _judge_search(self, name: str, results: dict[tuple[float, float], tuple[float, float]]) -> Check:
        rates, strengths = {lr for lr, _ in results}, {reg for _, reg in results}
        if len(rates) > QUICK_GRID or len(strengths) > QUICK_GRID:
            return Check(False, f"{name}: the results hold {len(rates)} learning rates and {len(strengths)} strengths; "
                                f"in quick mode the notebook keeps the first {QUICK_GRID} of each")
        examples = self.examples()
        chaotic = 0
        for lr, reg in itertools.product(sorted(rates), sorted(strengths)):
            expected, *probes = self.setting(name, lr, reg)
            if not all(_near(probe, expected, examples, AGREE_FRACTION) for probe in probes):
                chaotic += 1
            elif not _near(results[(lr, reg)], expected, examples):
                return Check(False, f"{name}: results[({lr:g}, {reg:g})] = {_rounded(results[(lr, reg)])}, but training that "
                                    f"setting as the notebook says ({SEARCHES[name].protocol()}) gives "
                                    f"(training, validation) accuracy {_rounded(expected)}")
        left_out = (f" ({chaotic} of {len(results)} left out: their accuracies move with the rounding of the arithmetic)"
                    if chaotic else "")
        return Check(True, f"{name}: every setting matches the grader's own training of it{left_out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The grader's recomputation process (started by the autograder).")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--course", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.course, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
