"""Autograde one submission with nbgrader, one notebook at a time, surviving what student code does.

Usage (inside the sandbox, by :mod:`instructor.grade.notebooks`)::

    python -I grade_notebooks.py INPUT

``INPUT`` (read-only) holds ``spec.json`` and ``course/``: a scratch course with the gradebook's cell
definitions (no solutions, and hidden cells that only say the grader runs them outside the sandbox), the
trusted ``cs231n`` package and this one submission. The spec names ``student``, ``assignment``,
``notebooks``, ``cell_timeout`` (seconds), ``deadline`` (epoch seconds: the submission's budget) and
``config`` (the instructor's nbgrader configuration as plain data). The course is copied into the private
``/tmp`` and graded there.

nbgrader's own ``autograde`` loses the whole submission when a kernel dies (``os._exit``, an out-of-memory
kill) or ignores the interrupt after a timeout; here such a notebook keeps the cells that ran, every later
cell gets an error output saying why, and the other notebooks are graded normally. Each graded notebook goes
back to the grader as one frame on stdout (its outputs capped, see ``outputs.py``), as soon as it is done.

Nothing here is trusted by the grader: the student's kernel runs as the same user in the same sandbox. The
grader checks the frames, caps the outputs again, and recomputes every score against its own gradebook.
"""

import ctypes
import json
import logging
import os
import shutil
import stat
import sys
import time
from pathlib import Path

# jsonschema compiles an RFC 3987 grammar at import (two seconds per process) for a format nbformat never
# checks; leaving it out changes nothing else.
sys.modules.setdefault("rfc3987_syntax", None)

import numpy as np  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402
from nbgrader.converters import Autograde  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402
from traitlets.config import Config  # noqa: E402

# `python -I` leaves the script's folder off sys.path; the helpers live beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames  # noqa: E402
import outputs  # noqa: E402

INCIDENTS = []  # (notebook, message) pairs, filled by GuardedExecute
MAX_NOTEBOOK_BYTES = 64 << 20  # an autograded notebook larger than this is not read back
PR_SET_DUMPABLE = 4


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
        self._output_sizes, self._truncated = {}, set()
        self._notebook = (resources or {}).get("nbgrader", {}).get("notebook", "?")
        self.timeout_func = self._cell_budget
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``outputs.CELL_OUTPUT_LIMIT`` characters of a cell's output as it arrives: a print of
        gigabytes never sits in this process, and a visible line says what was dropped. Errors are kept."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.get("output_type") == "error":
            return out
        before = self._output_sizes.get(cell_index, 0)
        size = len(json.dumps(out))
        self._output_sizes[cell_index] = before + size
        if before + size <= outputs.CELL_OUTPUT_LIMIT:
            return out
        room = outputs.CELL_OUTPUT_LIMIT - before
        if out.get("output_type") == "stream" and room > 0 and outs and outs[-1] is out:
            out["text"] = out["text"][:room]
        elif outs and outs[-1] is out:
            outs.pop()
        if cell_index not in self._truncated:
            self._truncated.add(cell_index)
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n{outputs.MARK}: output past {outputs.CELL_OUTPUT_LIMIT:,} characters was not kept\n"))
        return out

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


def load_config(spec, course_dir):
    config = Config(spec["config"])
    config.merge(Config({
        "CourseDirectory": {"root": str(course_dir)},
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


def read_regular(path, limit):
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (no link, pipe or device)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return stream.read(limit + 1)[:limit]
    finally:
        os.close(handle)


def grade(spec, course_dir, channel):
    config = load_config(spec, course_dir)
    for notebook in spec["notebooks"]:
        submitted = course_dir / "submitted" / spec["student"] / spec["assignment"] / f"{notebook}.ipynb"
        if not submitted.is_file():
            send(channel, notebook, {"status": "missing", "reason": f"{notebook}.ipynb was not submitted"})
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
        except Exception as error:  # one notebook's failure must not stop the others
            status = "failed"
            detail = [m for m in remember.messages if "Please see" not in m and m.strip()]
            reason = (detail[-1] if detail else str(error)).strip().splitlines()
            reason = reason[-1][:500] if reason else type(error).__name__
        finally:
            converter.log.removeHandler(remember)
        result = {
            "status": status,
            "reason": reason,
            "incidents": [message for name, message in INCIDENTS if name == notebook],
            "seconds": round(time.time() - started, 2),
        }
        graded = course_dir / "autograded" / spec["student"] / spec["assignment"] / f"{notebook}.ipynb"
        data = read_regular(graded, MAX_NOTEBOOK_BYTES) if status == "graded" else None
        if status == "graded" and data is None:
            result.update(status="failed", reason="the autograded notebook could not be read back")
        if data is not None:
            try:
                data = json.dumps(outputs.cap_notebook(json.loads(data)), ensure_ascii=False).encode("utf-8")
            except ValueError:
                result.update(status="failed", reason="the autograded notebook is not JSON")
                data = None
        send(channel, notebook, result, data)


def send(channel, notebook, result, data=None):
    arrays = {"ipynb": bytearray_view(data)} if data is not None else {}
    channel.write(frames.encode(dict(result, notebook=notebook), arrays))
    channel.flush()


def bytearray_view(data):
    return np.frombuffer(data, dtype=np.uint8)


def main():
    # Keep the kernels (same user, same sandbox) from reading this process's memory or its channel.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints and the kernels' own output go to the log, never into the channel
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    source = Path(sys.argv[1])
    with open(source / "spec.json", encoding="utf-8") as handle:
        spec = json.load(handle)
    course_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "course"
    shutil.copytree(source / "course", course_dir)
    os.chdir(course_dir)
    grade(spec, course_dir, channel)


if __name__ == "__main__":
    main()
