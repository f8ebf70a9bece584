"""The notebooks' checks: they return numbers, and a failure says what was expected, what came, and why."""

import re

import numpy as np
import pytest

from cs231n.checks import FIRST_ENTRIES, check_below, check_close


def distances(seed=0):
    rng = np.random.default_rng(seed)
    test = rng.integers(0, 256, (3, 12)).astype(np.float64)
    train = rng.integers(0, 256, (7, 12)).astype(np.float64)
    return np.sqrt(((test[:, None, :] - train[None, :, :]) ** 2).sum(axis=2))  # (3, 7), a few hundred


def failure(*args, **kwargs) -> str:
    with pytest.raises(AssertionError) as caught:
        check_close(*args, **kwargs)
    return str(caught.value)


def test_a_match_returns_the_relative_error():
    expected = distances()
    assert check_close("distances", expected.copy(), expected) == 0.0
    nudged = expected.copy()
    nudged[1, 2] += 1e-6
    error = check_close("distances", nudged, expected, rtol=1e-7)
    assert error == pytest.approx(1e-6 / expected.max(), rel=1e-3)
    assert check_close("loss", 9.3, 9, rtol=0, atol=0.5) == pytest.approx(0.3 / 9)


def test_squared_distances_name_the_missing_square_root_and_show_both_values():
    expected = distances()
    assert 150 < expected.min() and expected.max() < 600
    message = failure("distances", expected**2, expected)
    assert re.search(r"^distances: differs from the expected value at 21 of 21 entries, shape \(3, 7\) as expected",
                     message)
    assert "    (0, 3): 171811 vs 414.501\n" in message  # about 1.6e5 where about 400 was expected
    assert re.search(r"relative error \d\.\d+e\+02", message)
    assert message.rstrip().endswith("hint: each value is about the square of the expected one: a missing square root?")


def test_only_the_first_differing_entries_are_listed():
    expected = distances()
    message = failure("distances", expected + 1.0, expected)
    listed = re.findall(r"^    \(\d+, \d+\): ", message, flags=re.MULTILINE)
    assert len(listed) == FIRST_ENTRIES
    assert "    (0, 0): " in message and "    (2, 6): " not in message


@pytest.mark.parametrize(
    ("got", "message"),
    [
        (lambda e: e.T, r"expected shape \(3, 7\), got shape \(7, 3\)\nhint: the result looks transposed"),
        (lambda e: e.reshape(21, 1), r"got shape \(21, 1\)\nhint: the 21 values are there in the wrong shape"),
        (lambda e: None, r"got None, expected shape \(3, 7\): does the function return its result\?"),
        (lambda e: np.full(e.shape, "a"), r"got ndarray of dtype <U1, expected numbers"),
        (lambda e: -e, r"hint: the values have the wrong sign$"),
        (lambda e: 200 * e, r"hint: every value is 200 times the expected one: a constant factor is off \(a sum over "
                            r"the N examples where the mean was meant"),
        (lambda e: np.sqrt(e), r"hint: each value is about the square root of the expected one"),
        (lambda e: np.where(e > 400, np.nan, e), r"vs \d+\.\d+\n(.|\n)*relative error inf(.|\n)*hint: the result holds "
                                                 r"NaN or inf \(a square root of a slightly negative number"),
    ],
)
def test_each_common_mistake_gets_its_hint(got, message):
    expected = distances()
    assert re.search(message, failure("distances", got(expected), expected))


def test_an_unrecognized_difference_gets_no_hint():
    expected = distances()
    rng = np.random.default_rng(1)
    message = failure("distances", expected + rng.standard_normal(expected.shape), expected)
    assert "hint" not in message


def test_a_scalar_gets_a_factor_hint_only_for_a_whole_factor():
    assert re.search(r"got 15\.8, expected 5\.26667\n(.|\n)*hint: every value is 3 times", failure("loss", 15.8, 15.8 / 3))
    assert "hint" not in failure("loss", 5.0, 15.8 / 3)


def test_a_known_mistake_is_named_instead_of_the_generic_hint_and_the_caller_hint_follows():
    message = failure("loss of the worked example", 15.8, 15.8 / 3, rtol=1e-9,
                      mistakes=[(15.8 / 3 + 1, "the correct class is counted"), (15.8, "summed, not averaged")],
                      hint="X = I, so the scores are W")
    assert message.endswith("hint: summed, not averaged\nhint: X = I, so the scores are W")
    assert "times the expected" not in message


def test_an_approximate_check_recognizes_an_approximate_mistake():
    message = failure("loss at initialization", 10.04, 9, rtol=0, atol=0.5,
                      mistakes=[(10, "the correct class's own margin (always 1) is counted")])
    assert "got 10.04, expected 9" in message
    assert "hint: the correct class's own margin (always 1) is counted" in message
    assert "hint" not in failure("loss at initialization", 12.0, 9, rtol=0, atol=0.5, mistakes=[(10, "counted")])


def test_labels_are_compared_exactly_and_listed_without_arithmetic_hints():
    message = failure("predicted labels", np.array([0, 2, 4, 0]), [0, 1, 2, 0], rtol=0)
    assert "differs from the expected value at 2 of 4 entries" in message
    assert "    (1,): 2 vs 1\n    (2,): 4 vs 2" in message
    assert "hint" not in message  # [0, 2, 4, 0] is twice the labels, which means nothing for labels
    assert check_close("predicted labels", np.array([0, 1, 2, 0]), [0, 1, 2, 0], rtol=0) == 0.0


def test_values_that_should_be_about_zero_use_the_absolute_tolerance():
    assert check_close("diagonal", [1e-5, 0.0, 2e-4], np.zeros(3), atol=1e-3) == pytest.approx(2e-4 / 1e-12)
    message = failure("diagonal", [1e-5, 0.0, 0.5], np.zeros(3), atol=1e-3, hint="clip at 0 before the square root")
    assert "(2,): 0.5 vs 0\n  largest difference 0.5, allowed 0.001\n" in message
    assert message.endswith("hint: clip at 0 before the square root")


def test_check_below_returns_the_count_and_lists_the_values_on_failure():
    assert check_below("errors", [1e-9, 1e-8, 0.3], 1e-6, at_least=2) == 2
    assert check_below("errors", [1e-9, 1e-8], 1e-6) == 2
    with pytest.raises(AssertionError, match=r"^errors \(reg=5e\+04\): 2 of 5 are below 1e-06, expected at least 4\n"
                                             r"  values: 1\.00e-09, 3\.00e-01, 2\.00e-01, 1\.00e-08, nan\n"
                                             r"hint: look at 2 \* reg \* W$"):
        check_below("errors (reg=5e+04)", [1e-9, 0.3, 0.2, 1e-8, np.nan], 1e-6, at_least=4, hint="look at 2 * reg * W")


@pytest.mark.filterwarnings("error")
def test_a_huge_wrong_result_is_reported_without_overflow_warnings():
    message = failure("loss", np.array([1e300, 2e300]), np.array([1.0, 2.0]))
    assert "hint: every value is 1e+300 times the expected one" in message
