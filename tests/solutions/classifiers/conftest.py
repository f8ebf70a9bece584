"""Fixtures shared by the tests of the reference classifiers."""

import pytest


@pytest.fixture
def count_calls(monkeypatch):
    """``count_calls(owner, name)`` wraps ``owner.name`` (a module's function or a class's method) so that each
    call is recorded, and returns the list the calls go into; monkeypatch puts the original back after the test.
    """

    def count(owner, name):
        calls = []
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
        return calls

    return count
