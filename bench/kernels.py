"""The reference's numerical kernels against their floors: losses, kNN distances and SGD training.

Floors are the unavoidable work, timed side by side with each kernel (see :func:`timing.compare`):

- a loss and its gradient need the scores ``X @ W`` and the gradient ``X.T @ G``: two matrix products;
- the no-loop kNN distances need one matrix product ``X_test @ X_train.T``;
- ``num_iters`` SGD steps need ``num_iters`` times the two products on a (batch_size, D) minibatch (64
  distinct minibatches drawn beforehand, cycled).
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
DISTINCT_BATCHES = 64
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
    """Rows for the floor, one read of X and the four loss functions at the dev and full shapes, both dtypes,
    and the float32 speed-up of the vectorized losses over float64, timed side by side."""
    section = "losses"
    rng = np.random.default_rng(0)
    W64 = 0.001 * rng.standard_normal((settings.dim, settings.classes))  # (D, C)
    arrays = {}
    for dtype in (np.float64, np.float32):
        X_dev, y_dev, X_full, y_full = data.loss_arrays(dtype)
        arrays[dtype] = ((X_dev, y_dev), (X_full, y_full))
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        W = W64.astype(dtype)
        for X, y in arrays[dtype]:
            G = rng.standard_normal((X.shape[0], settings.classes)).astype(dtype)  # (N, C)
            floor = _products(X, W, G)
            ones = np.ones(X.shape[1], dtype=dtype)
            read = compare(lambda: X @ ones, floor, **settings.fast())  # gemv streams X once, on every core
            report.add(Row(section, f"floor X@W + X.T@G, {_shape(X)}", read.floor, "s",
                           Stats.of([1 / r for r in read.ratio.values]), "one read of X"))
            bandwidth = X.nbytes / read.candidate.median / 1e9
            report.add(Row(section, f"one read of X, {_shape(X)}", read.candidate, "s", read.ratio, "floor",
                           note=f"{bandwidth:.1f} GB/s"))
            for loss_name, kind, loss in tqdm(LOSSES, desc=f"losses {_shape(X)}", leave=False):
                naive = kind == "naive"
                result = compare(lambda: loss(W, X, y, 5e-6), floor, warmup=not naive,
                                 **(settings.slow() if naive else settings.fast()))
                note = ""
                if not naive:
                    dW_dtype = loss(W, X, y, 5e-6)[1].dtype
                    if dW_dtype != dtype:
                        note = f"dW comes back {dW_dtype}, not {name}"
                report.add(Row(section, f"{loss_name} {kind}, {_shape(X)}", result.candidate, "s", result.ratio,
                               f"{name} floor", None if naive else LOSS_TARGETS[dtype], note))
    for loss_name, kind, loss in LOSSES:
        if kind != "vectorized":
            continue
        for (X64, y), (X32, _) in zip(arrays[np.float64], arrays[np.float32]):
            W32 = W64.astype(np.float32)
            result = compare(lambda: loss(W64, X64, y, 5e-6), lambda: loss(W32, X32, y, 5e-6), **settings.fast())
            report.add(Row(section, f"{loss_name} vectorized float32 speed-up, {X64.shape[0]}x{X64.shape[1]}",
                           result.floor, "s", result.ratio, "float64 time / float32 time"))


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
        looped = target is None
        # The looped versions cost the same per test row, so they are timed on the first rows and scaled:
        # the full 500 rows would take minutes of the benchmark's budget for no extra information.
        rows = min(settings.knn_loop_rows, X_test.shape[0]) if looped else X_test.shape[0]
        scale = X_test.shape[0] / rows
        result = compare(lambda: function(X_test[:rows]), product, warmup=not looped,
                         **(settings.slow() if looped else settings.fast()))
        note = f"timed on {rows} test rows, x{scale:g}" if scale != 1 else ""
        report.add(Row(section, f"{name}, {shape}", result.candidate.scaled(scale), "s", result.ratio.scaled(scale),
                       "one matrix product", target, note))

    dists = classifier.compute_distances_no_loops(X_test)
    for k in (1, 10):
        result = compare(lambda: classifier.predict_labels(dists, k=k), product, **settings.fast())
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
        # Distinct minibatches, cycled: products on one batch reused 1500 times would run from the cache,
        # while every training step works on rows it has just gathered. 64 batches exceed the caches.
        batches = [X_full[rng.integers(0, X_full.shape[0], settings.batch_size)] for _ in range(DISTINCT_BATCHES)]
        W = (0.001 * rng.standard_normal((settings.dim, settings.classes))).astype(dtype)  # (D, C)
        G = rng.standard_normal((settings.batch_size, settings.classes)).astype(dtype)  # (batch_size, C)

        def floor():
            for step in range(settings.train_iters):
                batch = batches[step % DISTINCT_BATCHES]  # (batch_size, D)
                batch @ W
                batch.T @ G

        for model in tqdm((LinearSVM, Softmax), desc=f"training {np.dtype(dtype).name}", leave=False):
            def train():
                model().train(X_full, y_full, learning_rate=1e-7, reg=2.5e4, num_iters=settings.train_iters,
                              batch_size=settings.batch_size, seed=0)

            result = compare(train, floor, warmup=False, **settings.slow())
            report.add(Row(section, f"{model.__name__}.train {settings.train_iters} iters, batch {settings.batch_size}, "
                           f"{_shape(X_full)}", result.candidate, "s", result.ratio,
                           f"{settings.train_iters} x minibatch products", TRAIN_TARGET))
        del X_full
