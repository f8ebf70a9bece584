"""The reference SVM and softmax losses: loops vs vectorized, finite differences, the course's worked examples."""

import inspect

import numpy as np
import pytest

from solutions.cs231n.classifiers import input_checks
from solutions.cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

LOSSES = {
    "svm": (svm_loss_naive, svm_loss_vectorized),
    "softmax": (softmax_loss_naive, softmax_loss_vectorized),
}
ALL_FUNCTIONS = [svm_loss_naive, svm_loss_vectorized, softmax_loss_naive, softmax_loss_vectorized]

# Scores of three images (rows: cat, car, frog images) for the classes (cat, car, frog), from the notes.
WORKED_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
WORKED_LABELS = np.array([0, 1, 2])


def relative_error(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300)


def random_problem(seed, num_examples=40, dim=30, num_classes=7, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((dim, num_classes)) * 0.1).astype(dtype)
    X = rng.standard_normal((num_examples, dim)).astype(dtype)
    y = rng.integers(0, num_classes, num_examples)
    return W, X, y


def centred_gradient(loss, W, X, y, reg, h=1e-6):
    grad = np.zeros_like(W)
    for index in np.ndindex(*W.shape):
        plus, minus = W.copy(), W.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (loss(plus, X, y, reg)[0] - loss(minus, X, y, reg)[0]) / (2 * h)
    return grad


@pytest.mark.parametrize("family", sorted(LOSSES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_naive_and_vectorized_agree_on_loss_and_gradient_with_strong_reg(family, seed):
    naive, vectorized = LOSSES[family]
    W, X, y = random_problem(seed)
    # reg = 5 makes the regularization term a large share of the loss: a missing or halved term fails.
    loss_naive, grad_naive = naive(W, X, y, 5.0)
    loss_vec, grad_vec = vectorized(W, X, y, 5.0)
    assert abs(loss_naive - loss_vec) / abs(loss_naive) < 1e-9
    assert relative_error(grad_naive, grad_vec) < 1e-9
    reg_share = 5.0 * np.sum(W * W) / loss_vec
    assert reg_share > 0.05


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("reg", [0.0, 2.5])
def test_analytic_gradient_matches_centred_differences(loss, reg):
    W, X, y = random_problem(seed=3, num_examples=15, dim=8, num_classes=5)
    _, analytic = loss(W, X, y, reg)
    numerical = centred_gradient(loss, W, X, y, reg)
    # Random continuous data lies away from hinge kinks with probability 1 at this step size.
    assert relative_error(analytic, numerical) < 1e-6


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_regularization_adds_reg_times_squared_norm(loss):
    W, X, y = random_problem(seed=4)
    loss_without, grad_without = loss(W, X, y, 0.0)
    loss_with, grad_with = loss(W, X, y, 0.7)
    assert loss_with - loss_without == pytest.approx(0.7 * np.sum(W * W), rel=1e-12)
    np.testing.assert_allclose(grad_with - grad_without, 2 * 0.7 * W, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", [svm_loss_naive, svm_loss_vectorized], ids=lambda f: f.__name__)
def test_svm_reproduces_the_notes_cat_car_frog_example(loss):
    X = np.eye(3)  # with identity inputs the scores are the rows of W
    per_image = [loss(WORKED_SCORES, X[i : i + 1], WORKED_LABELS[i : i + 1], 0.0)[0] for i in range(3)]
    assert per_image == pytest.approx([2.9, 0.0, 12.9], abs=1e-12)
    assert loss(WORKED_SCORES, X, WORKED_LABELS, 0.0)[0] == pytest.approx(5.27, abs=0.005)


@pytest.mark.parametrize("loss", [softmax_loss_naive, softmax_loss_vectorized], ids=lambda f: f.__name__)
def test_softmax_reproduces_the_notes_cat_example(loss):
    cat_loss, _ = loss(WORKED_SCORES, np.eye(3)[:1], WORKED_LABELS[:1], 0.0)
    assert cat_loss == pytest.approx(2.04, abs=0.005)


@pytest.mark.parametrize(
    ("loss", "expected"),
    [(svm_loss_naive, 9.0), (svm_loss_vectorized, 9.0), (softmax_loss_naive, np.log(10)), (softmax_loss_vectorized, np.log(10))],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_loss_at_tiny_weights_is_c_minus_one_for_svm_and_log_c_for_softmax(loss, expected):
    rng = np.random.default_rng(5)
    W = rng.standard_normal((3073, 10)) * 1e-7
    X = rng.standard_normal((50, 3073))
    y = rng.integers(0, 10, 50)
    assert loss(W, X, y, 0.0)[0] == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("loss", [softmax_loss_naive, softmax_loss_vectorized], ids=lambda f: f.__name__)
def test_softmax_is_finite_for_scores_around_ten_thousand(loss):
    W = np.array([[1e4, -1e4, 9e3], [2e4, 1e4, -3e4]])
    X = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    y = np.array([1, 0, 2])
    value, grad = loss(W, X, y, 0.0)
    assert np.isfinite(value) and value > 1e3
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("family", sorted(LOSSES))
def test_float32_inputs_give_a_float32_gradient_close_to_float64(family):
    _, vectorized = LOSSES[family]
    W, X, y = random_problem(seed=6)
    loss64, grad64 = vectorized(W, X, y, 1.0)
    loss32, grad32 = vectorized(W.astype(np.float32), X.astype(np.float32), y, 1.0)
    assert grad32.dtype == np.float32
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert relative_error(grad32.astype(np.float64), grad64) < 1e-5


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_single_example_and_integer_pixels_are_accepted(loss):
    W, _, _ = random_problem(seed=7, dim=12, num_classes=4)
    X = np.arange(12, dtype=np.uint8).reshape(1, 12)
    value, grad = loss(W, X, np.array([2]), 0.0)
    reference, _ = loss(W, X.astype(np.float64), np.array([2]), 0.0)
    assert value == pytest.approx(reference)
    assert grad.shape == W.shape


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda W, X, y: (W, X[:, :-1], y), "X has 29 columns but W has 30 rows"),
        (lambda W, X, y: (W, X, y[:-1]), "y must be a 1-D array with one label per example"),
        (lambda W, X, y: (W, X, np.where(y == y[0], 7, y)), r"y must lie in \[0, 6\]"),
        (lambda W, X, y: (W, X, y - 10), r"y must lie in \[0, 6\]"),
        (lambda W, X, y: (W, X, y.astype(float) + 0.5), "y must hold integer class labels"),
        (lambda W, X, y: (W, np.where(X > 2, np.nan, X), y), "X contains NaN"),
        (lambda W, X, y: (np.where(W > 0.1, np.nan, W), X, y), "W contains NaN"),
        (lambda W, X, y: (W, X[0], y), "X must be a 2-D array"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(loss, change, message):
    W, X, y = random_problem(seed=8)
    X[0, 0] = 3.0  # guarantees the NaN case has a NaN to find
    W, X, y = change(W, X, y)
    with pytest.raises(ValueError, match=message):
        loss(W, X, y, 0.1)


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("reg", [-1.0, float("nan"), "0.1"])
def test_invalid_reg_is_rejected(loss, reg):
    W, X, y = random_problem(seed=9)
    with pytest.raises(ValueError, match="reg must be a finite number >= 0"):
        loss(W, X, y, reg)


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_scores_that_overflow_from_finite_weights_give_a_non_finite_loss_not_an_error(loss):
    W, X, y = random_problem(seed=10)
    W *= 1e307  # finite weights of a run that diverged: every score overflows
    with np.errstate(over="ignore", invalid="ignore"):
        value, grad = loss(W, X, y, 0.0)
    assert not np.isfinite(value)
    assert grad.shape == W.shape


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_infinite_weights_are_rejected_with_the_remedy_for_a_diverged_run(loss):
    W, X, y = random_problem(seed=11)
    W[2, 3] = np.inf
    with pytest.raises(ValueError, match="W contains NaN or infinite values; if W comes from a training run that "
                                         "diverged, train a new model with a smaller learning_rate or reg"):
        loss(W, X, y, 0.1)


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_the_public_loss_functions_keep_cs231n_signature_name_and_docstring(loss):
    assert list(inspect.signature(loss).parameters) == ["W", "X", "y", "reg"]
    assert loss.__name__ == loss.unchecked.__name__ and loss.__doc__ == loss.unchecked.__doc__


def infinity_hidden_from_the_svm_loss(bad):
    """W, X, y where X[2, 4] is ``bad`` and row 2's scores are +-inf with the correct class's on top."""
    W, X, y = random_problem(seed=12, num_examples=6, dim=5, num_classes=3)
    y[2] = 2
    W[4] = [-1.0, -1.0, 1.0] if bad > 0 else [1.0, 1.0, -1.0]
    X[2, 4] = bad
    return W, X, y


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_an_infinity_in_x_is_refused_even_where_the_loss_stays_finite(loss, bad):
    W, X, y = infinity_hidden_from_the_svm_loss(bad)
    with np.errstate(invalid="ignore", over="ignore"):  # numpy's own warnings on the way are not the point
        # Every margin of row 2 is -inf, so it adds 0 to the SVM loss: only inf * 0 = nan in the gradient
        # X.T @ G shows the infinity, and that is what the check after the body looks at.
        value, dW = svm_loss_vectorized.unchecked(W, X, y, 0.1)
        assert np.isfinite(value) and not np.all(np.isfinite(dW))
        with pytest.raises(ValueError, match="X contains NaN or infinite values"):
            loss(W, X, y, 0.1)


@pytest.mark.parametrize("loss", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_every_call_of_a_public_loss_function_validates_and_its_unchecked_body_does_not(count_calls, loss):
    W, X, y = random_problem(seed=13)
    calls = count_calls(input_checks, "check_loss_inputs")
    checked = [loss(W, X, y, 0.3) for _ in range(3)]
    assert len(calls) == 3
    unchecked = loss.unchecked(W, X, y, 0.3)
    assert len(calls) == 3
    assert unchecked[0] == checked[0][0]
    np.testing.assert_array_equal(unchecked[1], checked[0][1])
