"""A two-layer fully connected network trained with minibatch stochastic gradient descent.

Inputs have dimension D, the hidden layer has H units, there are C classes, and we operate on minibatches
of N examples. The network is affine -> ReLU -> affine -> softmax::

    hidden = max(0, X @ W1 + b1)   # (N, H)
    scores = hidden @ W2 + b2      # (N, C)

It is trained on the mean softmax cross-entropy of the scores plus ``reg * (sum(W1 ** 2) + sum(W2 ** 2))``,
an L2 penalty on the weights but not on the biases; its gradient with respect to W is ``2 * reg * W``.

Randomness follows CS231n's notebooks: with ``seed=None`` the initial weights and the minibatches come from
numpy's global generator, so ``np.random.seed(0)`` before ``TwoLayerNet(...)`` gives the notebook's toy
model. An integer seed draws from a private ``np.random.RandomState(seed)`` instead, the same numbers as
``np.random.seed(seed)`` would give, without touching the global state.

A setting that makes training diverge is a result, not an error, as for the linear classifiers: ``train``
warns once, stops, ends the loss history with the inf or nan and sets the parameters to NaN, and the
network then predicts class 0 for every example (chance level), so a hyperparameter search ranks that
setting last and goes on.
"""

import math
import numbers
import warnings

import numpy as np

from .input_checks import as_float_matrix, as_labels, as_reg, check_finite

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _random_state(seed):
    """numpy's global generator for ``seed=None`` (CS231n's ``np.random.seed`` then works), else a private one.

    Both offer ``randn`` and ``choice`` with the same streams, so ``seed=s`` equals ``np.random.seed(s)``.
    """
    if seed is None:
        return np.random
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(
            f"seed must be None (numpy's global generator, as np.random.seed sets it) or an integer in "
            f"[0, 2**32 - 1], got {seed!r}"
        )
    return np.random.RandomState(int(seed))


class TwoLayerNet:
    """Affine -> ReLU -> affine -> softmax classifier.

    Parameters
    ----------
    input_size : int
        D, the dimension of each example (3072 for CIFAR-10 images as rows, no bias column).
    hidden_size : int
        H, the number of hidden units.
    output_size : int
        C, the number of classes.
    std : float, default 1e-4
        Standard deviation of the normally distributed initial weights; the biases start at zero.
    seed : int or None, default None
        Seed of the initial weights; None draws them from numpy's global generator.

    Attributes
    ----------
    params : dict of str to ndarray
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C) and ``b2`` (C,). Float64 at first; :meth:`train` converts
        them to the dtype of its data, so float32 data trains a float32 network.
    """

    def __init__(self, input_size, hidden_size, output_size, std=1e-4, seed=None):
        input_size = _positive_int("input_size", input_size)
        hidden_size = _positive_int("hidden_size", hidden_size)
        output_size = _positive_int("output_size", output_size)
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not np.isfinite(std) or std < 0:
            raise ValueError(f"std must be a finite number >= 0, got {std!r}")
        rng = _random_state(seed)
        # The order of the draws (W1, then W2) is CS231n's, so its seeded toy model comes out the same.
        self.params = {
            "W1": std * rng.randn(input_size, hidden_size),  # (D, H)
            "b1": np.zeros(hidden_size),
            "W2": std * rng.randn(hidden_size, output_size),  # (H, C)
            "b2": np.zeros(output_size),
        }

    def _checked_params(self):
        """The parameters in one floating dtype, or ``ValueError`` naming what is wrong.

        Notebooks assign and edit ``params`` directly, so their shapes are checked against each other here.
        """
        missing = [name for name in PARAM_NAMES if name not in self.params]
        if missing:
            raise ValueError(f"params lacks {missing}; it must hold W1 (D, H), b1 (H,), W2 (H, C) and b2 (C,)")
        params = {name: np.asarray(self.params[name]) for name in PARAM_NAMES}
        for name, array in params.items():
            if array.dtype.kind != "f":
                raise ValueError(f"params['{name}'] must be floating point, got dtype {array.dtype}")
        W1, W2 = params["W1"], params["W2"]
        if W1.ndim != 2 or W2.ndim != 2:
            raise ValueError(f"params['W1'] and params['W2'] must be 2-D, got shapes {W1.shape} and {W2.shape}")
        dim, hidden = W1.shape
        classes = W2.shape[1]
        expected = {"W1": (dim, hidden), "b1": (hidden,), "W2": (hidden, classes), "b2": (classes,)}
        for name, shape in expected.items():
            if params[name].shape != shape:
                raise ValueError(
                    f"params['{name}'] has shape {params[name].shape} but W1 of shape {W1.shape} and W2 of shape "
                    f"{W2.shape} make it {shape}: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)"
                )
        dtype = np.result_type(*params.values())
        return {name: array.astype(dtype, copy=False) for name, array in params.items()}

    @staticmethod
    def _checked_examples(name, X, params):
        """``X`` as a 2-D floating array with D columns; integer pixels take the parameters' dtype."""
        dtype = params["W1"].dtype
        X = as_float_matrix(name, X, dtype=dtype if np.asarray(X).dtype.kind in "biu" else None)
        dim = params["W1"].shape[0]
        if X.shape[1] != dim:
            hint = (" The network has its own biases b1 and b2: drop the bias column if you appended one."
                    if X.shape[1] == dim + 1 else "")
            raise ValueError(f"{name} has {X.shape[1]} columns but the network expects {dim} (input_size D).{hint}")
        return X

    def _checked_inputs(self, X):
        """The parameters and X, validated, in one dtype: mixed precision would upcast every product anyway."""
        params = self._checked_params()
        X = self._checked_examples("X", X, params)
        dtype = np.result_type(params["W1"].dtype, X.dtype)
        return {name: array.astype(dtype, copy=False) for name, array in params.items()}, X.astype(dtype, copy=False)

    def loss(self, X, y=None, reg=0.0, *, check_input=True):
        """Compute the class scores or the loss and its gradients.

        Parameters
        ----------
        X : array_like, shape (N, D)
            A minibatch of examples; integer pixels are converted to the parameters' dtype.
        y : array_like of int, shape (N,), optional
            Labels, ``0 <= y[i] < C``. Without them only the scores are computed.
        reg : float, default 0.0
            Regularization strength (>= 0).
        check_input : bool, default True
            Validate the arguments and the parameters. :meth:`train` passes False for the minibatches of data
            it has already checked.

        Returns
        -------
        scores : ndarray, shape (N, C)
            Only when ``y`` is None: ``scores[i, c]`` is the score of class c for example i.
        (loss, grads) : tuple
            Otherwise. ``loss`` (float) is the mean cross-entropy plus ``reg * (sum(W1 ** 2) + sum(W2 ** 2))``;
            ``grads`` (dict of str to ndarray) holds the gradient of the loss with respect to each parameter,
            keyed, shaped and typed like ``params`` (in the wider dtype when X is wider).
        """
        if check_input:
            params, X = self._checked_inputs(X)
            for name, array in params.items():
                if not np.all(np.isfinite(array)):
                    raise ValueError(
                        f"params['{name}'] contains NaN or infinite values; if the network comes from a training "
                        "run that diverged, train a new one with a smaller learning_rate or reg (train stops "
                        "before this happens)"
                    )
            check_finite("X", X)
            if y is not None:
                if X.shape[0] == 0:
                    raise ValueError("X holds no examples; the loss is a mean over at least one example")
                y = as_labels("y", y, X.shape[0], params["W2"].shape[1])
            reg = as_reg(reg)
        else:
            params = self.params
        W1, b1, W2, b2 = (params[name] for name in PARAM_NAMES)
        num_train = X.shape[0]

        # TODO: forward pass. Compute the hidden layer max(0, X @ W1 + b1), shape (N, H), and from it the
        # class scores, shape (N, C), into `scores`. Keep the hidden layer: the backward pass needs it.
        ### BEGIN SOLUTION
        hidden = X @ W1 + b1  # (N, H)
        np.maximum(hidden, 0, out=hidden)
        scores = hidden @ W2 + b2  # (N, C)
        ### END SOLUTION

        if y is None:
            return scores

        rows = np.arange(num_train)
        # TODO: the loss. Shift each row of scores by that row's own maximum (a single global maximum
        # overflows when one row's scores spread far more than another's), then take the mean over the
        # examples of log(sum_j exp(s_j)) - s_{y_i}, and add reg * (sum(W1 ** 2) + sum(W2 ** 2)).
        ### BEGIN SOLUTION
        shifted = scores - scores.max(axis=1, keepdims=True)  # (N, C), each row's maximum is 0
        exp_scores = np.exp(shifted)  # (N, C), each in (0, 1]
        row_sums = exp_scores.sum(axis=1)  # (N,)
        loss = np.mean(np.log(row_sums) - shifted[rows, y]) + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        ### END SOLUTION

        grads = {}
        # TODO: the backward pass. Store the gradient of the loss with respect to W1, b1, W2 and b2 in grads,
        # each the shape of its parameter. The gradient with respect to the scores is (probabilities - one-hot
        # of y) / N; the ReLU passes gradient only where the hidden unit was positive; the regularization adds
        # 2 * reg * W to each weight's gradient (the biases are not regularized).
        ### BEGIN SOLUTION
        dscores = exp_scores / (row_sums[:, np.newaxis] * num_train)  # (N, C), probabilities / N
        dscores[rows, y] -= 1.0 / num_train
        grads["W2"] = hidden.T @ dscores + 2 * reg * W2  # (H, C)
        grads["b2"] = dscores.sum(axis=0)  # (C,)
        dhidden = dscores @ W2.T  # (N, H)
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T @ dhidden + 2 * reg * W1  # (D, H)
        grads["b1"] = dhidden.sum(axis=0)  # (H,)
        ### END SOLUTION

        return float(loss), grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6, num_iters=100,
              batch_size=200, verbose=False, seed=None):
        """Train the network with minibatch stochastic gradient descent.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Training data (floating point; integers are converted to float64). The parameters are converted
            to its dtype, so float32 data trains a float32 network.
        y : array_like of int, shape (N,)
            Training labels, ``0 <= y[i] < C``.
        X_val : array_like, shape (N_val, D)
            Validation data.
        y_val : array_like of int, shape (N_val,)
            Validation labels.
        learning_rate : float, default 1e-3
            Step size of the first epoch (> 0).
        learning_rate_decay : float, default 0.95
            Factor (> 0) the step size is multiplied by after each epoch.
        reg : float, default 5e-6
            Regularization strength (>= 0).
        num_iters : int, default 100
            Number of SGD steps.
        batch_size : int, default 200
            Examples per step, sampled with replacement.
        verbose : bool, default False
            Print the loss every 100 iterations.
        seed : int or None, default None
            Seed of the minibatch sampling; None draws from numpy's global generator, as CS231n's does.

        Returns
        -------
        dict
            ``loss_history``: list of float, the minibatch loss before each step. ``train_acc_history`` and
            ``val_acc_history``: lists of float, one entry per epoch, the accuracy on that step's minibatch
            and on the validation set, measured after the first step of each epoch (an epoch is
            ``ceil(N / batch_size)`` steps). When training diverges, a ``RuntimeWarning`` says where and what to
            try, training stops and the loss history ends with the first inf or nan.
        """
        params = self._checked_params()
        X = as_float_matrix("X", X)
        num_train = X.shape[0]
        if num_train == 0:
            raise ValueError("X holds no examples to train on")
        # The network takes the dtype of the data it trains on (integers were converted to float64).
        params = {name: array.astype(X.dtype, copy=False) for name, array in params.items()}
        X = self._checked_examples("X", X, params)
        num_classes = params["W2"].shape[1]
        y = as_labels("y", y, num_train, num_classes)
        check_finite("X", X)
        X_val = self._checked_examples("X_val", X_val, params)
        y_val = as_labels("y_val", y_val, X_val.shape[0], num_classes)
        check_finite("X_val", X_val)
        learning_rate = _positive_real("learning_rate", learning_rate)
        learning_rate_decay = _positive_real("learning_rate_decay", learning_rate_decay)
        reg = as_reg(reg)
        num_iters = _positive_int("num_iters", num_iters)
        batch_size = _positive_int("batch_size", batch_size)
        rng = _random_state(seed)
        self.params = params
        step_size = learning_rate  # decays once per epoch

        iterations_per_epoch = math.ceil(num_train / batch_size)
        loss_history, train_acc_history, val_acc_history = [], [], []
        # Parameters grown past the float range are how divergence shows. numpy's overflow warnings would
        # repeat at every step and point inside the loss; the checks below report it once, then stop.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for it in range(num_iters):
                # loss() with check_input=False trusts the parameters; checking them costs O(D * H) per step.
                if not self._params_finite():
                    loss_history.append(math.nan if self._params_nan() else math.inf)
                    self._diverged(it, num_iters, learning_rate, step_size, reg, "the parameters are inf or nan",
                                   resumed=it == 0)
                    break

                # TODO: sample batch_size examples and their labels from the training data with replacement,
                # using rng.choice (rng is np.random itself when seed is None, as in CS231n), into X_batch of
                # shape (batch_size, D) and y_batch of shape (batch_size,).
                ### BEGIN SOLUTION
                indices = rng.choice(num_train, batch_size)
                X_batch = X[indices]  # (batch_size, D)
                y_batch = y[indices]
                ### END SOLUTION

                loss, grads = self.loss(X_batch, y=y_batch, reg=reg, check_input=False)
                loss_history.append(loss)
                if not math.isfinite(loss):
                    self._diverged(it, num_iters, learning_rate, step_size, reg, f"the loss became {loss}",
                                   resumed=False)
                    break

                # TODO: update every parameter in self.params with one gradient-descent step of size step_size
                # (the learning rate, decayed once per epoch below), using the gradients in grads.
                ### BEGIN SOLUTION
                for name in PARAM_NAMES:
                    self.params[name] -= step_size * grads[name]
                ### END SOLUTION

                if verbose and it % 100 == 0:
                    print(f"iteration {it} / {num_iters}: loss {loss:f}")

                if it % iterations_per_epoch == 0:
                    # Both sets were validated above, and the parameters keep the shapes and dtype they had then.
                    train_acc_history.append(float(np.mean(self.predict(X_batch, check_input=False) == y_batch)))
                    val_acc_history.append(float(np.mean(self.predict(X_val, check_input=False) == y_val)))
                    step_size *= learning_rate_decay
            else:
                if not self._params_finite():  # the very last step diverged: no loss left to record it
                    self._diverged(num_iters - 1, num_iters, learning_rate, step_size, reg,
                                   "its update made the parameters inf or nan", resumed=False)

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def _params_finite(self):
        return all(np.all(np.isfinite(self.params[name])) for name in PARAM_NAMES)

    def _params_nan(self):
        return any(np.isnan(self.params[name]).any() for name in PARAM_NAMES)

    def _diverged(self, iteration, num_iters, learning_rate, step_size, reg, what, resumed):
        """Warn (RuntimeWarning) that training diverged at ``iteration``, why it likely did and what to try.

        The parameters become NaN: :meth:`predict` then gives class 0 to every example (chance level), so a
        search ranks the setting last, and another call to ``train`` leaves them alone.

        Each step multiplies W1 and W2 by ``1 - 2 * step_size * reg`` (the regularization gradient) before the
        data gradient moves them, so they grow geometrically while ``step_size * reg > 1``; ``learning_rate`` is
        the step size the caller chose, ``step_size`` the one after the decay so far.
        """
        name = f"{type(self).__name__}.train"
        if resumed:
            # Constant text: Python shows a repeated warning once per calling line, and a search that trains a
            # diverged network again needs to hear it only once.
            message = (f"{name}: the parameters this call started from are inf or nan (an earlier call to train "
                       "diverged); nothing was trained. Create a new TwoLayerNet to try another setting.")
        else:
            if iteration == 0:
                advice = ("The initial parameters already give it: check the loss (softmax scores shifted by each "
                          "row's maximum before exp), the scale of X and std.")
            elif learning_rate * reg > 1:
                advice = (f"learning_rate * reg = {learning_rate * reg:.3g} is above 1, so every step multiplies the "
                          f"weights by 1 - 2 * learning_rate * reg = {1 - 2 * learning_rate * reg:.3g} and they grow "
                          f"without bound: use learning_rate * reg < 0.5 (learning_rate < {0.5 / reg:.2g} for "
                          f"reg={reg:g}).")
            else:
                advice = "The steps are too large for this data: try a learning_rate 10 times smaller."
            decayed = f", {step_size:g} after decay" if step_size != learning_rate else ""
            message = (f"{name} diverged at iteration {iteration} / {num_iters} (learning_rate={learning_rate:g}"
                       f"{decayed}, reg={reg:g}): {what}. Training stopped there; the parameters are now NaN and the "
                       f"network predicts class 0 for everything. {advice}")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        # New arrays: the caller may still hold the old ones.
        self.params = {name: np.full_like(self.params[name], np.nan) for name in PARAM_NAMES}

    def predict(self, X, *, check_input=True):
        """Predict labels with the current parameters.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Examples to classify.
        check_input : bool, default True
            Validate X and the parameters. :meth:`train` passes False for the data it has already checked.

        Returns
        -------
        y_pred : ndarray of int64, shape (N,)
            The index of the highest score of each example; 0 for all of them when training diverged (NaN
            parameters give NaN scores, and argmax takes the first NaN).
        """
        if check_input:
            params, X = self._checked_inputs(X)
            check_finite("X", X)
        else:
            params = self.params
        W1, b1, W2, b2 = (params[name] for name in PARAM_NAMES)

        # TODO: compute the class scores of every example (the forward pass of loss) and store the index of
        # the highest one in y_pred.
        ### BEGIN SOLUTION
        hidden = np.maximum(X @ W1 + b1, 0)  # (N, H)
        y_pred = np.argmax(hidden @ W2 + b2, axis=1).astype(np.int64)  # (N,)
        ### END SOLUTION
        return y_pred
