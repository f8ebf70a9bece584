"""Checks for the notebooks' test cells that say what they expected, what they got, and what may be wrong.

Each helper returns a number a test can assert on and raises ``AssertionError`` with a message that shows
the expected and the actual value (shape, the first differing entries, the relative error) and, where the
difference matches a common mistake, a hint: a result that is the square of the expected one is a missing
square root; a constant factor is a sum where a mean was meant, or a lost factor 2.
"""

from __future__ import annotations

import numpy as np

FIRST_ENTRIES = 5  # differing entries listed in a message
# A hint is given when the result matches a mistake to this relative precision: far looser than rounding,
# far tighter than a coincidence.
HINT_TOLERANCE = 1e-4


def _close(a, b, rtol=HINT_TOLERANCE, atol=0.0):
    """``a`` equals ``b`` within ``atol`` plus ``rtol`` times the largest magnitude of ``b``."""
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * scale))


def _format(value) -> str:
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def _generic_hint(got, expected) -> str | None:
    """What a wrong but finite result of the right shape most likely comes from, or None."""
    if not np.any(expected):
        return None
    if np.all(expected >= 0) and _close(got, expected**2):
        return "each value is about the square of the expected one: a missing square root?"
    if np.all(expected >= 0) and np.all(got >= 0) and _close(got**2, expected):
        return "each value is about the square root of the expected one: an extra square root?"
    if _close(got, -expected):
        return "the values have the wrong sign"
    factor = float(np.sum(got * expected) / np.sum(expected * expected))  # least-squares fit got = factor * expected
    if expected.size == 1:
        # One number is always some multiple of another: only a whole factor (or its inverse) says something.
        whole = max(abs(factor), 1 / abs(factor)) if factor else 0.0
        if whole < 2 or abs(whole - round(whole)) > HINT_TOLERANCE * whole:
            return None
    if factor != 0 and _close(got, factor * expected):
        return (f"every value is {factor:.4g} times the expected one: a constant factor is off (a sum over the "
                "N examples where the mean was meant, or a factor 2 lost or added?)")
    return None


def check_close(name, got, expected, *, rtol=1e-7, atol=0.0, mistakes=(), hint=None):
    """Check that ``got`` equals ``expected`` up to a tolerance; return the relative error.

    Parameters
    ----------
    name : str
        What is checked, as the message should call it (e.g. ``"distances on a small example"``).
    got : array_like or scalar
        The result to check.
    expected : array_like or scalar
        The right result.
    rtol : float, default 1e-7
        Tolerance relative to the largest magnitude of ``expected``; 0 demands exact equality (labels).
    atol : float, default 0.0
        Absolute tolerance, for results that should be about 0.
    mistakes : sequence of (array_like, str), optional
        Results that known mistakes give, each with its explanation; the first one ``got`` matches (to the
        check's tolerance, and at least to 1e-4 relative) is shown instead of the generic hints.
    hint : str, optional
        Said whenever the check fails (what the cell's case exercises, where to look).

    Returns
    -------
    error : float
        ``max |got - expected| / max |expected|`` (the denominator at least 1e-12); 0.0 for an exact match.

    Raises
    ------
    AssertionError
        When ``got`` is None, not numeric, of another shape, not finite where ``expected`` is, or differs by
        more than ``atol + rtol * max |expected|``.
    """
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        raise AssertionError(f"{name}: got None, expected {_describe(expected)}: does the function return its result?")
    got_array = np.asarray(got)
    if got_array.dtype.kind not in "biuf":
        raise AssertionError(f"{name}: got {type(got).__name__} of dtype {got_array.dtype}, expected numbers")
    got_array = got_array.astype(np.float64)
    lines = []
    if got_array.shape != expected.shape:
        lines.append(f"{name}: expected shape {expected.shape}, got shape {got_array.shape}")
        if got_array.shape == expected.shape[::-1] and got_array.ndim == 2:
            lines.append("hint: the result looks transposed")
        elif got_array.size == expected.size:
            lines.append(f"hint: the {expected.size} values are there in the wrong shape (a missing reshape, or an "
                         "extra axis from keepdims or [:, np.newaxis]?)")
        _add_hint(lines, hint)
        raise AssertionError("\n".join(lines))

    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    difference = np.abs(got_array - expected)
    with np.errstate(invalid="ignore"):
        wrong = ~(difference <= atol + rtol * scale)  # NaN differences count as wrong
    error = float(np.max(difference, initial=0.0)) / scale if np.all(np.isfinite(difference)) else float("inf")
    if not np.any(wrong):
        return error

    where = f" at {int(wrong.sum())} of {wrong.size} entries" if expected.ndim else ""
    shape = f", shape {expected.shape} as expected" if expected.ndim else ""
    lines.append(f"{name}: differs from the expected value{where}{shape}")
    if expected.ndim:
        lines.append("  first differing entries (index: got vs expected):")
        for index in list(zip(*np.nonzero(wrong)))[:FIRST_ENTRIES]:
            position = tuple(int(i) for i in index)
            lines.append(f"    {position}: {_format(got_array[position])} vs {_format(expected[position])}")
    else:
        lines.append(f"  got {_format(float(got_array))}, expected {_format(float(expected))}")
    relative = f"relative error {error:.3e}: " if np.any(expected) else ""  # relative to 0 means nothing
    lines.append(f"  {relative}largest difference {_format(float(np.max(difference)))}, allowed {atol + rtol * scale:.3g}")

    if not np.all(np.isfinite(got_array)):
        lines.append("hint: the result holds NaN or inf (a square root of a slightly negative number, or an "
                     "exp that overflowed?)")
    else:
        # A mistake is recognized to the check's own tolerance: an approximate check (a loss of about 9)
        # recognizes an approximate mistake (about 10).
        matched = [text for wrong_value, text in mistakes
                   if _close(got_array, np.asarray(wrong_value, dtype=np.float64), max(rtol, HINT_TOLERANCE), atol)]
        specific = matched[0] if matched else None
        # Exact checks (labels) compare categories, where a factor or a square means nothing. Squaring a
        # huge wrong result may overflow: that only means it is not the square of anything expected.
        with np.errstate(over="ignore", invalid="ignore"):
            generic = specific or (_generic_hint(got_array, expected) if rtol or atol else None)
        if generic:
            lines.append(f"hint: {generic}")
    _add_hint(lines, hint)
    raise AssertionError("\n".join(lines))


def check_below(name, values, bound, *, at_least=None, hint=None):
    """Check that values lie below ``bound`` (all of them, or ``at_least`` of them); return how many do.

    Parameters
    ----------
    name : str
        What the values are (e.g. ``"relative errors of the gradient check"``).
    values : array_like
        The values; NaN counts as not below.
    bound : float
        The bound each value should be below.
    at_least : int, optional
        How many must be below (default: all); for checks where an isolated miss is expected.
    hint : str, optional
        Said whenever the check fails.

    Returns
    -------
    count : int
        How many values are below ``bound``.

    Raises
    ------
    AssertionError
        Listing the values, when fewer than required are below ``bound``.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    below = int(np.sum(values < bound))
    required = values.size if at_least is None else at_least
    if below >= required:
        return below
    shown = ", ".join(f"{value:.2e}" for value in values)
    lines = [f"{name}: {below} of {values.size} are below {bound:g}, expected at least {required}", f"  values: {shown}"]
    _add_hint(lines, hint)
    raise AssertionError("\n".join(lines))


def _describe(expected) -> str:
    return f"shape {expected.shape}" if expected.ndim else _format(float(expected))


def _add_hint(lines, hint):
    if hint:
        lines.append(f"hint: {hint}")
