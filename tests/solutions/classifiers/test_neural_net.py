"""The reference two-layer network: CS231n's toy numbers, exact gradients, stable softmax, seeds, divergence."""

import math
import re
import warnings

import numpy as np
import pytest

from solutions.cs231n.classifiers import neural_net
from solutions.cs231n.classifiers.neural_net import TwoLayerNet

# CS231n's two_layer_net notebook: its toy model and data come from np.random.seed(0) and np.random.seed(1).
TOY_SCORES = np.asarray([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949]])
TOY_LOSS = 1.30378789133  # reg=0.05
TOY_FINAL_TRAINING_LOSS = 0.017149607938732093  # 100 steps at learning_rate=1e-1, reg=5e-6, as printed there


@pytest.fixture
def global_random_state():
    """Let a test seed numpy's global generator, as CS231n's notebook does, and put its state back after."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def toy_data():
    rng = np.random.RandomState(1)
    return 10 * rng.randn(5, 4), np.array([0, 1, 2, 2, 1])


def test_the_toy_model_gives_cs231n_scores_and_loss_from_its_seeds():
    net = TwoLayerNet(4, 10, 3, std=1e-1, seed=0)
    X, y = toy_data()
    scores = net.loss(X)
    assert scores.shape == (5, 3)
    assert np.sum(np.abs(scores - TOY_SCORES)) < 1e-7  # the notebook prints 8 decimals
    loss, grads = net.loss(X, y, reg=0.05)
    assert abs(loss - TOY_LOSS) < 1e-12
    assert set(grads) == {"W1", "b1", "W2", "b2"}


def test_the_notebook_code_unchanged_reproduces_its_toy_training_loss(global_random_state):
    def init_toy_model():  # the notebook's own cells, global seeds and all
        np.random.seed(0)
        return TwoLayerNet(4, 10, 3, std=1e-1)

    def init_toy_data():
        np.random.seed(1)
        return 10 * np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])

    net = init_toy_model()
    X, y = init_toy_data()
    assert np.sum(np.abs(net.loss(X) - TOY_SCORES)) < 1e-7
    net = init_toy_model()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    assert stats["loss_history"][-1] == pytest.approx(TOY_FINAL_TRAINING_LOSS, rel=1e-9)
    assert stats["loss_history"][-1] < 0.02  # the notebook's target


def loop_loss_and_grads(params, X, y, reg):
    """The loss and gradients with scalar loops: an independent reference for the vectorized code."""
    W1, b1, W2, b2 = (params[name] for name in ("W1", "b1", "W2", "b2"))
    (num_train, dim), hidden_size, num_classes = X.shape, W1.shape[1], W2.shape[1]
    grads = {name: np.zeros_like(params[name]) for name in params}
    loss = 0.0
    for i in range(num_train):
        pre = [b1[h] + sum(X[i, d] * W1[d, h] for d in range(dim)) for h in range(hidden_size)]
        hidden = [max(0.0, value) for value in pre]
        scores = [b2[c] + sum(hidden[h] * W2[h, c] for h in range(hidden_size)) for c in range(num_classes)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        loss += math.log(total) - (scores[y[i]] - top)
        dhidden = [0.0] * hidden_size
        for c in range(num_classes):
            dscore = (exps[c] / total - (c == y[i])) / num_train
            grads["b2"][c] += dscore
            for h in range(hidden_size):
                grads["W2"][h, c] += hidden[h] * dscore
                dhidden[h] += W2[h, c] * dscore
        for h in range(hidden_size):
            if pre[h] > 0:
                grads["b1"][h] += dhidden[h]
                for d in range(dim):
                    grads["W1"][d, h] += X[i, d] * dhidden[h]
    loss = loss / num_train + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    grads["W1"] += 2 * reg * W1
    grads["W2"] += 2 * reg * W2
    return loss, grads


def small_problem(seed=0, num_train=7, dim=5, hidden=6, classes=4, std=0.5):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(dim, hidden, classes, std=std, seed=seed)
    net.params["b1"] = 0.1 * rng.standard_normal(hidden)
    net.params["b2"] = 0.1 * rng.standard_normal(classes)
    return net, rng.standard_normal((num_train, dim)), rng.integers(0, classes, num_train)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_loss_and_gradients_match_a_loop_implementation(reg):
    net, X, y = small_problem()
    loss, grads = net.loss(X, y, reg=reg)
    expected_loss, expected = loop_loss_and_grads(net.params, X, y, reg)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for name in expected:
        assert grads[name].shape == net.params[name].shape and grads[name].dtype == np.float64
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-13, err_msg=name)


def numeric_gradient(net, X, y, reg, name, h=1e-5):
    """Centered finite differences of the total loss with respect to every entry of params[name]."""
    param = net.params[name]
    numeric = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        saved = param[index]
        param[index] = saved + h
        plus = net.loss(X, y, reg=reg)[0]
        param[index] = saved - h
        minus = net.loss(X, y, reg=reg)[0]
        param[index] = saved
        numeric[index] = (plus - minus) / (2 * h)
    return numeric


def test_gradients_match_finite_differences_of_the_total_loss_and_would_catch_reg_times_w():
    net, X, y = small_problem(seed=1)
    reg = 0.5  # large enough that reg * W (instead of 2 * reg * W) is off by far more than the tolerance
    _, grads = net.loss(X, y, reg=reg)
    for name in ("W1", "b1", "W2", "b2"):
        numeric = numeric_gradient(net, X, y, reg, name)
        # h = 1e-5 in float64: truncation about h**2 and rounding about 1e-16 / h, both far below 1e-7.
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)
        if name.startswith("W"):
            half_reg = grads[name] - reg * net.params[name]  # the gradient of a slip: reg * W, not 2 * reg * W
            assert np.max(np.abs(half_reg - numeric)) > 1e-2


def test_scores_in_the_thousands_with_a_wide_spread_give_finite_loss_and_gradients():
    net = TwoLayerNet(3, 3, 3, seed=0)
    net.params.update(W1=np.eye(3), b1=np.zeros(3), W2=np.eye(3), b2=np.zeros(3))
    # Row 0 spreads over 6000, row 1 over 2: shifting by the global maximum would underflow every
    # exponential of row 1 to 0 and make its log -inf.
    X = np.array([[6000.0, 0.0, 1000.0], [1.0, 2.0, 3.0]])
    y = np.array([1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # exp(-6000) may underflow to 0
        loss, grads = net.loss(X, y, reg=0.0)
    scores = net.loss(X)
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(np.exp(scores - scores.max()).sum(axis=1))[1])  # what a global shift would give
    row1 = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3
    assert loss == pytest.approx((6000.0 + row1) / 2, rel=1e-12)
    for name, grad in grads.items():
        assert np.all(np.isfinite(grad)), name
    # Row 0 puts all its probability on class 0 although it is class 1: dscores[0] = (1, -1, 0) / 2.
    np.testing.assert_allclose(grads["b2"][:2], [0.5 + np.exp([1, 2, 3])[0] / np.exp([1, 2, 3]).sum() / 2,
                                                 -0.5 + np.exp([1, 2, 3])[1] / np.exp([1, 2, 3]).sum() / 2])


def separable_problem(seed=0, num_examples=300, dim=10, num_classes=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_classes, dim)) * 3
    y = rng.integers(0, num_classes, num_examples)
    X = (centres[y] + rng.standard_normal((num_examples, dim))).astype(dtype)
    return X[:240], y[:240], X[240:], y[240:]


def test_training_fits_separable_data_with_one_accuracy_entry_per_epoch():
    X, y, X_val, y_val = separable_problem()
    net = TwoLayerNet(10, 20, 3, std=1e-2, seed=0)
    stats = net.train(X, y, X_val, y_val, learning_rate=0.5, reg=1e-4, num_iters=60, batch_size=50, seed=0)
    assert len(stats["loss_history"]) == 60
    assert np.mean(stats["loss_history"][-5:]) < 0.25 * stats["loss_history"][0]
    # An epoch is ceil(240 / 50) = 5 steps: accuracies after steps 0, 5, ..., 55.
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 12
    assert all(isinstance(value, float) for value in stats["val_acc_history"])
    assert stats["val_acc_history"][-1] > 0.9
    predicted = net.predict(X_val)
    assert predicted.dtype == np.int64 and predicted.shape == y_val.shape
    np.testing.assert_array_equal(predicted, np.argmax(net.loss(X_val), axis=1))


def test_the_learning_rate_decays_after_the_first_step_of_each_epoch():
    X, y, X_val, y_val = separable_problem()

    def second_step(decay):
        """W2's change in step 2; batch_size=240 makes each step an epoch, the seed the same two minibatches."""
        net = TwoLayerNet(10, 20, 3, std=1e-2, seed=0)
        net.train(X, y, X_val, y_val, learning_rate=0.1, learning_rate_decay=decay, num_iters=1, batch_size=240,
                  seed=0)
        after_one = net.params["W2"].copy()
        net = TwoLayerNet(10, 20, 3, std=1e-2, seed=0)
        net.train(X, y, X_val, y_val, learning_rate=0.1, learning_rate_decay=decay, num_iters=2, batch_size=240,
                  seed=0)
        return net.params["W2"] - after_one

    np.testing.assert_allclose(second_step(0.5), 0.5 * second_step(1.0), rtol=1e-10, atol=1e-15)


def test_float32_data_trains_a_float32_network_that_agrees_with_float64():
    X, y, X_val, y_val = separable_problem(dtype=np.float32)
    net = TwoLayerNet(10, 20, 3, std=1e-2, seed=0)
    stats = net.train(X, y, X_val, y_val, learning_rate=0.5, num_iters=30, batch_size=50, seed=0)
    assert all(net.params[name].dtype == np.float32 for name in net.params)
    loss32, grads32 = net.loss(X, y, reg=0.1)
    assert all(grads32[name].dtype == np.float32 for name in grads32)
    assert net.loss(X).dtype == np.float32
    as64 = TwoLayerNet(10, 20, 3)
    as64.params = {name: value.astype(np.float64) for name, value in net.params.items()}
    loss64, grads64 = as64.loss(X.astype(np.float64), y, reg=0.1)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in grads64:
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-3, atol=1e-5, err_msg=name)
    assert stats["val_acc_history"][-1] > 0.9


def test_integer_pixels_are_accepted_and_give_float_scores():
    net = TwoLayerNet(4, 5, 3, std=1e-3, seed=0)
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_allclose(net.loss(pixels), net.loss(pixels.astype(np.float64)))


def test_a_seed_fixes_the_network_and_training_and_equals_the_global_seed(global_random_state):
    X, y, X_val, y_val = separable_problem(seed=2)
    runs = []
    for seed in (3, 3, 4):
        net = TwoLayerNet(10, 8, 3, std=1e-2, seed=seed)
        stats = net.train(X, y, X_val, y_val, learning_rate=0.1, num_iters=20, batch_size=30, seed=seed)
        runs.append((stats["loss_history"], net.params["W1"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])

    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    seeded = TwoLayerNet(10, 8, 3, seed=7)
    assert np.array_equal(np.random.get_state()[1], before)  # a seed leaves the global generator alone
    np.random.seed(7)
    from_global = TwoLayerNet(10, 8, 3)
    for name in seeded.params:
        np.testing.assert_array_equal(seeded.params[name], from_global.params[name])


def test_check_input_false_gives_what_the_checked_call_gives():
    net, X, y = small_problem(seed=3)
    checked = net.loss(X, y, reg=0.2)
    unchecked = net.loss(X, y, reg=0.2, check_input=False)
    assert checked[0] == unchecked[0]
    for name in checked[1]:
        np.testing.assert_array_equal(checked[1][name], unchecked[1][name])


def test_predict_with_check_input_false_gives_what_the_checked_call_gives():
    net, X, _ = small_problem(seed=4)
    np.testing.assert_array_equal(net.predict(X, check_input=False), net.predict(X))


def test_train_validates_once_and_its_steps_and_epoch_accuracies_do_not_validate_again(count_calls):
    X, y, X_val, y_val = separable_problem()
    checks = {"params": count_calls(TwoLayerNet, "_checked_params"),
              "params and X": count_calls(TwoLayerNet, "_checked_inputs"),
              "finite data": count_calls(neural_net, "check_finite")}
    stats = TwoLayerNet(10, 5, 3, seed=0).train(X, y, X_val, y_val, num_iters=30, batch_size=60, seed=0)
    assert len(stats["val_acc_history"]) == 8  # an epoch is 4 steps: 8 epochs, each with two predictions
    assert {what: len(calls) for what, calls in checks.items()} == {"params": 1, "params and X": 0, "finite data": 2}


def test_verbose_training_prints_progress_every_hundred_iterations(capsys):
    X, y, X_val, y_val = separable_problem()
    TwoLayerNet(10, 5, 3, seed=0).train(X, y, X_val, y_val, num_iters=201, verbose=True, seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["iteration 0 / 201", "iteration 100 / 201", "iteration 200 / 201"]


def train_recording_warnings(net, *args, **kwargs):
    """``net.train(*args, **kwargs)`` and every warning it issued (each one, not Python's first only)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = net.train(*args, **kwargs)
    return stats, caught


def test_weight_decay_above_one_step_warns_once_stops_and_leaves_a_chance_level_network():
    X, y, X_val, y_val = separable_problem()
    net = TwoLayerNet(10, 20, 3, std=1e-2, seed=0)
    # Each step multiplies the weights by 1 - 2 * 1e-3 * 5e4 = -99, faster than the decay can stop it.
    stats, caught = train_recording_warnings(net, X * 100, y, X_val * 100, y_val, learning_rate=1e-3, reg=5e4,
                                             num_iters=1000, batch_size=50, seed=0)
    assert [type(w.message) for w in caught] == [RuntimeWarning]  # one warning, none of numpy's
    message = str(caught[0].message)
    history = stats["loss_history"]
    assert re.search(rf"TwoLayerNet\.train diverged at iteration {len(history) - 1} / 1000 \(learning_rate=0\.001, "
                     r"0\.000\d+ after decay, reg=50000\): the (loss became (inf|nan)|parameters are inf or nan)",
                     message), message
    assert "learning_rate * reg = 50 is above 1" in message and "learning_rate < 1e-05 for reg=50000" in message
    assert caught[0].filename == __file__  # attributed to the caller's line, not to the library
    assert 1 < len(history) < 1000
    assert np.all(np.isfinite(history[:-1])) and not np.isfinite(history[-1])
    assert all(np.all(np.isnan(value)) for value in net.params.values())
    np.testing.assert_array_equal(net.predict(X_val), 0)

    # Training it again, as a search's second phase would, warns once more and trains nothing.
    stats, caught = train_recording_warnings(net, X, y, X_val, y_val, learning_rate=1e-4, num_iters=50, seed=1)
    assert len(stats["loss_history"]) == 1 and not np.isfinite(stats["loss_history"][0])
    assert [type(w.message) for w in caught] == [RuntimeWarning]
    assert "nothing was trained" in str(caught[0].message)


def test_a_too_large_step_without_reg_advises_a_smaller_learning_rate():
    X, y, X_val, y_val = separable_problem()
    net = TwoLayerNet(10, 20, 3, std=1.0, seed=0)
    stats, caught = train_recording_warnings(net, X * 1e3, y, X_val, y_val, learning_rate=1e3, reg=0.0,
                                             num_iters=200, batch_size=50, seed=0)
    assert [type(w.message) for w in caught] == [RuntimeWarning]
    assert "try a learning_rate 10 times smaller" in str(caught[0].message)
    assert len(stats["loss_history"]) < 200


def test_the_loss_rejects_the_nan_parameters_of_a_diverged_network():
    net, X, y = small_problem()
    net.params["W2"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"params\['W2'\] contains NaN or infinite values; if the network comes "
                                         r"from a training run that diverged"):
        net.loss(X, y)


def valid_training_arguments():
    X, y, X_val, y_val = separable_problem(num_examples=260)
    return {"X": X, "y": y, "X_val": X_val, "y_val": y_val}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X": np.zeros((240, 10, 1))}, r"X must be a 2-D array, got shape \(240, 10, 1\); reshape images"),
        ({"X": np.zeros((240, 11))},
         "X has 11 columns but the network expects 10 .* drop the bias column if you appended one"),
        ({"X": np.zeros((0, 10)), "y": np.zeros(0, dtype=int)}, "X holds no examples to train on"),
        ({"y": np.full(240, 3)}, r"y must lie in \[0, 2\], found values from 3 to 3"),
        ({"y": np.zeros(239, dtype=int)}, r"y must be a 1-D array with one label per example \(240\)"),
        ({"X_val": np.zeros((20, 9))}, "X_val has 9 columns but the network expects 10"),
        ({"y_val": np.full(20, -1)}, r"y_val must lie in \[0, 2\]"),
        ({"X_val": np.full((20, 10), np.inf)}, "X_val contains NaN or infinite values"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
        ({"learning_rate_decay": -0.5}, "learning_rate_decay must be a finite number > 0"),
        ({"reg": -1.0}, "reg must be a finite number >= 0"),
        ({"num_iters": 0}, "num_iters must be a positive integer"),
        ({"batch_size": True}, "batch_size must be a positive integer, got True"),
        ({"seed": -1}, r"seed must be None .* or an integer in \[0, 2\*\*32 - 1\], got -1"),
    ],
)
def test_bad_training_arguments_raise_value_error_naming_them(change, message):
    arguments = valid_training_arguments()
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        TwoLayerNet(10, 5, 3, seed=0).train(**arguments)


def test_nan_in_the_training_data_is_named():
    arguments = valid_training_arguments()
    arguments["X"][7, 3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        TwoLayerNet(10, 5, 3, seed=0).train(**arguments)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda net, X, y: net.loss(X[:, :3], y), "X has 3 columns but the network expects 5"),
        (lambda net, X, y: net.loss(X, y + 10), r"y must lie in \[0, 3\]"),
        (lambda net, X, y: net.loss(X, y, reg=float("nan")), "reg must be a finite number >= 0, got nan"),
        (lambda net, X, y: net.loss(X[:0], y[:0]), "X holds no examples; the loss is a mean"),
        (lambda net, X, y: net.loss(np.where(X > 1, np.nan, X), y), "X contains NaN or infinite values"),
        (lambda net, X, y: net.loss(X.astype(str), y), "X must hold numbers, got dtype <U"),
        (lambda net, X, y: net.predict(X.ravel()), r"X must be a 2-D array, got shape \(35,\)"),
    ],
)
def test_bad_loss_and_predict_arguments_raise_value_error_naming_them(call, message):
    net, X, y = small_problem()
    with pytest.raises(ValueError, match=message):
        call(net, X, y)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda params: params.update(b1=np.zeros(4)),
         r"params\['b1'\] has shape \(4,\) but W1 of shape \(5, 6\) and W2 of shape \(6, 4\) make it \(6,\)"),
        (lambda params: params.pop("b2"), r"params lacks \['b2'\]"),
        (lambda params: params.update(W2=np.zeros(6)), r"params\['W1'\] and params\['W2'\] must be 2-D"),
        (lambda params: params.update(W1=np.zeros((5, 6), dtype=int)), r"params\['W1'\] must be floating point"),
    ],
)
def test_edited_parameters_of_the_wrong_shape_are_named(edit, message):
    net, X, y = small_problem()
    edit(net.params)
    with pytest.raises(ValueError, match=message):
        net.loss(X, y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer, got 0"),
        ({"input_size": 3.0}, "input_size must be a positive integer, got 3.0"),
        ({"std": -1e-4}, "std must be a finite number >= 0, got -0.0001"),
        ({"seed": 2**32}, "seed must be None"),
        ({"seed": "0"}, "seed must be None"),
    ],
)
def test_bad_constructor_arguments_raise_value_error_naming_them(kwargs, message):
    arguments = {"input_size": 4, "hidden_size": 5, "output_size": 3}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        TwoLayerNet(**arguments)


def test_the_constructor_keeps_cs231n_shapes_and_zero_biases():
    net = TwoLayerNet(3072, 50, 10, seed=0)
    assert {name: value.shape for name, value in net.params.items()} == {
        "W1": (3072, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert not net.params["b1"].any() and not net.params["b2"].any()
    assert net.params["W1"].std() == pytest.approx(1e-4, rel=0.05)
