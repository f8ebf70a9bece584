"""Validation of the arrays every classifier receives.

The checks run once at each public entry point so that a wrong shape, a label out of range or a NaN is
reported as a ``ValueError`` naming the argument, instead of surfacing as a broadcasting error deep inside
numpy. They are cheap: nothing here reads a large ``X`` in full except on the error path.

Code that has validated its arguments already calls the unchecked versions: ``LinearClassifier.train``
checks its data once and then computes each minibatch's loss with :func:`unchecked_loss` (as scikit-learn's
estimators pass ``check_input=False`` to their internals), so a training step never re-checks what cannot
have changed.
"""

import functools
import numbers

import numpy as np


def as_float_matrix(name, array, dtype=None):
    """Return ``array`` as a 2-D floating-point ndarray, or raise ``ValueError`` naming ``name``.

    Integer arrays (such as uint8 pixels) are converted to ``dtype`` (float64 when None) so that squares and
    differences cannot wrap around; floating arrays keep their dtype unless ``dtype`` is given.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array, got shape {array.shape}; reshape images to (N, D) first, "
            f"e.g. {name}.reshape(len({name}), -1)"
        )
    if array.dtype.kind in "biu":
        return array.astype(dtype or np.float64)
    if array.dtype.kind != "f":
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        return array.astype(dtype)
    return array


def as_labels(name, labels, num_examples, num_classes=None):
    """Return ``labels`` as a 1-D integer array of length ``num_examples`` with values in [0, num_classes).

    Raises ``ValueError`` naming ``name`` when the shape, the dtype or a value is wrong.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != num_examples:
        raise ValueError(
            f"{name} must be a 1-D array with one label per example ({num_examples}), got shape {labels.shape}"
        )
    if labels.dtype.kind not in "biu":
        if labels.dtype.kind == "f" and labels.size and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    if labels.size:
        low, high = labels.min(), labels.max()
        if low < 0 or (num_classes is not None and high >= num_classes):
            upper = f"{num_classes - 1}" if num_classes is not None else "any"
            raise ValueError(f"{name} must lie in [0, {upper}], found values from {low} to {high}")
    return labels


def as_reg(reg):
    """Return the regularization strength as a float, or raise if it is negative or not finite."""
    if not isinstance(reg, numbers.Real) or not np.isfinite(reg) or reg < 0:
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    return float(reg)


def check_loss_inputs(W, X, y, reg):
    """Validate the arguments of a loss function and return them normalized.

    Parameters
    ----------
    W : array_like, shape (D, C)
        Weights; floating point.
    X : array_like, shape (N, D)
        Minibatch of examples; integer pixels are converted to W's dtype.
    y : array_like of int, shape (N,)
        Labels in [0, C).
    reg : float
        Regularization strength, >= 0.

    Returns
    -------
    W, X, y, reg
        ``W`` and ``X`` as floating ndarrays of one dtype, ``y`` as an integer ndarray, ``reg`` a float.
    """
    W = as_float_matrix("W", W)
    X = as_float_matrix("X", X, dtype=W.dtype if np.asarray(X).dtype.kind in "biu" else None)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} columns but W has {W.shape[0]} rows; they must match (X is (N, D), W is (D, C))"
        )
    if X.shape[0] == 0:
        raise ValueError("X holds no examples; the loss is a mean over at least one example")
    if X.dtype != W.dtype:
        # Mixed precision would silently upcast every product; keep one dtype end to end.
        X = X.astype(np.result_type(X.dtype, W.dtype))
        W = W.astype(X.dtype)
    if not np.all(np.isfinite(W)):
        raise ValueError(
            "W contains NaN or infinite values; if W comes from a training run that diverged, train a new "
            "model with a smaller learning_rate or reg (LinearClassifier.train stops before this happens)"
        )
    y = as_labels("y", y, X.shape[0], W.shape[1])
    return W, X, y, as_reg(reg)


def check_finite(name, array):
    """Raise ``ValueError`` naming ``name`` when the 2-D ``array`` holds NaN or infinite values (reads it in full).

    The row sums come from one matrix-vector product: BLAS reads the data once on every core and builds no
    boolean array the size of the data, about three times faster than ``np.isfinite(array).all()`` on the
    49000 x 3073 training set, which ``train`` checks on every call. A NaN or an infinity makes its row sum
    non-finite; a row sum that overflows from finite values is told apart by the exact check.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # both cases are handled below; no warning to show
        row_sums = array @ np.ones(array.shape[1], dtype=array.dtype)  # (N,)
    if not np.all(np.isfinite(row_sums)) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")


def check_finite_scores(scores, X):
    """Raise ``ValueError`` naming ``X`` when ``scores`` computed from X are not finite because X is not.

    Parameters
    ----------
    scores : ndarray
        Values that every entry of X reaches: the (N, C) scores ``X @ W``, or the (D, C) gradient
        ``X.T @ G`` of a linear classifier's loss. A NaN or an infinity in X makes some of them NaN or
        infinite, since IEEE arithmetic gives NaN even for ``inf * 0``.
    X : ndarray, shape (N, D)
        The data they were computed from.

    Checking the scores costs far less than reading all of X; X itself is only read when a score is not
    finite. Scores that overflow from finite X and W are not bad input but weights grown too large, as when
    training diverges: the loss then comes out inf or nan, which ``LinearClassifier.train`` reports.
    """
    if not np.all(np.isfinite(scores)):
        check_finite("X", X)


def validate_loss_inputs(loss):
    """Decorate a loss function ``loss(W, X, y, reg) -> (loss, dW)`` so that calling it validates its arguments.

    The decorated function runs :func:`check_loss_inputs` first, so the body of ``loss`` receives ``W`` of
    shape (D, C), finite, and ``X`` of shape (N, D) with N >= 1, as floating ndarrays of one dtype; ``y`` as an
    integer ndarray of shape (N,) with values in [0, C); and ``reg`` as a float >= 0. After the body,
    :func:`check_finite_scores` looks at the (D, C) gradient ``dW``: a NaN or an infinity anywhere in X reaches
    it through ``X.T @ G`` (even multiplied by 0), so bad X is reported as a ``ValueError`` naming X instead
    of coming back as a NaN loss, and X is read in full only when ``dW`` is not finite. A body whose gradient
    can step over an example (a loop that skips some) checks X itself, as the naive losses do.

    The undecorated body stays reachable as the attribute ``unchecked`` (see :func:`unchecked_loss`), for a
    caller that has validated the arguments itself.
    """

    @functools.wraps(loss)
    def checked(W, X, y, reg):
        W, X, y, reg = check_loss_inputs(W, X, y, reg)
        # The body is looked up on the function, not held in the closure: IPython's autoreload, which the
        # notebooks turn on, updates a reloaded function in place by copying its code and its __dict__, but
        # cannot replace a closure, so a closure would keep calling the body as it was before the edit.
        value, dW = checked.unchecked(W, X, y, reg)
        check_finite_scores(dW, X)
        return value, dW

    checked.unchecked = loss
    return checked


def unchecked_loss(loss):
    """The body of a loss function decorated with :func:`validate_loss_inputs`, which trusts its arguments.

    Any other callable comes back as it is: a loss redefined without the decorator (a student's own, or a
    test's stand-in with CS231n's signature ``(W, X, y, reg)``) still runs, with whatever checks it has.
    """
    return getattr(loss, "unchecked", loss)
