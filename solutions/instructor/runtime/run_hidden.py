"""Run the student's functions on the hidden inputs and save what they return; nothing is compared here.

Usage (inside the jail, by :mod:`solutions.instructor.verdict`)::

    python -I run_hidden.py SPEC.json

The spec names ``bundle`` (a folder holding the trusted ``cs231n`` package with the student's four
modules, and ``hidden_checks.py``), ``cases_dir`` (``NAME.npz`` inputs and ``NAME.json`` with the Python
type of each scalar), ``out_dir`` and ``names``. For each name, in order, this writes
``out_dir/NAME.started``, then either ``NAME.npz`` (the outputs of every case, keys ``"<case>:<key>"``)
or ``NAME.error`` (one line), then ``NAME.done``. After importing the student's package it writes
``imported``. The grader compares the saved arrays with the reference in its own process, which this
process (and the student code in it) never touches; the reference is not on this machine's visible
file system at all.
"""

import importlib
import json
import os
import sys

import numpy as np

SCALARS = {"float": float, "int": int, "bool": bool}


class Modules(dict):
    """The student's classifier modules and package names, by key or by attribute."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def load_cases(cases_dir, name):
    with open(os.path.join(cases_dir, f"{name}.json"), encoding="utf-8") as handle:
        kinds = json.load(handle)
    with np.load(os.path.join(cases_dir, f"{name}.npz"), allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    cases = []
    for index, case_kinds in enumerate(kinds):
        case = {}
        for key, kind in case_kinds.items():
            value = arrays[f"{index}:{key}"]
            case[key] = SCALARS[kind](value.item()) if kind in SCALARS else value
        cases.append(case)
    return cases


def student_modules(package):
    modules = Modules()
    for name in ("k_nearest_neighbor", "linear_svm", "softmax", "linear_classifier"):
        modules[name] = importlib.import_module(f"{package.__name__}.{name}")
    for name in getattr(package, "__all__", []):
        modules[name] = getattr(package, name)
    return modules


def touch(path, text=""):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def one_line(error):
    """``Name: message`` on one line (no traceback: it would show the checking code)."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}"[:300] if message else type(error).__name__


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    out_dir = spec["out_dir"]
    sys.path.insert(0, spec["bundle"])
    try:
        import hidden_checks

        package = importlib.import_module("cs231n.classifiers")
        modules = student_modules(package)
    except BaseException as error:  # the student's modules do not import: every check fails alike
        touch(os.path.join(out_dir, "import.error"), one_line(error))
        return
    touch(os.path.join(out_dir, "imported"))
    for name in spec["names"]:
        touch(os.path.join(out_dir, f"{name}.started"))
        try:
            outputs = {}
            for index, case in enumerate(load_cases(spec["cases_dir"], name)):
                for key, value in hidden_checks.run(name, modules, case).items():
                    outputs[f"{index}:{key}"] = np.asarray(value)
            np.savez(os.path.join(out_dir, f"{name}.npz"), **outputs)
        except BaseException as error:  # a failing student function fails this name only
            touch(os.path.join(out_dir, f"{name}.error"), one_line(error))
        touch(os.path.join(out_dir, f"{name}.done"))


if __name__ == "__main__":
    main()
