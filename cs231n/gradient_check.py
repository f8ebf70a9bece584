"""Numerical gradients by centred finite differences, to check analytic gradients.

Both helpers print the familiar lines and also return numbers, so a test or a notebook cell can assert on
them instead of reading the printout.
"""

from __future__ import annotations

import numpy as np


def relative_error(a, b):
    """Element-wise ``|a - b| / max(|a| + |b|, 1e-12)``, in [0, 1]; both zero gives 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Centred-difference gradient of a scalar function at every entry of ``x``.

    Parameters
    ----------
    f : callable
        Takes ``x`` (modified in place and restored) and returns a float.
    x : ndarray of float
        The point; any shape. It is restored exactly after each probe.
    verbose : bool, default True
        Print each entry's index and gradient.
    h : float, default 1e-5
        Step of the finite difference.

    Returns
    -------
    grad : ndarray of float64, shape of ``x``
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        index = it.multi_index
        original = x[index]
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, verbose=True):
    """Compare an analytic gradient with centred differences at randomly chosen entries.

    Parameters
    ----------
    f : callable
        Takes ``x`` and returns a float (the loss).
    x : ndarray of float
        The point (e.g. the weights W); probed in place and restored.
    analytic_grad : ndarray, shape of ``x``
        The gradient to check.
    num_checks : int, default 10
        Number of random entries to check.
    h : float, default 1e-5
        Step of the finite difference.
    seed : int or None, default None
        Seed of the entries chosen; the same seed checks the same entries.
    verbose : bool, default True
        Print "numerical: ... analytic: ..., relative error: ..." for each entry.

    Returns
    -------
    errors : ndarray of float64, shape (num_checks,)
        The relative error at each checked entry. Values around 1e-7 or below mean agreement; a hinge kink
        crossed by the probe can give a larger error at an isolated entry.
    """
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {analytic_grad.shape} but x has shape {x.shape}; they must match")
    rng = np.random.default_rng(seed)
    errors = np.empty(num_checks)
    for check in range(num_checks):
        index = tuple(int(rng.integers(size)) for size in x.shape)
        original = x[index]
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
        x[index] = original
        numerical = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[index]
        errors[check] = relative_error(numerical, analytic)
        if verbose:
            print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {errors[check]:e}")
    return errors
