"""The fences that mark what students must not see, and the one rule that finds them.

The reference modules and the source notebooks fence the reference code with ``### BEGIN SOLUTION`` /
``### END SOLUTION`` and the hidden tests with ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.
nbgrader treats any line that *contains* a delimiter as a fence line, so this module does too: the stub
builder, the leak scan, the notebook builder and the feedback filter all read fences here, and none of
them can miss a fence line that nbgrader would honour (or honour one nbgrader would miss).
"""

from __future__ import annotations

from typing import Iterable

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
DELIMITERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
BEGINS = (BEGIN_SOLUTION, BEGIN_HIDDEN)

# How this course writes a fence line: the delimiter alone on its line, after a comment mark.
SOLUTION_BEGIN_LINE = f"### {BEGIN_SOLUTION}"
SOLUTION_END_LINE = f"### {END_SOLUTION}"
HIDDEN_BEGIN_LINE = f"### {BEGIN_HIDDEN}"
HIDDEN_END_LINE = f"### {END_HIDDEN}"

# nbgrader grade ids of the graded test cells: the visible ``test_NAME`` and the hidden ``hidden_NAME``.
TEST_CELL_PREFIX = "test_"
HIDDEN_CELL_PREFIX = "hidden_"


def delimiter(line: str) -> str | None:
    """The fence delimiter ``line`` carries (nbgrader's rule: anywhere in the line), or None.

    >>> delimiter("    ### BEGIN SOLUTION")
    'BEGIN SOLUTION'
    >>> delimiter("x = 1") is None
    True
    """
    for name in (BEGIN_HIDDEN, END_HIDDEN, BEGIN_SOLUTION, END_SOLUTION):
        if name in line:
            return name
    return None


def split_fenced(lines: Iterable[str], skip_comments: bool = False) -> tuple[set[str], set[str]]:
    """Stripped non-empty lines found inside any fence, and those found outside every fence.

    Parameters
    ----------
    lines : iterable of str
        Lines of a module or a cell, in order.
    skip_comments : bool
        Leave out lines starting with ``#`` (comments that also appear in a stub are not code).

    Returns
    -------
    inside, outside : set of str
        A line can be in both sets when it occurs both inside and outside a fence.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    fenced = False
    for line in lines:
        found = delimiter(line)
        if found is not None:
            fenced = found in BEGINS
            continue
        stripped = line.strip()
        if not stripped or (skip_comments and stripped.startswith("#")):
            continue
        (inside if fenced else outside).add(stripped)
    return inside, outside


def without_fence_lines(source: str) -> str:
    """``source`` with its fence lines dropped and the fenced code kept (the reference as plain code)."""
    return "\n".join(line for line in source.splitlines() if delimiter(line) is None)
