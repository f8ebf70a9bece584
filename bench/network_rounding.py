"""Does the grader's check of the network searches accept another correct network? A probe on real images.

Usage::

    python -m bench.network_rounding [--cifar10-dir DIR]

The grader repeats every setting a student's search reports (``instructor.grade.answers``) with the
reference ``TwoLayerNet``, three ways (as the notebook, in float64, with the features reversed), leaves out a
setting whose three runs disagree, and compares the others within 2% of the examples. An honest student's
network adds and multiplies in another order than the reference. This probe trains every setting of a wide
grid of both network searches (two_layer_net on pixels, features on HOG and hue) with a network whose loss is
written differently (einsum products, ``np.where`` for the ReLU, a log-sum-exp softmax, the gradients in
another order) by the grader's own quick protocol, and prints, for each, whether the grader would leave it
out and whether the other network's accuracies are within the grader's tolerance of the reference's.

A row marked MISMATCH that is not left out would cost an honest student points.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cs231n.data_utils import default_cifar10_dir
from instructor.course import COURSE_DIR, REPO_ROOT
from instructor.grade import answers
from instructor.grade.verdict import load_hidden_checks

# Wider than the notebooks' grids: up to learning rates where training turns chaotic.
GRIDS = {
    "two_layer_net_search": ([5e-4, 1e-3, 1.5e-3, 3e-3], [0.05, 0.25, 0.5]),
    "features_net_search": ([0.1, 0.3, 1.0, 3.0], [1e-4, 1e-3, 1e-2]),
}


def other_loss(self, X, y=None, reg=0.0, check_input=True):
    """A correct two-layer network loss whose arithmetic runs in another order than the reference's.

    ``X`` (N, D) in the parameters' dtype; returns the scores (N, C), or ``(loss, grads)`` with ``grads``
    keyed like ``self.params``.
    """
    W1, b1, W2, b2 = (self.params[name] for name in ("W1", "b1", "W2", "b2"))
    pre = np.einsum("nd,dh->nh", X, W1) + b1  # (N, H)
    hidden = np.where(pre > 0, pre, 0)
    scores = np.einsum("nh,hc->nc", hidden, W2) + b2  # (N, C)
    if y is None:
        return scores
    num = X.shape[0]
    top = scores.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]  # (N,)
    loss = np.mean(log_sum - scores[np.arange(num), y]) + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = np.exp(scores - log_sum[:, None])  # the probabilities, (N, C)
    dscores[np.arange(num), y] -= 1
    dscores /= num
    grads = {"W2": hidden.T.dot(dscores) + reg * 2 * W2, "b2": dscores.sum(axis=0)}
    dpre = dscores.dot(W2.T) * (pre > 0)  # (N, H)
    grads["W1"] = X.T.dot(dpre) + 2 * reg * W1
    grads["b1"] = dpre.sum(axis=0)
    return float(loss), {name: value.astype(X.dtype) for name, value in grads.items()}


def probe(data_dir: Path) -> list[dict]:
    """One row per setting of :data:`GRIDS`: the grader's runs, the other network's, and the verdict."""
    reference = load_hidden_checks(COURSE_DIR, REPO_ROOT).reference()
    data = answers.load_quick_data(data_dir)
    network = reference.neural_net.TwoLayerNet
    reference_loss = network.loss
    examples = (min(answers.TRAIN_ACCURACY_ROWS, data.X_train.shape[0]), data.X_val.shape[0])
    rows = []
    settings = [(name, lr, reg) for name, (rates, strengths) in GRIDS.items()
                for lr, reg in itertools.product(rates, strengths)]
    try:
        for name, lr, reg in tqdm(settings, desc="settings"):
            network.loss = reference_loss
            runs = [answers.train_setting(reference, data, name, lr, reg, rounding) for rounding in answers.ROUNDINGS]
            network.loss = other_loss
            other = answers.train_setting(reference, data, name, lr, reg, answers.ROUNDINGS[0])
            left_out = not all(answers._near(run, runs[0], examples, answers.AGREE_FRACTION) for run in runs[1:])
            rows.append({"search": name, "learning_rate": lr, "reg": reg, "grader": runs[0], "other": other,
                         "left_out": left_out, "near": answers._near(other, runs[0], examples)})
    finally:
        network.loss = reference_loss
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10-dir", type=Path, default=None, help="a cifar-10-batches-py folder")
    args = parser.parse_args(argv)
    data_dir = args.cifar10_dir or default_cifar10_dir()
    if not (data_dir / "data_batch_1").is_file():
        print(f"no CIFAR-10 batches in {data_dir}: pass --cifar10-dir, or run bash datasets/get_datasets.sh",
              file=sys.stderr)
        return 2
    rows = probe(data_dir)
    for row in rows:
        verdict = "ok" if row["near"] else "MISMATCH"
        print(f"{row['search']:<22} lr {row['learning_rate']:<7g} reg {row['reg']:<7g} grader "
              f"({row['grader'][0]:.4f}, {row['grader'][1]:.3f})  other ({row['other'][0]:.4f}, {row['other'][1]:.3f})  "
              f"{verdict}{'  (left out)' if row['left_out'] else ''}")
    kept = [row for row in rows if not row["left_out"]]
    missed = [row for row in kept if not row["near"]]
    print(f"{len(rows)} settings, {len(rows) - len(kept)} left out; the other network matches "
          f"{len(kept) - len(missed)} of the {len(kept)} kept")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
