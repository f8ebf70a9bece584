"""Test helpers of the web demos (``linear_classify_reference``) import by name, like ``cifar_factory``."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
