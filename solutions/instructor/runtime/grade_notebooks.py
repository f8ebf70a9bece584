"""Autograde one submission with nbgrader, one notebook at a time, surviving what student code does.

Usage (inside the jail, by :mod:`solutions.instructor.worker`)::

    python grade_notebooks.py SPEC.json

The spec names the scratch course (``course_dir``, a copy of the instructor's course with this student's
submission only), ``student``, ``assignment``, ``notebooks``, ``cell_timeout`` (seconds) and ``deadline``
(epoch seconds: the submission's budget). nbgrader's own ``autograde`` loses the whole submission when a
kernel dies (``os._exit``, an out-of-memory kill) or ignores the interrupt after a timeout; here such a
notebook keeps the cells that ran, every later cell gets an error output saying why, and the other
notebooks are graded normally. The outcome of each notebook goes to ``result.json`` beside the spec.

Nothing here is trusted by the grader: the student's kernel runs as the same user and could rewrite these
files. The grader recomputes every score from the autograded notebooks against its own gradebook.
"""

import json
import logging
import sys
import time
from pathlib import Path

# jsonschema compiles an RFC 3987 grammar at import (two seconds per process) for a format nbformat never
# checks; leaving it out changes nothing else.
sys.modules.setdefault("rfc3987_syntax", None)

from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402
from nbgrader.converters import Autograde  # noqa: E402
from nbgrader.converters.base import NbGraderException  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402
from traitlets.config import Config  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

INCIDENTS = []  # (notebook, message) pairs, filled by GuardedExecute


def error_output(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute that turns a dead or unresponsive kernel into cell errors instead of a crash.

    Also enforces the submission's deadline: a cell never gets more time than the submission has left.
    """

    deadline = float("inf")
    cell_timeout = 120

    def preprocess(self, nb, resources=None, km=None):
        self._broken = None
        self._notebook = (resources or {}).get("nbgrader", {}).get("notebook", "?")
        self.timeout_func = self._cell_budget
        return super().preprocess(nb, resources, km)

    def _cell_budget(self, cell):
        return max(1, int(min(self.cell_timeout, self.deadline - time.time())))

    def _give_up(self, cell, reason):
        self._broken = reason
        INCIDENTS.append((self._notebook, reason))
        cell.outputs.append(error_output("GradingError", reason))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._broken is None and time.time() >= self.deadline:
            self._give_up(cell, "the submission ran out of its time budget; this cell and the rest did not run")
            return cell, resources
        if self._broken is not None:
            cell.outputs = [error_output("GradingError", f"not run: {self._broken}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._give_up(cell, "the kernel died in this cell (os._exit, a crash, or the memory limit)")
        except CellTimeoutError:
            self._give_up(cell, "the kernel stopped responding after this cell timed out (it ignored the interrupt)")
        return cell, resources


def load_config(spec):
    course_dir = Path(spec["course_dir"])
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    config.merge(Config({
        # The hidden checks must reach the autograded folder, unlike the student release.
        "CourseDirectory": {"root": str(course_dir), "ignore": [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]},
        "Execute": {"timeout": int(spec["cell_timeout"])},
    }))
    autograde_preprocessors = [
        GuardedExecute if preprocessor is Execute else preprocessor
        for preprocessor in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    config.Autograde.autograde_preprocessors = autograde_preprocessors
    GuardedExecute.deadline = float(spec["deadline"])
    GuardedExecute.cell_timeout = int(spec["cell_timeout"])
    return config


class Remember(logging.Handler):
    """Keep nbgrader's error messages so a failed notebook reports why."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def grade(spec):
    config = load_config(spec)
    results = {}
    for notebook in spec["notebooks"]:
        submitted = Path(spec["course_dir"], "submitted", spec["student"], spec["assignment"], f"{notebook}.ipynb")
        if not submitted.is_file():
            results[notebook] = {"status": "missing", "reason": f"{notebook}.ipynb was not submitted"}
            continue
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = spec["assignment"]
        coursedir.student_id = spec["student"]
        coursedir.notebook_id = notebook
        converter = Autograde(coursedir=coursedir, config=config)
        remember = Remember()
        converter.log.addHandler(remember)
        started = time.time()
        try:
            converter.start()
            status, reason = "graded", None
        except (NbGraderException, Exception) as error:  # one notebook's failure must not stop the others
            status = "failed"
            detail = [m for m in remember.messages if "Please see" not in m and m.strip()]
            reason = (detail[-1] if detail else str(error)).strip().splitlines()
            reason = reason[-1][:500] if reason else type(error).__name__
        finally:
            converter.log.removeHandler(remember)
        results[notebook] = {
            "status": status,
            "reason": reason,
            "incidents": [message for name, message in INCIDENTS if name == notebook],
            "seconds": round(time.time() - started, 2),
        }
        Path(spec["result_path"]).write_text(json.dumps(results, indent=1), encoding="utf-8")
    Path(spec["result_path"]).write_text(json.dumps(results, indent=1), encoding="utf-8")


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    grade(spec)


if __name__ == "__main__":
    main()
