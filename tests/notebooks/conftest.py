"""Fixtures of the notebook tests: the hidden checks module, and the helpers beside this file on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # bundle.py, the notebook-running helpers

from bundle import SOURCE_DIR  # noqa: E402


@pytest.fixture(scope="session")
def hidden_checks():
    """``solutions/source/assignment1/hidden_checks.py``, imported by path under a private name."""
    spec = importlib.util.spec_from_file_location("_tests_hidden_checks", SOURCE_DIR / "hidden_checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
