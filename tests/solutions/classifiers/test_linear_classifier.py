"""The reference SGD training: it learns, it is seeded, it validates its arguments."""

import numpy as np
import pytest

from solutions.cs231n.classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax


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
