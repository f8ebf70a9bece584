"""How far cross-validation's choice of k carries kNN on the 500 test images: the whole search, laid open.

Usage::

    python -m bench.knn_study [--cifar10-dir DIR] [--shuffles 20] [--plot knn_study.png] [--json F]

The knn notebook's protocol, with the reference classifier: the first 5,000 training and the first 500 test
images, L2 distances, a tied vote going to the smaller label, 5-fold cross-validation on the training images
with the folds taken in order (``np.array_split``), and the k of the highest mean fold accuracy evaluated
once on the test images. The study widens the notebook's grid to every k from 1 to 30 (plus 50 and 100) and
prints, for each k, the mean and spread of the fold accuracies beside the test accuracy; then repeats the
cross-validation with the training images shuffled into folds by ``--shuffles`` seeds, to show how much the
chosen k, and the test accuracy it earns, depend on the split. The standard error of an accuracy measured on
500 images (about 0.02 near 0.27) is printed for scale.

Distances are computed once (training x training and test x training) and each fold reads its block, so the
whole study takes seconds.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cs231n.data_utils import default_cifar10_dir, load_CIFAR10
from solutions.cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor

NUM_TRAINING = 5000
NUM_TEST = 500
NUM_FOLDS = 5
K_CHOICES = tuple(range(1, 31)) + (50, 100)
NOTEBOOK_K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)  # the grid the knn notebook searches
TARGET = 0.275  # test accuracy the cross-validated k should reach


@dataclass
class Study:
    """Everything the study measured; accuracies are fractions of correctly classified images.

    ``cv_mean[i]``/``cv_std[i]``/``test[i]`` belong to ``k_choices[i]``. ``shuffled_picks`` holds, per seed,
    the k that the shuffled cross-validation chose over the notebook's grid and its test accuracy.
    """

    k_choices: list
    cv_mean: list
    cv_std: list
    test: list
    notebook_pick: int
    wide_pick: int
    shuffled_picks: list
    test_standard_error: float

    def test_accuracy(self, k: int) -> float:
        return self.test[self.k_choices.index(k)]


def fold_accuracies(dists: np.ndarray, y: np.ndarray, folds: list, k_choices) -> np.ndarray:
    """Accuracy of every k on every fold, shape (len(k_choices), len(folds)).

    Parameters
    ----------
    dists : ndarray of float, shape (N, N)
        Distances between the N training examples.
    y : ndarray of int, shape (N,)
        Their labels.
    folds : list of ndarray of int
        Disjoint index sets covering 0..N-1; each in turn is the validation fold.
    k_choices : sequence of int
    """
    accuracies = np.zeros((len(k_choices), len(folds)))
    for f, held_out in enumerate(folds):
        kept = np.concatenate([fold for g, fold in enumerate(folds) if g != f])
        classifier = KNearestNeighbor()
        # predict_labels only reads the kept labels; the (4000, 1) stand-in saves copying 4000 images.
        classifier.train(np.zeros((kept.size, 1)), y[kept])
        block = dists[np.ix_(held_out, kept)]  # (fold size, N - fold size)
        for i, k in enumerate(k_choices):
            accuracies[i, f] = np.mean(classifier.predict_labels(block, k=k) == y[held_out])
    return accuracies


def run_study(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
              shuffles: int = 20, k_choices=K_CHOICES, notebook_k_choices=NOTEBOOK_K_CHOICES) -> Study:
    """Cross-validate k in order and shuffled, and score every k on the test set.

    Parameters
    ----------
    X_train : ndarray, shape (N, D)
        Training images as rows (uint8 or float).
    y_train : ndarray of int, shape (N,)
    X_test : ndarray, shape (M, D)
    y_test : ndarray of int, shape (M,)
    shuffles : int
        Seeds 0 .. shuffles-1 each shuffle the training images into folds once.
    """
    num_train = X_train.shape[0]
    usable = [k for k in k_choices if k <= num_train * (NUM_FOLDS - 1) // NUM_FOLDS]
    notebook_grid = [k for k in notebook_k_choices if k in usable]
    classifier = KNearestNeighbor()
    classifier.train(X_train, y_train)
    train_dists = classifier.compute_distances_no_loops(X_train)  # (N, N)
    test_dists = classifier.compute_distances_no_loops(X_test)  # (M, N)
    test = [float(np.mean(classifier.predict_labels(test_dists, k=k) == y_test)) for k in usable]

    in_order = fold_accuracies(train_dists, classifier.y_train, np.array_split(np.arange(num_train), NUM_FOLDS), usable)
    means = in_order.mean(axis=1)

    def best(grid, means_by_k):
        # The smallest k among equal means, as the notebook's max over sorted keys does.
        return max(sorted(grid), key=lambda k: means_by_k[k])

    by_k = dict(zip(usable, means))
    picks = []
    for seed in tqdm(range(shuffles), desc="shuffled cross-validations", leave=False):
        order = np.random.default_rng(seed).permutation(num_train)
        shuffled = fold_accuracies(train_dists, classifier.y_train, np.array_split(order, NUM_FOLDS), notebook_grid)
        chosen = best(notebook_grid, dict(zip(notebook_grid, shuffled.mean(axis=1))))
        picks.append({"seed": seed, "k": chosen, "test": test[usable.index(chosen)]})
    typical = float(np.mean(test))
    return Study(
        k_choices=usable, cv_mean=[float(v) for v in means], cv_std=[float(v) for v in in_order.std(axis=1)],
        test=test, notebook_pick=best(notebook_grid, by_k), wide_pick=best(usable, by_k), shuffled_picks=picks,
        test_standard_error=float(np.sqrt(typical * (1 - typical) / X_test.shape[0])),
    )


def report(study: Study) -> str:
    """The study as text: the per-k table, the picks and what they earn on the test set."""
    lines = [f"{'k':>4} {'cv mean':>8} {'cv std':>7} {'test':>6}"]
    for k, mean, std, test in zip(study.k_choices, study.cv_mean, study.cv_std, study.test):
        marks = []
        if k == study.notebook_pick:
            marks.append("notebook's pick")
        if k == study.wide_pick and k != study.notebook_pick:
            marks.append("pick over every k")
        lines.append(f"{k:>4} {mean:>8.4f} {std:>7.4f} {test:>6.3f}  {', '.join(marks)}".rstrip())
    notebook_test = study.test_accuracy(study.notebook_pick)
    lines += [
        "",
        f"in-order folds, the notebook's grid {list(NOTEBOOK_K_CHOICES)}: k={study.notebook_pick}, "
        f"test accuracy {notebook_test:.3f} (target {TARGET})",
        f"in-order folds, every k above: k={study.wide_pick}, test accuracy {study.test_accuracy(study.wide_pick):.3f}",
        f"best test accuracy of any k (chosen by looking at the test set, so not a result): "
        f"{max(study.test):.3f} at k={study.k_choices[int(np.argmax(study.test))]}",
        f"standard error of one accuracy on {NUM_TEST} test images: {study.test_standard_error:.3f}",
    ]
    if study.shuffled_picks:
        tests = np.array([pick["test"] for pick in study.shuffled_picks])
        counts = {}
        for pick in study.shuffled_picks:
            counts[pick["k"]] = counts.get(pick["k"], 0) + 1
        chosen = ", ".join(f"k={k} x{n}" for k, n in sorted(counts.items()))
        lines += [
            f"{len(tests)} shuffled 5-fold splits over the notebook's grid chose {chosen}",
            f"  their test accuracy: mean {tests.mean():.3f}, min {tests.min():.3f}, max {tests.max():.3f}; "
            f"{int(np.sum(tests >= TARGET))} of {len(tests)} reach {TARGET}",
        ]
    return "\n".join(lines)


def plot(study: Study, path: Path) -> None:
    """Cross-validation mean +- std and the test accuracy against k, with the target, saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = np.array(study.k_choices)
    shown = ks <= 30
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.errorbar(ks[shown], np.array(study.cv_mean)[shown], yerr=np.array(study.cv_std)[shown], fmt="o-",
                capsize=3, label="5-fold cross-validation (in order), mean +- std")
    ax.plot(ks[shown], np.array(study.test)[shown], "s--", label=f"test accuracy ({NUM_TEST} images)")
    ax.axhline(TARGET, color="grey", linestyle=":", label=f"target {TARGET}")
    ax.axvline(study.notebook_pick, color="tab:red", alpha=0.4, label=f"cross-validation's pick k={study.notebook_pick}")
    ax.set_xlabel("k")
    ax.set_ylabel("accuracy")
    ax.set_title("kNN on the first 5,000 / 500 CIFAR-10 images")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10-dir", type=Path, default=None,
                        help="a cifar-10-batches-py folder (default: $CIFAR10_DIR, else datasets/cifar-10-batches-py)")
    parser.add_argument("--shuffles", type=int, default=20, help="seeded shuffled cross-validations (default 20)")
    parser.add_argument("--plot", type=Path, help="save a plot of accuracy against k to this PNG file")
    parser.add_argument("--json", type=Path, help="save the measured figures to this JSON file")
    args = parser.parse_args(argv)
    if args.shuffles < 0:
        parser.error("--shuffles must be 0 or more")
    folder = args.cifar10_dir or default_cifar10_dir()
    try:
        X_train, y_train, X_test, y_test = load_CIFAR10(folder, dtype=np.uint8)
    except FileNotFoundError as missing:
        parser.exit(2, f"{missing}\n")
    num_training = min(NUM_TRAINING, X_train.shape[0])
    num_test = min(NUM_TEST, X_test.shape[0])
    study = run_study(X_train[:num_training].reshape(num_training, -1), y_train[:num_training],
                      X_test[:num_test].reshape(num_test, -1), y_test[:num_test], shuffles=args.shuffles)
    print(f"data: {folder}, first {num_training} training and {num_test} test images")
    print(report(study))
    if args.plot:
        plot(study, args.plot)
        print(f"plot: {args.plot}")
    if args.json:
        args.json.write_text(json.dumps(asdict(study), indent=1) + "\n")
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
