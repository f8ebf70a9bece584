"""The reference's numerical kernels against their floors: losses, kNN distances and SGD training.

Floors are the unavoidable work, timed side by side with each kernel (see :func:`timing.compare`):

- a loss and its gradient need the scores ``X @ W`` and the gradient ``X.T @ G``: two matrix products;
- the no-loop kNN distances need one matrix product ``X_test @ X_train.T``;
- ``num_iters`` SGD steps need ``num_iters`` times the two products on a (batch_size, D) minibatch.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from tqdm import tqdm

from solutions.cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor
from solutions.cs231n.classifiers.linear_classifier import LinearSVM, Softmax
from solutions.cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

from .report import Report, Row, Target
from .timing import Stats, compare

LOSS_TARGETS = {np.float64: Target(1.1, text="float64 floor"), np.float32: Target(1.2, text="float32 floor")}
KNN_NO_LOOP_TARGET = Target(1.2, text="one matrix product")
KNN_MEMORY_TARGET = Target(1.5, text="an (N_test, N_train, D) temporary would be about D/2 = 1500x")
TRAIN_TARGET = Target(1.2, text="minibatch products")
LOSSES = (
    ("svm", "naive", svm_loss_naive), ("svm", "vectorized", svm_loss_vectorized),
    ("softmax", "naive", softmax_loss_naive), ("softmax", "vectorized", softmax_loss_vectorized),
)


def _products(X, W, G):
    """The two matrix products a loss and its gradient cannot avoid."""
    def run():
        X @ W  # (N, C) scores
        X.T @ G  # (D, C) gradient
    return run


def _shape(X) -> str:
    return f"{X.shape[0]}x{X.shape[1]} {X.dtype}"


def run_losses(report: Report, data, settings) -> None:
    """Rows for the floor, one read of X and the four loss functions at the dev and full shapes, both dtypes."""
    section = "losses"
    rng = np.random.default_rng(0)
    speed = {}
    for dtype in (np.float64, np.float32):
        X_dev, y_dev, X_full, y_full = data.loss_arrays(dtype)
        W = (0.001 * rng.standard_normal((settings.dim, settings.classes))).astype(dtype)  # (D, C)
        for X, y in ((X_dev, y_dev), (X_full, y_full)):
            G = rng.standard_normal((X.shape[0], settings.classes)).astype(dtype)  # (N, C)
            floor = _products(X, W, G)
            ones = np.ones(X.shape[1], dtype=dtype)
            read = compare(lambda: X @ ones, floor, settings.runs)  # gemv streams X once, on every core
            report.add(Row(section, f"floor X@W + X.T@G, {_shape(X)}", read.floor, "s", Stats.of(
                [1 / r for r in read.ratio.values]), "one read of X"))
            bandwidth = X.nbytes / read.candidate.median / 1e9
            report.add(Row(section, f"one read of X, {_shape(X)}", read.candidate, "s", read.ratio, "floor",
                           note=f"{bandwidth:.1f} GB/s"))
            for name, kind, loss in tqdm(LOSSES, desc=f"losses {_shape(X)}", leave=False):
                result = compare(lambda: loss(W, X, y, 5e-6), floor, settings.runs, warmup=kind != "naive",
                                 budget_seconds=settings.budget_seconds)
                note = ""
                if kind == "vectorized":
                    dW_dtype = loss(W, X, y, 5e-6)[1].dtype
                    if dW_dtype != dtype:
                        note = f"dW comes back {dW_dtype}, not {np.dtype(dtype)}"
                    speed[(name, X.shape[0], np.dtype(dtype).name)] = result.candidate
                report.add(Row(section, f"{name} {kind}, {_shape(X)}", result.candidate, "s", result.ratio,
                               f"{np.dtype(dtype).name} floor", LOSS_TARGETS[dtype] if kind == "vectorized" else None,
                               note))
        del X_dev, X_full
    for name in ("svm", "softmax"):
        for rows in (settings.dev_rows, settings.full_rows):
            t64, t32 = speed[(name, rows, "float64")], speed[(name, rows, "float32")]
            # Not timed in pairs: the two dtypes ran minutes apart, so this ratio carries the machine's drift.
            report.add(Row(section, f"{name} vectorized float32 speed-up, {rows}x{settings.dim}", t32, "s",
                           Stats.of([t64.median / t32.median]), "float64 time / float32 time",
                           note="medians of separate runs"))


def run_knn(report: Report, data, settings) -> None:
    """Rows for the three distance functions and predict_labels against one matrix product, and the
    no-loop version's peak of allocated memory."""
    section = "knn"
    X_train, y_train, X_test = data.knn_arrays()
    classifier = KNearestNeighbor()
    classifier.train(X_train, y_train)
    shape = f"{X_test.shape[0]} test x {X_train.shape[0]} train x {X_train.shape[1]}"

    def product():
        X_test @ X_train.T  # (num_test, num_train)

    functions = (
        ("compute_distances_two_loops", classifier.compute_distances_two_loops, None),
        ("compute_distances_one_loop", classifier.compute_distances_one_loop, None),
        ("compute_distances_no_loops", classifier.compute_distances_no_loops, KNN_NO_LOOP_TARGET),
    )
    for name, function, target in tqdm(functions, desc="knn", leave=False):
        looped = "loop" in name and "no_loops" not in name
        result = compare(lambda: function(X_test), product, settings.runs, warmup=not looped,
                         budget_seconds=settings.budget_seconds)
        report.add(Row(section, f"{name}, {shape}", result.candidate, "s", result.ratio, "one matrix product", target))

    dists = classifier.compute_distances_no_loops(X_test)
    for k in (1, 10):
        result = compare(lambda: classifier.predict_labels(dists, k=k), product, settings.runs)
        report.add(Row(section, f"predict_labels k={k}, {X_test.shape[0]}x{X_train.shape[0]}", result.candidate, "s",
                       result.ratio, "one matrix product"))

    peaks = []
    for _ in range(3):
        tracemalloc.start()
        classifier.compute_distances_no_loops(X_test)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # The result must be allocated and X_test may be converted once; anything beyond that is a temporary.
    allowance = dists.nbytes + X_test.nbytes
    report.add(Row(section, "compute_distances_no_loops peak allocation", Stats.of(peaks), "B",
                   Stats.of([p / allowance for p in peaks]), "result + one copy of X_test", KNN_MEMORY_TARGET,
                   "numpy allocations seen by tracemalloc"))


def run_training(report: Report, data, settings) -> None:
    """Rows for LinearSVM.train and Softmax.train against the same number of minibatch product pairs."""
    section = "training"
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        _, _, X_full, y_full = data.loss_arrays(dtype)
        batch = X_full[rng.integers(0, X_full.shape[0], settings.batch_size)]  # (batch_size, D)
        W = (0.001 * rng.standard_normal((settings.dim, settings.classes))).astype(dtype)  # (D, C)
        G = rng.standard_normal((settings.batch_size, settings.classes)).astype(dtype)  # (batch_size, C)
        step = _products(batch, W, G)

        def floor():
            for _ in range(settings.train_iters):
                step()

        for model in tqdm((LinearSVM, Softmax), desc=f"training {np.dtype(dtype).name}", leave=False):
            def train():
                model().train(X_full, y_full, learning_rate=1e-7, reg=2.5e4, num_iters=settings.train_iters,
                              batch_size=settings.batch_size, seed=0)

            result = compare(train, floor, settings.runs, budget_seconds=settings.budget_seconds)
            report.add(Row(section, f"{model.__name__}.train {settings.train_iters} iters, batch {settings.batch_size}, "
                           f"{_shape(X_full)}", result.candidate, "s", result.ratio,
                           f"{settings.train_iters} x minibatch products", TRAIN_TARGET))
        del X_full
