"""Linear classifiers trained with minibatch stochastic gradient descent.

A linear classifier scores an example x (a row of X, with a constant 1 appended for the bias) as
``x @ W``, one score per class, and predicts the class with the highest score. ``LinearSVM`` and
``Softmax`` differ only in the loss they minimize.
"""

import numbers

import numpy as np

from .input_checks import as_float_matrix, as_labels, as_reg, check_finite
from .linear_svm import svm_loss_vectorized
from .softmax import softmax_loss_vectorized


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class LinearClassifier:
    """Base class: SGD training and prediction; subclasses define :meth:`loss`.

    Attributes
    ----------
    W : ndarray, shape (D, C) or None
        The weights, created by the first call to :meth:`train` in the dtype of the training data
        (float32 data trains a float32 model, about twice as fast as float64).
    """

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False, seed=None):
        """Train the classifier with minibatch stochastic gradient descent.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Training data, N examples of dimension D (floating point; integers are converted to float64).
        y : array_like of int, shape (N,)
            Labels, ``0 <= y[i] < C`` for C classes.
        learning_rate : float, default 1e-3
            Step size of each update.
        reg : float, default 1e-5
            Regularization strength.
        num_iters : int, default 100
            Number of SGD steps.
        batch_size : int, default 200
            Examples per step, sampled with replacement.
        verbose : bool, default False
            Print the loss every 100 iterations.
        seed : int or None, default None
            Seed of the weight initialization and the minibatch sampling; the same seed gives the same model.

        Returns
        -------
        loss_history : list of float, length num_iters
            The minibatch loss before each update.
        """
        X = as_float_matrix("X", X)
        num_train, dim = X.shape
        y = as_labels("y", y, num_train)
        if num_train == 0:
            raise ValueError("X holds no examples to train on")
        check_finite("X", X)
        if not isinstance(learning_rate, numbers.Real) or not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
        reg = as_reg(reg)
        num_iters = _positive_int("num_iters", num_iters)
        batch_size = _positive_int("batch_size", batch_size)
        rng = np.random.default_rng(seed)

        num_classes = int(y.max()) + 1  # assume y takes values 0...C-1
        if self.W is None:
            self.W = (0.001 * rng.standard_normal((dim, num_classes))).astype(X.dtype)  # (D, C)
        elif self.W.shape[0] != dim or self.W.shape[1] < num_classes:
            raise ValueError(
                f"the existing weights have shape {self.W.shape} but the data needs ({dim}, >= {num_classes}); "
                "create a new classifier to train on differently shaped data"
            )

        loss_history = []
        for it in range(num_iters):
            # TODO: sample batch_size examples and their labels from the training data with replacement,
            # using rng (e.g. rng.integers), into X_batch of shape (batch_size, D) and y_batch of shape
            # (batch_size,).
            ### BEGIN SOLUTION
            indices = rng.integers(0, num_train, size=batch_size)
            X_batch = X[indices]  # (batch_size, D)
            y_batch = y[indices]
            ### END SOLUTION

            loss, grad = self.loss(X_batch, y_batch, reg)
            loss_history.append(loss)

            # TODO: update the weights with one gradient-descent step of size learning_rate.
            ### BEGIN SOLUTION
            self.W -= learning_rate * grad
            ### END SOLUTION

            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")

        return loss_history

    def predict(self, X):
        """Predict labels with the trained weights.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Examples to classify.

        Returns
        -------
        y_pred : ndarray of int64, shape (N,)
            The index of the highest score of each example.
        """
        if self.W is None:
            raise ValueError("the classifier is not trained yet: call train(X, y) first")
        X = as_float_matrix("X", X)
        if X.shape[1] != self.W.shape[0]:
            raise ValueError(f"X has {X.shape[1]} columns but the model expects {self.W.shape[0]} (D)")

        # TODO: compute the scores of every example and store the index of the highest one in y_pred.
        ### BEGIN SOLUTION
        y_pred = np.argmax(X @ self.W, axis=1).astype(np.int64)  # (N,)
        ### END SOLUTION
        return y_pred

    def loss(self, X_batch, y_batch, reg):
        """Loss and gradient on a minibatch; subclasses override this.

        Parameters
        ----------
        X_batch : ndarray, shape (N, D)
        y_batch : ndarray of int, shape (N,)
        reg : float

        Returns
        -------
        loss : float
        dW : ndarray, shape (D, C)
        """
        raise NotImplementedError("LinearClassifier is abstract: use LinearSVM or Softmax")


class LinearSVM(LinearClassifier):
    """A linear classifier that minimizes the multiclass SVM loss."""

    def loss(self, X_batch, y_batch, reg):
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """A linear classifier that minimizes the softmax cross-entropy loss."""

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
