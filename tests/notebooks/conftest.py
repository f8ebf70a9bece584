"""Fixtures of the notebook tests: the hidden checks module."""

from __future__ import annotations

import importlib.util

import pytest

from bench.notebook_bundle import SOURCE_DIR


@pytest.fixture(scope="session")
def hidden_checks():
    """``solutions/source/assignment1/hidden_checks.py``, imported by path under a private name."""
    spec = importlib.util.spec_from_file_location("_tests_hidden_checks", SOURCE_DIR / "hidden_checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
