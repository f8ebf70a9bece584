"""A NumPy reference for the linear-classify web demo: its data, losses and gradients.

Written independently of ``demos/linear-classify/math.js``: vectorized over all points at once, where the
page's module loops point by point. Shared by the maths tests (run in Node) and the browser tests.
"""

from __future__ import annotations

import numpy as np

LOSS_TYPES = ["ww", "ova", "structured", "softmax"]
POINTS_X = np.array([[0.5, 0.4], [0.8, 0.3], [0.3, 0.8], [-0.4, 0.3], [-0.3, 0.7], [-0.7, 0.2],
                     [0.7, -0.4], [0.5, -0.6], [-0.4, -0.5]])
POINTS_Y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
INITIAL_W = np.array([[1.0, 2.0], [2.0, -4.0], [3.0, -1.0]])
INITIAL_B = np.array([0.0, 0.5, -0.5])
GOLDEN_DATA_LOSS = {"ww": 2.7667, "ova": 4.0222, "structured": 2.3667, "softmax": 1.8366}


def reference(W, b, X, y, loss_type, reg):
    """Scores, per-point losses, total loss and its gradient.

    Parameters
    ----------
    W : ndarray of float64, shape (3, 2)
    b : ndarray of float64, shape (3,)
    X : ndarray of float64, shape (N, 2)
    y : ndarray of int, shape (N,), values in {0, 1, 2}
    loss_type : {"ww", "ova", "structured", "softmax"}
    reg : float

    Returns
    -------
    dict with scores (N, 3), losses (N,), data_loss, reg_loss, total (floats), dW (3, 2), db (3,).
    """
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W.T + b  # (N, 3)
    correct = scores[rows, y][:, None]  # (N, 1)
    is_label = np.arange(3)[None, :] == y[:, None]  # (N, 3)
    if loss_type == "ww":
        margins = np.where(is_label, 0.0, np.maximum(0.0, scores - correct + 1))
        losses = margins.sum(axis=1)
        dscores = (margins > 0).astype(float)
        dscores[rows, y] = -dscores.sum(axis=1)
    elif loss_type == "ova":
        margins = np.where(is_label, np.maximum(0.0, 1 - scores), np.maximum(0.0, 1 + scores))
        losses = margins.sum(axis=1)
        dscores = np.where(is_label, -1.0, 1.0) * (margins > 0)
    elif loss_type == "structured":
        wrong = np.where(is_label, -np.inf, scores)
        worst = wrong.argmax(axis=1)
        losses = np.maximum(0.0, wrong[rows, worst] - correct[:, 0] + 1)
        active = (losses > 0).astype(float)  # (N,)
        dscores = np.zeros_like(scores)
        dscores[rows, worst] = active
        dscores[rows, y] = -active
    elif loss_type == "softmax":
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses = -log_probs[rows, y]
        dscores = np.exp(log_probs) - is_label
    else:
        raise ValueError(loss_type)
    data_loss = losses.mean()
    reg_loss = reg * np.sum(W * W)
    return {
        "scores": scores,
        "losses": losses,
        "data_loss": data_loss,
        "reg_loss": reg_loss,
        "total": data_loss + reg_loss,
        "dW": dscores.T @ X / n + 2 * reg * W,
        "db": dscores.sum(axis=0) / n,
    }


def distance_to_kink(W, b, X, y, loss_type):
    """How far (in score units) the hinge losses are from a corner; inf for the smooth softmax."""
    if loss_type == "softmax":
        return np.inf
    scores = X @ W.T + b
    rows = np.arange(len(y))
    correct = scores[rows, y][:, None]
    is_label = np.arange(3)[None, :] == y[:, None]
    if loss_type == "ova":
        return np.min(np.abs(np.where(is_label, 1 - scores, 1 + scores)))
    gaps = np.abs(np.where(is_label, np.inf, scores - correct + 1))
    if loss_type == "structured":
        # Two wrong classes tying for the top is a corner too.
        wrong = np.sort(np.where(is_label, -np.inf, scores), axis=1)
        gaps = np.concatenate([gaps, (wrong[:, 2] - wrong[:, 1])[:, None]], axis=1)
    return np.min(gaps)
