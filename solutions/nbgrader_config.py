"""nbgrader configuration of the course; this folder (``solutions/``) is the source nbgrader course.

Its ``source/`` holds the source notebooks and hidden checks. Nothing is generated here: the release build
and the autograder run nbgrader in scratch courses made from this file and ``source/``
(``instructor/nbgrader_course.py``), and the grading folder (``grading/``) gets a generated
``nbgrader_config.py`` that loads this one, so the settings below hold for the release, the autograder and
formgrader alike. Run nbgrader yourself with the environment's ``bin/`` on PATH: creating a gradebook runs
the ``alembic`` command.

The course's facts (assignment, student modules, the wording of the release's stubs) come from the course
manifest ``cs231n/course.py``.
"""

import os

from cs231n.course import ASSIGNMENT, CELL_STUB, STUDENT_MODULES

HERE = os.path.dirname(os.path.abspath(__file__))
c = get_config()  # noqa: F821 (injected by traitlets when it executes this file)

c.CourseDirectory.course_id = "cs231n"
c.CourseDirectory.root = HERE

# nbgrader copies every non-notebook file of source/<assignment>/ into the release verbatim. The hidden
# checks and their calling convention are the grader's: the release never gets them, and the grader runs
# them outside the student's sandbox.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "hidden_checks.py",
                            "graded_calls.py"]

# At autograde nbgrader overwrites every submitted file that also exists in the source folder; the
# student's classifier modules are the work being graded, so they must never be replaced.
c.Autograde.exclude_overwriting = {ASSIGNMENT: list(STUDENT_MODULES)}

# A deleted test cell would otherwise turn into "needs manual grading"; put it back and run it.
c.OverwriteCells.add_missing_cells = True

# Any stderr output makes a test cell score 0. Python warnings (numpy's overflow or divide warnings in an
# otherwise correct answer) and progress bars are not failures; a failure raises and shows as an error.
# The pattern alone does nothing: nbgrader only applies it when enabled.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w+Warning: |\d+%\|"

# Per-cell limit; the grader adds a per-submission budget on top (see instructor/autograde.py).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# What replaces each solution region of a notebook cell in the release. nbgrader's default raises a bare
# NotImplementedError; this one tells the student what to do, like the stubs in cs231n/classifiers do.
c.ClearSolutions.code_stub = {"python": CELL_STUB}
