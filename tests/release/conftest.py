"""Helpers of the release tests on sys.path: the student environment beside this file, and the Jupyter
server and browser helpers of the notebook tests (``tests/notebooks``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "notebooks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
