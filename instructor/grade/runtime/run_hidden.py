"""Call the student's functions on inputs the grader sends, one case at a time, and send back the outputs.

Usage (inside the sandbox, by :mod:`instructor.grade.verdict`)::

    python -I run_hidden.py BUNDLE

``BUNDLE`` holds the trusted ``cs231n`` package with the student's modules and ``graded_calls.py``
(how each graded function is called). Nothing else of the hidden checks is here: no expected value, no
reference, no case the grader has not sent yet. The conversation is frames (``frames.py``) on stdin and
stdout:

- after importing the package this sends ``{"imported": true}``, or ``{"import_error": "..."}`` and stops;
- each request ``{"name": NAME, "scalars": {...}}`` with the case's arrays gets ``{"ok": true}`` with the
  outputs, or ``{"error": "Name: message"}``;
- end of input ends the process.

The grader trusts none of it: it checks every reply's names, dtypes and sizes before reading it and
compares the outputs in its own process. The student's prints go to stderr, which is the run's log.
"""

import importlib
import os
import sys

import numpy as np

# `python -I` leaves the script's folder off sys.path; the frame format lives beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames  # noqa: E402


class Modules(dict):
    """The student's classifier modules and package names, by key or by attribute."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def one_line(error):
    """``Name: message`` on one line (no traceback: it would show the calling code)."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}"[:300] if message else type(error).__name__


def student_modules(package, names):
    modules = Modules()
    for name in names:
        modules[name] = importlib.import_module(f"{package.__name__}.{name}")
    for name in getattr(package, "__all__", []):
        modules[name] = getattr(package, name)
    return modules


def numeric(value):
    array = np.asarray(value)
    if array.dtype.kind not in frames.ALLOWED_KINDS or array.dtype.itemsize > 8:
        raise TypeError(f"returned {array.dtype} where numbers were expected")
    return array


def main():
    bundle = sys.argv[1]
    # The channel to the grader is a private copy of stdout; fd 1 becomes stderr, so that prints (and
    # anything a child process writes) land in the log instead of the channel.
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    sys.path.insert(0, bundle)
    try:
        import graded_calls
        from cs231n.course import STUDENT_MODULES  # the bundle's trusted copy of the course manifest

        package = importlib.import_module("cs231n.classifiers")
        modules = student_modules(package, tuple(os.path.basename(path)[:-3] for path in STUDENT_MODULES))
    except BaseException as error:  # the package does not import: every check fails alike
        channel.write(frames.encode({"import_error": one_line(error)}))
        return
    channel.write(frames.encode({"imported": True}))
    while True:
        request = frames.read_frame(requests)
        if request is None:
            return
        header, arrays = request
        case = dict(header.get("scalars", {}))
        case.update({key: value.copy() for key, value in arrays.items()})
        try:
            outputs = graded_calls.run(header["name"], modules, case)
            outputs = {key: numeric(value) for key, value in outputs.items()}
            reply = frames.encode({"ok": True}, outputs)
        except BaseException as error:  # a failing student function fails this case only
            reply = frames.encode({"error": one_line(error)})
        channel.write(reply)


if __name__ == "__main__":
    main()
