"""How much the two_layer_net and features notebooks' accuracies depend on their seeds: each protocol, repeated.

Usage::

    python -m bench.network_study [--cifar10-dir DIR] [--seeds 3] [--only net,features] [--json F]

Both notebooks' protocols, with the reference classes, on the notebooks' splits (the first 49,000 training
images, the next 1,000 for validation, the first 1,000 test images):

- ``net``: the two_layer_net notebook. Rows of 3,072 float32 pixels minus the mean training image; a 3 x 3
  search of 150-unit :class:`TwoLayerNet` (1,000 steps each, decay 0.95, batches of 200), then the setting of
  the highest validation accuracy trained again for 5,000 steps; that final network's validation and test
  accuracy are the figures.
- ``features``: the features notebook. 154 HOG and hue-histogram features per image, standardized with the
  training statistics; a 3 x 3 search of :class:`LinearSVM` (1,500 steps, then 750 at a tenth of the rate)
  with a column of ones appended, and a 3 x 3 search of 500-unit networks (2,000 steps) without it; each
  search's best-by-validation model goes to the test set.

Round r of a protocol uses the notebook's seeds plus 10 r, so round 0 is the notebook itself: the net's
search builds each network with seed 10 r and draws its batches with 10 r + 1, its final run uses 10 r + 2
and 10 r + 3; the features searches use 10 r for the SVM's first phase and the networks, 10 r + 1 for the
SVM's second phase and the networks' batches. The summary gives each figure's range over the rounds against
its target, with the standard error of an accuracy measured on that many images for scale (about 0.016 on
1,000 images near 0.5).

The rows and features are computed once and shared by the rounds (feature extraction takes 4 s); a round of
``net`` takes about 70 s on one BLAS thread, one of ``features`` about 25 s. ``--training``, ``--validation``,
``--test`` and ``--iters-scale`` shrink the work (the tests run it on generated data in seconds).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.measure_notebooks import FIGURES
from cs231n.data_utils import default_cifar10_dir, load_CIFAR10
from cs231n.features import color_histogram_hsv, extract_features, hog_feature
from solutions.cs231n.classifiers.linear_classifier import LinearSVM
from solutions.cs231n.classifiers.neural_net import TwoLayerNet

NUM_TRAINING, NUM_VALIDATION, NUM_TEST = 49000, 1000, 1000
NUM_CLASSES = 10
SEED_STRIDE = 10  # round r adds SEED_STRIDE * r to every seed the notebooks use

# two_layer_net notebook, full mode
NET_LEARNING_RATES = (5e-4, 1e-3, 1.5e-3)
NET_REGS = (0.05, 0.25, 0.5)
NET_HIDDEN = 150
NET_SEARCH_ITERS = 1000
NET_FINAL_ITERS = 5000

# features notebook, full mode
NUM_COLOR_BINS = 10
SVM_LEARNING_RATES = (1e-3, 3e-3, 1e-2)
SVM_REGS = (1e-3, 1e-2, 1e-1)
SVM_ITERS = 1500  # then SVM_ITERS // 2 at a tenth of the rate
FEATURE_NET_LEARNING_RATES = (0.1, 0.3, 1.0)
FEATURE_NET_REGS = (1e-4, 1e-3, 1e-2)
FEATURE_NET_HIDDEN = 500
FEATURE_NET_ITERS = 2000

BATCH_SIZE = 200
DECAY = 0.95
PROTOCOLS = ("net", "features")


def _target(notebook: str, label: str) -> float:
    return next(target for name, _, target in FIGURES[notebook] if name == label)


# (title, protocol of the rounds, field of the round, target): the notebooks' targets, defined in measure_notebooks.
FIGURE_TARGETS = (
    ("two-layer net, final validation", "two_layer_net", "val", _target("two_layer_net", "best validation accuracy")),
    ("two-layer net, test", "two_layer_net", "test", _target("two_layer_net", "test accuracy")),
    ("SVM on features, test", "features_svm", "test", _target("features", "SVM test accuracy")),
    ("net on features, test", "features_net", "test", _target("features", "net test accuracy")),
)
PROTOCOL_TITLES = {"two_layer_net": "two-layer net", "features_svm": "SVM on features",
                   "features_net": "net on features"}


@dataclass
class Splits:
    """Training, validation and test examples of one representation (images, pixel rows or features).

    ``X_*`` have N_* examples along their first axis; ``y_*`` are int64 labels in [0, 10), shape (N_*,).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass
class Round:
    """One search (and, for the two-layer net, its final run) with one set of seeds.

    ``search`` lists every setting as ``{"learning_rate", "reg", "val"}`` in the notebook's order; ``best_*`` is
    the first setting of the highest validation accuracy ``search_val``. ``val`` and ``test`` are the accuracies
    of the model that goes to the test set: the final network for ``two_layer_net``, the search's best model
    otherwise (then ``val == search_val``). ``seconds`` is the wall time of the round's training.
    """

    protocol: str
    round: int
    seeds: dict
    search: list
    best_learning_rate: float
    best_reg: float
    search_val: float
    val: float
    test: float
    seconds: float


@dataclass
class Figure:
    """One notebook figure over the rounds: its values, their range, the target and how many rounds reach it.

    ``standard_error`` is ``sqrt(p (1 - p) / num_images)`` at the mean value p: the spread one accuracy
    measured on ``num_images`` images has from the sample alone.
    """

    title: str
    values: list
    minimum: float
    maximum: float
    target: float
    reached: int
    num_images: int
    standard_error: float


@dataclass
class Study:
    """Everything the study measured; JSON-ready through ``dataclasses.asdict``."""

    sizes: dict
    iters_scale: float
    rounds: list = field(default_factory=list)
    feature_seconds: float | None = None
    summary: list = field(default_factory=list)


def split_images(X_train_all: np.ndarray, y_train_all: np.ndarray, X_test_all: np.ndarray, y_test_all: np.ndarray,
                 num_training: int, num_validation: int, num_test: int) -> Splits:
    """The notebooks' splits: the first ``num_training`` images, the next ``num_validation``, the first test ones.

    Images are (N, 32, 32, 3) uint8 and are not copied (the splits are views).
    """
    end = num_training + num_validation
    return Splits(X_train_all[:num_training], y_train_all[:num_training], X_train_all[num_training:end],
                  y_train_all[num_training:end], X_test_all[:num_test], y_test_all[:num_test])


def pixel_rows(images: Splits) -> Splits:
    """The two_layer_net notebook's inputs: (N, 3072) float32 rows minus the mean training image, no bias column."""
    def rows(X):
        return X.reshape(X.shape[0], -1)  # (N, 32, 32, 3) -> (N, 3072)

    mean_image = rows(images.X_train).mean(axis=0, dtype=np.float64).astype(np.float32)  # (3072,)
    # One pass from uint8 to centred float32, as the notebook does: no float64 copy of 49,000 images.
    return _mapped(images, lambda X: np.subtract(rows(X), mean_image, dtype=np.float32))


def feature_rows(images: Splits) -> Splits:
    """The features notebook's SVM inputs: (N, 155) float32, 154 standardized features and a column of ones.

    The networks take ``X[:, :-1]``, without the ones.
    """
    feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=NUM_COLOR_BINS)]
    train, val, test = (extract_features(X, feature_fns) for X in (images.X_train, images.X_val, images.X_test))
    mean = train.mean(axis=0, keepdims=True)  # (1, 154)
    std = train.std(axis=0, keepdims=True)  # (1, 154)
    std[std == 0] = 1.0  # a feature constant over the training images stays 0 instead of dividing by 0

    def normalized(F):
        return np.hstack([(F - mean) / std, np.ones((F.shape[0], 1))]).astype(np.float32)  # (N, 155)

    return Splits(normalized(train), images.y_train, normalized(val), images.y_val, normalized(test), images.y_test)


def _mapped(splits: Splits, transform) -> Splits:
    """``splits`` with ``transform`` applied to each of X_train, X_val and X_test; the labels are kept."""
    return Splits(transform(splits.X_train), splits.y_train, transform(splits.X_val), splits.y_val,
                  transform(splits.X_test), splits.y_test)


def scaled(num_iters: int, iters_scale: float) -> int:
    """``num_iters * iters_scale`` rounded, at least one step."""
    return max(1, round(num_iters * iters_scale))


def accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the rows of X that ``model.predict`` labels as y."""
    return float(np.mean(model.predict(X) == y))


def grid_search(fit, learning_rates, regs, X_val: np.ndarray, y_val: np.ndarray, desc: str):
    """Train ``fit(learning_rate, reg)`` for every setting, learning rate outermost, as the notebooks loop.

    Returns
    -------
    search : list of dict
        ``{"learning_rate", "reg", "val"}`` per setting, in that order.
    best : dict
        The first setting of the highest validation accuracy (the notebooks keep a candidate only when it beats
        the best so far), with its ``"model"``.
    """
    search, best = [], {"val": -1.0}
    for learning_rate, reg in tqdm(list(itertools.product(learning_rates, regs)), desc=desc, leave=False):
        model = fit(learning_rate, reg)
        val = accuracy(model, X_val, y_val)
        search.append({"learning_rate": learning_rate, "reg": reg, "val": val})
        if val > best["val"]:
            best = {"learning_rate": learning_rate, "reg": reg, "val": val, "model": model}
    return search, best


def network_seeds(round_index: int) -> dict:
    """The two_layer_net notebook's seeds (0, 1 for the search, 2, 3 for the final run), shifted by the round."""
    shift = SEED_STRIDE * round_index
    return {"search_net": shift, "search_batch": shift + 1, "final_net": shift + 2, "final_batch": shift + 3}


def feature_seeds(round_index: int) -> dict:
    """The features notebook's seeds (0 and 1 for both searches), shifted by the round."""
    shift = SEED_STRIDE * round_index
    return {"first": shift, "second": shift + 1}


def _train_net(data: Splits, hidden: int, learning_rate: float, reg: float, num_iters: int, net_seed: int,
               batch_seed: int) -> TwoLayerNet:
    net = TwoLayerNet(data.X_train.shape[1], hidden, NUM_CLASSES, seed=net_seed)
    net.train(data.X_train, data.y_train, data.X_val, data.y_val, learning_rate=learning_rate,
              learning_rate_decay=DECAY, reg=reg, num_iters=num_iters, batch_size=BATCH_SIZE, seed=batch_seed)
    return net


def network_round(data: Splits, round_index: int, iters_scale: float = 1.0) -> Round:
    """One round of the two_layer_net protocol on pixel rows (see :func:`pixel_rows`)."""
    seeds = network_seeds(round_index)
    start = time.perf_counter()
    search, best = grid_search(
        lambda lr, reg: _train_net(data, NET_HIDDEN, lr, reg, scaled(NET_SEARCH_ITERS, iters_scale),
                                   seeds["search_net"], seeds["search_batch"]),
        NET_LEARNING_RATES, NET_REGS, data.X_val, data.y_val, desc=f"net round {round_index}: search")
    final = _train_net(data, NET_HIDDEN, best["learning_rate"], best["reg"], scaled(NET_FINAL_ITERS, iters_scale),
                       seeds["final_net"], seeds["final_batch"])
    return Round("two_layer_net", round_index, seeds, search, best["learning_rate"], best["reg"], best["val"],
                 accuracy(final, data.X_val, data.y_val), accuracy(final, data.X_test, data.y_test),
                 time.perf_counter() - start)


def features_rounds(data: Splits, round_index: int, iters_scale: float = 1.0) -> tuple:
    """One round of the features protocol on :func:`feature_rows`: the SVM's round and the network's."""
    seeds = feature_seeds(round_index)
    first_iters = scaled(SVM_ITERS, iters_scale)

    def fit_svm(learning_rate, reg):
        svm = LinearSVM()
        svm.train(data.X_train, data.y_train, learning_rate=learning_rate, reg=reg, num_iters=first_iters,
                  seed=seeds["first"])
        svm.train(data.X_train, data.y_train, learning_rate=learning_rate / 10, reg=reg,
                  num_iters=max(1, first_iters // 2), seed=seeds["second"])
        return svm

    rounds = []
    start = time.perf_counter()
    search, best = grid_search(fit_svm, SVM_LEARNING_RATES, SVM_REGS, data.X_val, data.y_val,
                               desc=f"features round {round_index}: SVM")
    rounds.append(Round("features_svm", round_index, seeds, search, best["learning_rate"], best["reg"], best["val"],
                        best["val"], accuracy(best["model"], data.X_test, data.y_test), time.perf_counter() - start))

    # The networks have their own biases: the column of ones is dropped.
    net_data = _mapped(data, lambda X: X[:, :-1])  # (N, 155) -> (N, 154)
    start = time.perf_counter()
    search, best = grid_search(
        lambda lr, reg: _train_net(net_data, FEATURE_NET_HIDDEN, lr, reg, scaled(FEATURE_NET_ITERS, iters_scale),
                                   seeds["first"], seeds["second"]),
        FEATURE_NET_LEARNING_RATES, FEATURE_NET_REGS, net_data.X_val, net_data.y_val,
        desc=f"features round {round_index}: net")
    rounds.append(Round("features_net", round_index, seeds, search, best["learning_rate"], best["reg"], best["val"],
                        best["val"], accuracy(best["model"], net_data.X_test, net_data.y_test),
                        time.perf_counter() - start))
    return tuple(rounds)


def run_network_protocol(data: Splits, seeds: int, iters_scale: float = 1.0) -> list:
    """Rounds 0 .. seeds-1 of the two_layer_net protocol on :func:`pixel_rows`; a list of :class:`Round`."""
    return [network_round(data, r, iters_scale) for r in tqdm(range(seeds), desc="net rounds", leave=False)]


def run_features_protocol(data: Splits, seeds: int, iters_scale: float = 1.0) -> list:
    """Rounds 0 .. seeds-1 of the features protocol on :func:`feature_rows`: SVM and network rounds, alternating."""
    return [one for r in tqdm(range(seeds), desc="features rounds", leave=False)
            for one in features_rounds(data, r, iters_scale)]


def summarize(rounds: list, num_val: int, num_test: int) -> list:
    """A :class:`Figure` per notebook figure that the rounds measured, against the notebooks' targets.

    Parameters
    ----------
    rounds : list of Round
    num_val, num_test : int
        Images behind each validation and test accuracy, for the standard error.
    """
    figures = []
    for title, protocol, field_name, target in FIGURE_TARGETS:
        values = [getattr(one, field_name) for one in rounds if one.protocol == protocol]
        if not values:
            continue
        num_images = num_val if field_name == "val" else num_test
        typical = float(np.mean(values))
        figures.append(Figure(title, values, min(values), max(values), target, sum(v >= target for v in values),
                              num_images, math.sqrt(typical * (1 - typical) / num_images)))
    return figures


def report(study: Study) -> str:
    """The rounds as a table, then one summary line per figure."""
    lines = [f"{'protocol':<16} {'round':>5} {'seeds':<12} {'best lr':>8} {'best reg':>8} {'search val':>10} "
             f"{'val':>6} {'test':>6} {'seconds':>8}"]
    for one in study.rounds:
        seeds = ",".join(str(s) for s in one.seeds.values())
        lines.append(f"{PROTOCOL_TITLES[one.protocol]:<16} {one.round:>5} {seeds:<12} {one.best_learning_rate:>8.1e} "
                     f"{one.best_reg:>8.1e} {one.search_val:>10.3f} {one.val:>6.3f} {one.test:>6.3f} "
                     f"{one.seconds:>8.1f}")
    lines.append("")
    if study.feature_seconds is not None:
        lines.append(f"features of all images extracted once in {study.feature_seconds:.1f} s")
    for figure in study.summary:
        lines.append(f"{figure.title}: {figure.minimum:.3f}-{figure.maximum:.3f} over {len(figure.values)} rounds, "
                     f"target {figure.target:.2f}, reached in {figure.reached} of {len(figure.values)}; standard "
                     f"error of one accuracy on {figure.num_images} images {figure.standard_error:.3f}")
    return "\n".join(lines)


def run_study(images: Splits, protocols, seeds: int, iters_scale: float = 1.0) -> Study:
    """Prepare each protocol's inputs once and run its rounds; see the module docstring."""
    study = Study(sizes={"training": len(images.y_train), "validation": len(images.y_val),
                         "test": len(images.y_test)}, iters_scale=iters_scale)
    if "net" in protocols:
        study.rounds += run_network_protocol(pixel_rows(images), seeds, iters_scale)
    if "features" in protocols:
        start = time.perf_counter()
        features = feature_rows(images)
        study.feature_seconds = time.perf_counter() - start
        study.rounds += run_features_protocol(features, seeds, iters_scale)
    study.summary = summarize(study.rounds, len(images.y_val), len(images.y_test))
    return study


def _protocols(text: str) -> tuple:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in PROTOCOLS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"--only takes a comma-separated subset of {','.join(PROTOCOLS)}, "
                                         f"got {text!r}")
    return names


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10-dir", type=Path, default=None,
                        help="a cifar-10-batches-py folder (default: $CIFAR10_DIR, else datasets/cifar-10-batches-py)")
    parser.add_argument("--seeds", type=int, default=3, help="rounds of each protocol; round 0 is the notebook's")
    parser.add_argument("--only", type=_protocols, default=PROTOCOLS, help="protocols to run: net, features or both")
    parser.add_argument("--training", type=int, default=NUM_TRAINING, help=f"training images (default {NUM_TRAINING})")
    parser.add_argument("--validation", type=int, default=NUM_VALIDATION,
                        help=f"validation images, taken after the training ones (default {NUM_VALIDATION})")
    parser.add_argument("--test", type=int, default=NUM_TEST, help=f"test images (default {NUM_TEST})")
    parser.add_argument("--iters-scale", type=float, default=1.0,
                        help="multiplies every number of training steps (default 1.0, the notebooks')")
    parser.add_argument("--json", type=Path, help="save the measured figures to this JSON file")
    args = parser.parse_args(argv)
    for name in ("seeds", "training", "validation", "test"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be 1 or more, got {getattr(args, name)}")
    if not (math.isfinite(args.iters_scale) and args.iters_scale > 0):
        parser.error(f"--iters-scale must be a finite number > 0, got {args.iters_scale}")
    folder = args.cifar10_dir or default_cifar10_dir()
    try:
        X_train_all, y_train_all, X_test_all, y_test_all = load_CIFAR10(folder, dtype=np.uint8)
    except FileNotFoundError as missing:
        parser.exit(2, f"{missing}\n")
    if args.training + args.validation > X_train_all.shape[0] or args.test > X_test_all.shape[0]:
        parser.error(f"{folder} holds {X_train_all.shape[0]} training and {X_test_all.shape[0]} test images, fewer "
                     f"than --training {args.training} + --validation {args.validation} and --test {args.test}: "
                     "pass smaller sizes")
    images = split_images(X_train_all, y_train_all, X_test_all, y_test_all, args.training, args.validation, args.test)
    print(f"data: {folder}, {args.training} training, {args.validation} validation and {args.test} test images; "
          f"{args.seeds} rounds of {', '.join(args.only)}; steps x {args.iters_scale:g}")
    study = run_study(images, args.only, args.seeds, args.iters_scale)
    print(report(study))
    if args.json:
        args.json.write_text(json.dumps(asdict(study), indent=1) + "\n")
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
