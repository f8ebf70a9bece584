"""Multiclass support vector machine loss (the Weston and Watkins form of the course notes).

Inputs have dimension D, there are C classes, and we operate on minibatches of N examples. For example i
with scores s = X[i] @ W, the loss is

    L_i = sum over j != y_i of max(0, s_j - s_{y_i} + 1)

and the full loss is the mean of L_i over the minibatch plus ``reg * sum(W ** 2)``.

Both functions validate their arguments before their body runs (the decorator ``validate_loss_inputs``): bad
input raises a ``ValueError`` naming the argument, and the body may assume the shapes and dtypes listed
below. ``LinearSVM.train``, having validated its data once, calls the bodies alone
(``svm_loss_vectorized.unchecked``) on each minibatch.
"""

import numpy as np

from .input_checks import check_finite, validate_loss_inputs


@validate_loss_inputs
def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM (Weston-Watkins) hinge loss and its gradient, computed with explicit loops.

    Parameters
    ----------
    W : ndarray, shape (D, C)
        Weights.
    X : ndarray, shape (N, D)
        A minibatch of data.
    y : ndarray of int, shape (N,)
        Training labels; ``y[i] = c`` means that ``X[i]`` has label c, with 0 <= c < C.
    reg : float
        Regularization strength (>= 0).

    Returns
    -------
    loss : float
        Mean hinge loss plus ``reg * sum(W ** 2)``.
    dW : ndarray, shape (D, C), dtype of W
        Gradient of the loss with respect to W.
    """
    # The loops below skip a margin that is NaN (NaN > 0 is false), so a NaN in X need not show in the loss
    # or the gradient: read X in full here, which the loops do anyway.
    check_finite("X", X)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W)

    # TODO: loop over the examples i and the classes j != y[i]. For every positive margin
    # s_j - s_{y_i} + 1, add it to the loss, add X[i] to column j of dW and subtract X[i] from column y[i].
    # Then average loss and dW over the N examples and add the regularization loss reg * sum(W ** 2) and
    # its gradient 2 * reg * W.
    ### BEGIN SOLUTION
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    ### END SOLUTION

    return float(loss), dW


@validate_loss_inputs
def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM (Weston-Watkins) hinge loss and its gradient, without explicit loops.

    Same inputs and outputs as :func:`svm_loss_naive`. The work is two matrix products, ``X @ W``
    for the scores and ``X.T @ G`` for the gradient, plus O(N * C) element-wise operations.
    """
    num_train = X.shape[0]
    rows = np.arange(num_train)

    # TODO: compute the scores of all examples at once, the margins max(0, s_j - s_{y_i} + 1) with the
    # correct class's margin set to 0, and the loss. Then build a matrix G of shape (N, C) holding
    # d(loss)/d(scores): 1 where the margin is positive, minus the count of positive margins in the row at
    # the correct class, divided by N; the gradient is X.T @ G plus 2 * reg * W. Use no Python loops.
    ### BEGIN SOLUTION
    scores = X @ W  # (N, C)
    correct_scores = scores[rows, y][:, np.newaxis]  # (N, 1)
    margins = scores - correct_scores + 1  # (N, C)
    margins[rows, y] = 0
    np.maximum(margins, 0, out=margins)
    loss = margins.sum() / num_train + reg * np.sum(W * W)

    coefficients = (margins > 0).astype(W.dtype)  # (N, C)
    coefficients[rows, y] = -coefficients.sum(axis=1)
    coefficients /= num_train
    dW = X.T @ coefficients  # (D, C)
    dW += 2 * reg * W
    ### END SOLUTION

    return float(loss), dW
