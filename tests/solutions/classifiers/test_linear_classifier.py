"""The reference SGD training: it learns, it is seeded, it validates its arguments once, it survives divergence."""

import re
import warnings

import numpy as np
import pytest

from solutions.cs231n.classifiers import input_checks, linear_classifier
from solutions.cs231n.classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax
from solutions.cs231n.classifiers.linear_svm import svm_loss_vectorized
from solutions.cs231n.classifiers.softmax import softmax_loss_vectorized


def separable_problem(seed=0, num_examples=300, dim=20, num_classes=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_classes, dim)) * 3
    y = rng.integers(0, num_classes, num_examples)
    X = centres[y] + rng.standard_normal((num_examples, dim))
    X = np.hstack([X, np.ones((num_examples, 1))]).astype(dtype)  # bias column
    return X, y


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_training_lowers_the_loss_and_fits_separable_data(model):
    X, y = separable_problem()
    classifier = model()
    history = classifier.train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=300, batch_size=50, seed=0)
    assert len(history) == 300
    assert np.mean(history[-20:]) < 0.5 * np.mean(history[:5])
    predicted = classifier.predict(X)
    assert predicted.dtype == np.int64 and predicted.shape == y.shape
    assert np.mean(predicted == y) > 0.9


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_the_same_seed_gives_the_same_model_and_another_seed_does_not(model):
    X, y = separable_problem(seed=1)
    runs = []
    for seed in (3, 3, 4):
        classifier = model()
        runs.append((classifier.train(X, y, num_iters=20, seed=seed), classifier.W.copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])


def test_float32_data_trains_a_float32_model():
    X, y = separable_problem(dtype=np.float32)
    classifier = Softmax()
    classifier.train(X, y, num_iters=10, seed=0)
    assert classifier.W.dtype == np.float32


def test_verbose_training_prints_progress_every_hundred_iterations(capsys):
    X, y = separable_problem()
    LinearSVM().train(X, y, num_iters=201, verbose=True, seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["iteration 0 / 201", "iteration 100 / 201", "iteration 200 / 201"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"reg": -1.0}, "reg must be a finite number >= 0"),
        ({"num_iters": 0}, "num_iters must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ],
)
def test_bad_training_arguments_raise_value_error_naming_them(kwargs, message):
    X, y = separable_problem()
    with pytest.raises(ValueError, match=message):
        LinearSVM().train(X, y, **kwargs)


def test_bad_data_raises_value_error_naming_it():
    X, y = separable_problem()
    with pytest.raises(ValueError, match="y must be a 1-D array with one label per example"):
        LinearSVM().train(X, y[:-1])
    X[3, 3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        LinearSVM().train(X, y)


def test_predict_checks_the_model_and_the_data():
    with pytest.raises(ValueError, match="not trained yet"):
        Softmax().predict(np.zeros((1, 3)))
    X, y = separable_problem()
    classifier = Softmax()
    classifier.train(X, y, num_iters=1, seed=0)
    with pytest.raises(ValueError, match="X has 3 columns but the model expects 21"):
        classifier.predict(np.zeros((2, 3)))


def test_the_base_class_says_which_subclass_to_use():
    X, y = separable_problem()
    with pytest.raises(NotImplementedError, match="use LinearSVM or Softmax"):
        LinearClassifier().train(X, y, num_iters=1)


def train_recording_warnings(classifier, X, y, **kwargs):
    """``classifier.train(X, y, **kwargs)`` and every warning it issued (each one, not Python's first only)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = classifier.train(X, y, **kwargs)
    return history, caught


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_weight_decay_above_one_step_warns_once_stops_records_inf_and_drops_the_weights(model):
    X, y = separable_problem(num_examples=200)
    X *= 100.0  # pixel-sized features, as in CS231n's grid at learning rate 4e-5, reg 5e4
    classifier = model()
    history, caught = train_recording_warnings(classifier, X, y, learning_rate=4e-5, reg=5e4, num_iters=1500,
                                               batch_size=50, seed=0)
    assert [type(w.message) for w in caught] == [RuntimeWarning]  # one warning, none of numpy's
    message = str(caught[0].message)
    assert re.search(rf"{model.__name__}\.train diverged at iteration {len(history) - 1} / 1500 "
                     r"\(learning_rate=4e-05, reg=50000\): the loss became (inf|nan)", message), message
    assert "learning_rate * reg = 2 is above 1" in message and "learning_rate < 1e-05 for reg=50000" in message
    assert caught[0].filename == __file__  # attributed to the caller's line, not to the library
    assert 1 < len(history) < 1500
    assert np.all(np.isfinite(history[:-1])) and not np.isfinite(history[-1])
    # The diverged weights are dropped: NaN scores make every prediction class 0, a chance-level model.
    assert np.all(np.isnan(classifier.W))
    predicted = classifier.predict(X)
    assert predicted.dtype == np.int64 and predicted.shape == y.shape
    np.testing.assert_array_equal(predicted, 0)


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_training_a_diverged_model_again_warns_and_leaves_it_instead_of_raising(model):
    X, y = separable_problem(num_examples=200)
    classifier = model()
    _, caught = train_recording_warnings(classifier, X * 100, y, learning_rate=4e-5, reg=5e4, num_iters=1500, seed=0)
    assert len(caught) == 1
    weights = classifier.W.copy()
    # The second phase of a search at a tenth of the rate, as the notebooks run it.
    history, caught = train_recording_warnings(classifier, X * 100, y, learning_rate=4e-6, reg=5e4, num_iters=100,
                                               seed=1)
    assert len(history) == 1 and not np.isfinite(history[0])
    assert [type(w.message) for w in caught] == [RuntimeWarning]
    assert "the weights this call started from" in str(caught[0].message)
    assert "an earlier call to train diverged" in str(caught[0].message)
    np.testing.assert_array_equal(classifier.W, weights)  # still all NaN


def test_weights_that_overflow_in_one_step_stop_training_with_the_advice_for_large_steps():
    X, y = separable_problem()
    classifier = LinearSVM()
    history, caught = train_recording_warnings(classifier, X, y, learning_rate=1e308, reg=0.0, num_iters=20, seed=0)
    assert [type(w.message) for w in caught] == [RuntimeWarning]
    message = str(caught[0].message)
    assert "diverged at iteration 1 / 20" in message and "the weights are inf or nan" in message
    assert "try a learning_rate 10 times smaller" in message
    assert len(history) == 2 and np.isfinite(history[0]) and not np.isfinite(history[1])
    assert np.all(np.isnan(classifier.W))
    np.testing.assert_array_equal(classifier.predict(X), np.zeros(y.shape))


def test_a_last_step_that_overflows_the_weights_is_still_reported():
    X, y = separable_problem()
    classifier = LinearSVM()
    history, caught = train_recording_warnings(classifier, X, y, learning_rate=1e308, reg=0.0, num_iters=1, seed=0)
    assert len(history) == 1 and np.isfinite(history[0])
    assert len(caught) == 1 and "iteration 0 / 1" in str(caught[0].message)
    assert "its update made the weights inf or nan" in str(caught[0].message)
    assert np.all(np.isnan(classifier.W))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_a_stable_setting_trains_without_any_warning(model):
    X, y = separable_problem()
    history = model().train(X * 100, y, learning_rate=1e-5, reg=5e4, num_iters=300, seed=0)  # rate * reg = 0.5
    assert len(history) == 300 and np.all(np.isfinite(history))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (np.where(X > 4, np.nan, X), y), "X contains NaN"),
        (lambda X, y: (X, y - 1), r"y must lie in \[0, any\], found values from -1"),
        (lambda X, y: (X.reshape(len(X), 3, 7), y), "X must be a 2-D array"),
        (lambda X, y: (X, y[:, None]), "y must be a 1-D array with one label per example"),
    ],
)
def test_bad_input_still_raises_at_settings_that_diverge(change, message):
    X, y = separable_problem()
    X[0, 0] = 5.0  # guarantees the NaN case has a NaN to find
    X, y = change(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bad input is an error before any training, never a warning
        with pytest.raises(ValueError, match=message):
            LinearSVM().train(X, y, learning_rate=4e-5, reg=5e4, num_iters=1500)


def test_divergence_replaces_the_weights_without_writing_into_an_array_the_caller_holds():
    X, y = separable_problem()
    start = np.full((21, 3), 1e200)  # finite, but the regularization loss overflows at once
    classifier = LinearSVM()
    classifier.W = start
    _, caught = train_recording_warnings(classifier, X, y, learning_rate=1e-3, reg=1.0, num_iters=5, seed=0)
    assert len(caught) == 1 and "an earlier call to train diverged" in str(caught[0].message)
    assert np.all(np.isnan(classifier.W))
    np.testing.assert_array_equal(start, 1e200)


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_train_validates_its_data_once_and_no_training_step_validates_again(count_calls, model):
    X, y = separable_problem()
    # train's own checks, as linear_classifier imported them, and the same checks as input_checks calls them
    # from inside check_loss_inputs and check_finite_scores, which the public loss functions run on every call.
    checks = ("as_float_matrix", "as_labels", "as_reg", "check_finite")
    training = {name: count_calls(linear_classifier, name) for name in checks}
    per_call = {name: count_calls(input_checks, name) for name in checks + ("check_loss_inputs", "check_finite_scores")}
    history = model().train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=40, batch_size=30, seed=0)
    assert len(history) == 40
    assert {name: len(calls) for name, calls in training.items()} == dict.fromkeys(training, 1)
    assert {name: len(calls) for name, calls in per_call.items()} == dict.fromkeys(per_call, 0)


@pytest.mark.parametrize("model", [LinearSVM, Softmax])
def test_the_unchecked_steps_train_the_same_model_as_the_checked_loss_functions(model):
    X, y = separable_problem(seed=2)
    checked_loss = svm_loss_vectorized if model is LinearSVM else softmax_loss_vectorized

    class CheckedEveryStep(model):
        def loss(self, X_batch, y_batch, reg):
            return checked_loss(self.W, X_batch, y_batch, reg)

    runs = []
    for classifier in (model(), CheckedEveryStep()):
        runs.append((classifier.train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=50, seed=5), classifier.W))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: {"reg": -1.0}, "reg must be a finite number >= 0"),
        (lambda X, y: {"reg": float("inf")}, "reg must be a finite number >= 0"),
        (lambda X, y: {"learning_rate": float("nan")}, "learning_rate must be a finite number > 0"),
        (lambda X, y: {"y": y - 1}, r"y must lie in \[0, any\], found values from -1"),
        (lambda X, y: {"y": y[:-1]}, "y must be a 1-D array with one label per example"),
        (lambda X, y: {"y": y + 0.5}, "y must hold integer class labels"),
        (lambda X, y: {"X": np.where(X > 4, np.nan, X)}, "X contains NaN or infinite values"),
        (lambda X, y: {"X": np.where(X > 4, -np.inf, X)}, "X contains NaN or infinite values"),
    ],
)
def test_bad_arguments_are_refused_before_the_first_step(count_calls, change, message):
    X, y = separable_problem()
    X[0, 0] = 5.0  # guarantees the NaN and inf cases have one to find
    arguments = {"X": X, "y": y, "learning_rate": 1e-3, "reg": 1e-5, "num_iters": 10, "seed": 0}
    arguments.update(change(X, y))
    steps = count_calls(LinearSVM, "loss")
    classifier = LinearSVM()
    with pytest.raises(ValueError, match=message):
        classifier.train(**arguments)
    assert steps == [] and classifier.W is None


def test_a_loss_function_redefined_with_cs231n_plain_signature_is_still_used_for_training(monkeypatch):
    # A student or a test may replace svm_loss_vectorized by a plain (W, X, y, reg) function without the
    # decorator: training must call it as it is, not its (absent) unchecked body.
    X, y = separable_problem()
    calls = []

    def plain_svm_loss(W, X, y, reg):
        calls.append(X.shape)
        return svm_loss_vectorized(W, X, y, reg)

    monkeypatch.setattr(linear_classifier, "svm_loss_vectorized", plain_svm_loss)
    history = LinearSVM().train(X, y, learning_rate=1e-2, reg=1e-3, num_iters=12, batch_size=40, seed=0)
    assert len(history) == 12 and calls == [(40, X.shape[1])] * 12


class ColumnOfIndices(np.random.Generator):
    """A generator whose ``integers`` returns a column of indices, as a sampling mistake in train would."""

    def integers(self, low, high=None, size=None, **kwargs):
        return super().integers(low, high, size=(size, 1), **kwargs)


def test_a_minibatch_of_the_wrong_shape_is_named_before_the_unchecked_loss_runs(count_calls):
    X, y = separable_problem()
    steps = count_calls(LinearSVM, "loss")
    # np.random.default_rng returns a Generator passed as the seed unchanged, so train samples with this one.
    with pytest.raises(ValueError, match=r"the sampled minibatch must be X_batch of shape \(20, 21\) and y_batch of "
                                         r"shape \(20,\), got \(20, 1, 21\) and \(20, 1\): see the TODO on sampling"):
        LinearSVM().train(X, y, num_iters=5, batch_size=20, seed=ColumnOfIndices(np.random.PCG64(0)))
    assert steps == []
