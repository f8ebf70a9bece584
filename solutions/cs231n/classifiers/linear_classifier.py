"""Linear classifiers trained with minibatch stochastic gradient descent.

A linear classifier scores an example x (a row of X, with a constant 1 appended for the bias) as
``x @ W``, one score per class, and predicts the class with the highest score. ``LinearSVM`` and
``Softmax`` differ only in the loss they minimize.

A setting that makes training diverge (the weights grow until the loss overflows) is a result, not an
error: ``train`` warns once, stops, ends the loss history with the inf or nan and sets the weights to NaN.
The model still predicts, at chance level, so a hyperparameter search ranks that setting last and goes on.

``train`` validates its arguments once, before the first step; :meth:`LinearClassifier.loss`, which it calls on
every minibatch, trusts them and runs the loss function without its input checks.
"""

import math
import numbers
import warnings

import numpy as np

from .input_checks import as_float_matrix, as_labels, as_reg, check_finite, unchecked_loss
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
            The minibatch loss before each update. When training diverges (the loss or the weights stop
            being finite), a ``RuntimeWarning`` says where and what to try, training stops, and the history
            is shorter: it ends with the first inf or nan. See :meth:`_diverged` for the model left behind.

        Raises
        ------
        ValueError
            Before any step, when an argument is invalid (the message names it), X holds NaN or infinite
            values, or the weights of an earlier call do not fit the data. The steps then call :meth:`loss`
            on minibatches of the validated data without checking them again.
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
        resumed = self.W is not None  # train again: continue from the current weights
        if self.W is None:
            self.W = (0.001 * rng.standard_normal((dim, num_classes))).astype(X.dtype)  # (D, C)
        elif self.W.shape[0] != dim or self.W.shape[1] < num_classes:
            raise ValueError(
                f"the existing weights have shape {self.W.shape} but the data needs ({dim}, >= {num_classes}); "
                "create a new classifier to train on differently shaped data"
            )

        loss_history = []
        # Weights grown past the float range are how divergence shows. numpy's overflow warnings would
        # repeat at every step and point inside the loss; the checks below report it once, then stop.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for it in range(num_iters):
                # loss() trusts W, and weights that stopped being finite are how divergence shows; checking
                # W (D x C) costs little next to the minibatch products.
                if not np.all(np.isfinite(self.W)):
                    loss_history.append(math.nan if np.isnan(self.W).any() else math.inf)
                    self._diverged(it, num_iters, learning_rate, reg, "the weights are inf or nan", resumed)
                    break

                # TODO: sample batch_size examples and their labels from the training data with replacement,
                # using rng (e.g. rng.integers), into X_batch of shape (batch_size, D) and y_batch of shape
                # (batch_size,).
                ### BEGIN SOLUTION
                indices = rng.integers(0, num_train, size=batch_size)
                X_batch = X[indices]  # (batch_size, D)
                y_batch = y[indices]
                ### END SOLUTION

                # loss() does not check the minibatch, so a sampling mistake is named here (this costs
                # nothing: shapes only) rather than left to a broadcasting error or a silently wrong loss.
                if np.shape(X_batch) != (batch_size, dim) or np.shape(y_batch) != (batch_size,):
                    raise ValueError(
                        f"the sampled minibatch must be X_batch of shape {(batch_size, dim)} and y_batch of shape "
                        f"({batch_size},), got {np.shape(X_batch)} and {np.shape(y_batch)}: see the TODO on "
                        "sampling in LinearClassifier.train"
                    )
                loss, grad = self.loss(X_batch, y_batch, reg)
                loss_history.append(loss)
                if not math.isfinite(loss):
                    self._diverged(it, num_iters, learning_rate, reg, f"the loss became {loss}", resumed)
                    break

                # TODO: update the weights with one gradient-descent step of size learning_rate.
                ### BEGIN SOLUTION
                self.W -= learning_rate * grad
                ### END SOLUTION

                if verbose and it % 100 == 0:
                    print(f"iteration {it} / {num_iters}: loss {loss:f}")
            else:
                if not np.all(np.isfinite(self.W)):  # the very last step diverged: no loss left to record it
                    self._diverged(num_iters - 1, num_iters, learning_rate, reg,
                                   "its update made the weights inf or nan", resumed=False)

        return loss_history

    def _diverged(self, iteration, num_iters, learning_rate, reg, what, resumed):
        """Warn (RuntimeWarning) that training diverged at ``iteration``, why it likely did and what to try.

        The weights become NaN: the last ones are mostly the first steps' gradient magnified, with a sign
        that alternates from step to step, so they would score anywhere between chance and well above it.
        NaN weights make :meth:`predict` give class 0 to every example (chance level), so a search ranks
        the setting last, and another call to ``train`` leaves them alone.

        Each step multiplies W by ``1 - 2 * learning_rate * reg`` (the regularization gradient) before the
        data gradient moves it, so W grows without bound when ``learning_rate * reg > 1``, whatever the data.
        """
        name = f"{type(self).__name__}.train"
        if iteration == 0 and resumed:
            # Constant text: Python shows a repeated warning once per calling line, and a search that trains a
            # diverged model again (e.g. a second phase at a smaller rate) needs to hear it only once.
            message = (f"{name}: the weights this call started from are inf or nan or give a loss that overflows "
                       "(an earlier call to train diverged); nothing was trained. Train a new model to try "
                       "another setting.")
        else:
            if iteration == 0:
                advice = ("The initial weights already give it: check the loss function (e.g. softmax scores "
                          "shifted by their maximum before exp) and the scale of X.")
            elif learning_rate * reg > 1:
                advice = (f"learning_rate * reg = {learning_rate * reg:.3g} is above 1, so every step multiplies W "
                          f"by 1 - 2 * learning_rate * reg = {1 - 2 * learning_rate * reg:.3g} and W grows without "
                          f"bound: use learning_rate * reg < 0.5 (learning_rate < {0.5 / reg:.2g} for reg={reg:g}).")
            else:
                advice = "The steps are too large for this data: try a learning_rate 10 times smaller."
            message = (f"{name} diverged at iteration {iteration} / {num_iters} (learning_rate={learning_rate:g}, "
                       f"reg={reg:g}): {what}. Training stopped there; the weights are now NaN and the model "
                       f"predicts class 0 for everything. {advice}")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        self.W = np.full_like(self.W, np.nan)  # a new array: W may be an array the caller still holds

    def predict(self, X):
        """Predict labels with the trained weights.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Examples to classify.

        Returns
        -------
        y_pred : ndarray of int64, shape (N,)
            The index of the highest score of each example; 0 for all of them when training diverged (NaN
            weights give NaN scores, and argmax takes the first NaN).
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
        """Loss and gradient of the current weights on a minibatch: the step of :meth:`train`; subclasses override it.

        It trusts its arguments, which :meth:`train` has validated, and runs the loss function without its input
        checks. To evaluate the loss on other data, call the loss function itself (e.g.
        ``svm_loss_vectorized(classifier.W, X, y, reg)``), which validates what it is given.

        Parameters
        ----------
        X_batch : ndarray of float, shape (N, D)
            Finite values.
        y_batch : ndarray of int, shape (N,)
            Labels in [0, C).
        reg : float
            Regularization strength, >= 0.

        Returns
        -------
        loss : float
        dW : ndarray, shape (D, C)
        """
        raise NotImplementedError("LinearClassifier is abstract: use LinearSVM or Softmax")


class LinearSVM(LinearClassifier):
    """A linear classifier that minimizes the multiclass SVM (Weston-Watkins) hinge loss."""

    def loss(self, X_batch, y_batch, reg):
        # An svm_loss_vectorized redefined without the decorator (CS231n's plain (W, X, y, reg)) is called as it is.
        return unchecked_loss(svm_loss_vectorized)(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """A linear classifier that minimizes the softmax cross-entropy loss."""

    def loss(self, X_batch, y_batch, reg):
        return unchecked_loss(softmax_loss_vectorized)(self.W, X_batch, y_batch, reg)
