"""Softmax (cross-entropy) loss of a linear classifier.

Inputs have dimension D, there are C classes, and we operate on minibatches of N examples. For example i
with scores s = X[i] @ W the loss is ``L_i = -log(exp(s_{y_i}) / sum_j exp(s_j))``; the full loss is the
mean of L_i plus ``reg * sum(W ** 2)``. Subtracting ``max_j s_j`` from the scores before exponentiating
changes nothing mathematically and keeps every exponential in (0, 1], so huge scores cannot overflow.

Both functions validate their arguments before their body runs (the decorator ``validate_loss_inputs``): bad
input raises a ``ValueError`` naming the argument, and the body may assume the shapes and dtypes listed
below. ``Softmax.train``, having validated its data once, calls the bodies alone
(``softmax_loss_vectorized.unchecked``) on each minibatch.
"""

import numpy as np

from .input_checks import check_finite, validate_loss_inputs


@validate_loss_inputs
def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and its gradient, computed with explicit loops.

    Parameters
    ----------
    W : ndarray, shape (D, C)
        Weights.
    X : ndarray, shape (N, D)
        A minibatch of data.
    y : ndarray of int, shape (N,)
        Training labels, 0 <= y[i] < C.
    reg : float
        Regularization strength (>= 0).

    Returns
    -------
    loss : float
        Mean cross-entropy plus ``reg * sum(W ** 2)``.
    dW : ndarray, shape (D, C), dtype of W
        Gradient of the loss with respect to W.
    """
    # Loops written by hand can step over a NaN in X (every comparison with NaN is false) and pass it on to
    # neither the loss nor the gradient, so X is read in full here, as the loops read it anyway.
    check_finite("X", X)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)

    # TODO: loop over the examples. For each, compute the scores, shift them by their maximum for numeric
    # stability, turn them into probabilities p_j, add -log(p_{y_i}) to the loss, and add X[i] * p_j to
    # column j of dW for every class (minus X[i] at the correct class). Average over N and add the
    # regularization loss reg * sum(W ** 2) and its gradient 2 * reg * W.
    ### BEGIN SOLUTION
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        exp_scores = np.exp(scores)
        total = np.sum(exp_scores)
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            probability = exp_scores[j] / total
            dW[:, j] += (probability - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    ### END SOLUTION

    return float(loss), dW


@validate_loss_inputs
def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and gradient without explicit loops.

    Same inputs and outputs as :func:`softmax_loss_naive`. The work is two matrix products, ``X @ W`` and
    ``X.T @ G``, plus O(N * C) element-wise operations.
    """
    num_train = X.shape[0]
    rows = np.arange(num_train)

    # TODO: compute all scores at once, shift each row by its maximum, and compute the loss from the log of
    # the row sums of the exponentials. The gradient with respect to the scores is (probabilities - one-hot
    # of y) / N; the gradient with respect to W is X.T @ that plus 2 * reg * W. Use no Python loops.
    ### BEGIN SOLUTION
    scores = X @ W  # (N, C)
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)  # (N, C), each in (0, 1]
    row_sums = exp_scores.sum(axis=1)  # (N,)
    loss = np.mean(np.log(row_sums) - scores[rows, y]) + reg * np.sum(W * W)

    exp_scores /= row_sums[:, np.newaxis] * num_train  # probabilities / N
    exp_scores[rows, y] -= 1.0 / num_train
    dW = X.T @ exp_scores  # (D, C)
    dW += 2 * reg * W
    ### END SOLUTION

    return float(loss), dW
