"""The shared input checks: an exact fast finiteness check, overflow not taken for bad input, the loss decorator."""

import numpy as np
import pytest

from solutions.cs231n.classifiers.input_checks import (
    check_finite,
    check_finite_scores,
    unchecked_loss,
    validate_loss_inputs,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_any_single_non_finite_entry_is_found(dtype, bad):
    rng = np.random.default_rng(0)
    for row, col in [(0, 0), (17, 5), (49, 63)]:
        X = rng.standard_normal((50, 64)).astype(dtype)
        X[row, col] = bad
        with pytest.raises(ValueError, match="X contains NaN or infinite values"):
            check_finite("X", X)


@pytest.mark.filterwarnings("error")
def test_opposite_infinities_in_one_row_are_found():
    X = np.zeros((3, 4))
    X[1, 0], X[1, 2] = np.inf, -np.inf  # the row sum is NaN, not an infinity
    with pytest.raises(ValueError, match="W contains NaN"):
        check_finite("W", X)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_rows_whose_sums_overflow_are_accepted(dtype):
    big = np.finfo(dtype).max / 2
    X = np.full((4, 8), big, dtype=dtype)  # every row sum overflows to +inf, every entry is finite
    check_finite("X", X)


def test_finite_data_of_any_shape_passes():
    for shape in [(0, 5), (5, 0), (1, 1), (300, 3073)]:
        check_finite("X", np.ones(shape, dtype=np.float32))


def test_non_finite_scores_are_blamed_on_x_only_when_x_is_not_finite():
    X = np.ones((3, 4))
    X[2, 1] = np.nan
    scores = np.array([[1.0, 2.0], [3.0, 4.0], [np.nan, np.nan]])  # (N, C)
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        check_finite_scores(scores, X)
    # The same scores from finite X are overflow (weights grown too large), which the loss reports as inf/nan.
    assert check_finite_scores(scores, np.ones((3, 4))) is None
    assert check_finite_scores(np.full((3, 2), np.inf), np.ones((3, 4))) is None


def decorated_loss(constant):
    """A loss function under validate_loss_inputs whose body returns ``constant`` and a zero gradient."""

    @validate_loss_inputs
    def loss(W, X, y, reg):
        return constant, np.zeros_like(W)

    return loss


def test_a_loss_reloaded_by_ipython_autoreload_runs_its_new_body_checked_and_unchecked():
    # %autoreload 2 (the notebooks' setting) keeps the function objects a notebook and the classifiers already
    # hold, and gives them the reloaded function's code and __dict__; the edited body must be what runs.
    autoreload = pytest.importorskip("IPython.extensions.autoreload")
    held, edited = decorated_loss(1.0), decorated_loss(2.0)
    autoreload.update_function(held, edited)
    W, X, y = np.zeros((3, 2)), np.eye(3), np.array([0, 1, 0])
    assert held(W, X, y, 0.0)[0] == 2.0
    assert unchecked_loss(held)(W, X, y, 0.0)[0] == 2.0


def test_unchecked_loss_is_the_body_of_a_decorated_loss_and_any_other_function_itself():
    loss = decorated_loss(1.0)
    assert unchecked_loss(loss) is loss.unchecked is loss.__wrapped__

    def plain(W, X, y, reg):
        return 0.0, np.zeros_like(W)

    assert unchecked_loss(plain) is plain
