"""The shared input checks: a fast finiteness check that is still exact; overflow is not bad input."""

import numpy as np
import pytest

from solutions.cs231n.classifiers.input_checks import check_finite, check_finite_scores


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
