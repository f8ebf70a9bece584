"""Scripts that run inside the grading sandbox with ``python -I`` (no package around them): they import
only the standard library, numpy, nbgrader and each other, from the folder the grader copies them into."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
