"""Sample submissions made from the release: honest ones, one with a single bug, and an adversarial set.

Each builder returns the files of a submission (archive path to bytes); :func:`write` packs them the way
``collectSubmission.sh`` does. Most adversarial submissions hold only ``svm.ipynb`` (the other notebooks
then count as not submitted) to keep the suite fast; they start from ``honest_wrong``: the reference with
``svm_loss_vectorized`` left unimplemented, and each adds one way of trying to get its points anyway.
"""

from __future__ import annotations

import json
from pathlib import Path

from cs231n.submission import write_zip

REPO = Path(__file__).resolve().parents[2]
MODULES = ("k_nearest_neighbor", "linear_svm", "softmax", "linear_classifier")
NOTEBOOKS = ("knn", "svm", "softmax")

# The one-character kind of bug students make: the correct class gets +count instead of -count.
VECTORIZED_BUG = ("coefficients[rows, y] = -coefficients.sum(axis=1)", "coefficients[rows, y] = coefficients.sum(axis=1)")

UNIMPLEMENTED_VECTORIZED = '''

def svm_loss_vectorized(W, X, y, reg):
    raise NotImplementedError("not done yet")
'''

# Kernel tampering: every later cell runs inside try/except, so no test can fail; asserts become no-ops.
REWRITE_ASSERT = '''
try:
    import ast as _ast
    import IPython as _IPython

    _shell = _IPython.get_ipython()
    if _shell is not None:
        class _NoFailures(_ast.NodeTransformer):
            def visit_Assert(self, node):
                return _ast.Pass()

            def visit_Module(self, node):
                self.generic_visit(node)
                handler = _ast.ExceptHandler(type=_ast.Name("BaseException", _ast.Load()), name=None, body=[_ast.Pass()])
                node.body = [_ast.Try(body=node.body or [_ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
                return _ast.fix_missing_locations(node)

        _shell.ast_transformers.append(_NoFailures())
except Exception:
    pass
'''

# Monkeypatch numpy's comparisons, the gradient checker and the hidden checks before they are imported.
MONKEYPATCH = '''
import sys as _sys
import types as _types

import numpy as _np

_np.allclose = lambda *args, **kwargs: True
_np.isclose = lambda a, b, *args, **kwargs: _np.ones(_np.broadcast(a, b).shape, dtype=bool)
_np.testing.assert_allclose = lambda *args, **kwargs: None
_np.linalg.norm = lambda *args, **kwargs: 0.0
import cs231n.gradient_check as _gc

_gc.grad_check_sparse = lambda *args, **kwargs: _np.zeros(kwargs.get("num_checks", 10))
_fake = _types.ModuleType("hidden_checks")
_fake.check = lambda name: None
_sys.modules["hidden_checks"] = _fake


def svm_loss_vectorized(W, X, y, reg):
    loss, _ = svm_loss_naive(W, X, y, reg)
    return loss, _np.zeros_like(W)
'''

# While graded (NBGRADER_EXECUTION is set in the kernel), find the reference on disk and use it.
READ_REFERENCE = '''
import os as _os

if _os.environ.get("NBGRADER_EXECUTION"):
    import importlib.util as _util
    from pathlib import Path as _Path

    _places = [_Path.cwd(), *_Path.cwd().parents, _Path(__file__).resolve().parent, *_Path(__file__).resolve().parents]
    _candidates = [p / "solutions" / "cs231n" / "classifiers" / "linear_svm.py" for p in _places]
    _candidates += [p / "reference" / "linear_svm.py" for p in _places]
    if _os.environ.get("CS231N_REFERENCE_DIR"):
        _candidates.insert(0, _Path(_os.environ["CS231N_REFERENCE_DIR"]) / "linear_svm.py")
    for _path in _candidates:
        if _path.is_file():
            _spec = _util.spec_from_file_location(__name__.rpartition(".")[0] + "._found", _path)
            _found = _util.module_from_spec(_spec)
            _spec.loader.exec_module(_found)
            svm_loss_vectorized = _found.svm_loss_vectorized
            break
'''

# At import, copy the reference out of solutions/ wherever it can be reached from the interpreter,
# the working folder or this file.
COPY_SOLUTIONS = '''
import sys as _sys
from pathlib import Path as _Path

_roots = {_Path(_sys.executable).resolve(), _Path(_sys.prefix).resolve(), _Path.cwd(), _Path(__file__).resolve()}
for _root in sorted(_roots):
    for _parent in [_root, *_root.parents]:
        _reference = _parent / "solutions" / "cs231n" / "classifiers" / "linear_svm.py"
        if _reference.is_file():
            _code = _reference.read_text().replace("from .input_checks", "from cs231n.classifiers.input_checks")
            exec(compile(_code, "copied", "exec"), globals())
            break
'''

# Right only when called from a notebook cell (the visible tests), wrong for the hidden checks.
SPECIAL_CASE = '''
import inspect as _inspect

import numpy as _np


def svm_loss_vectorized(W, X, y, reg):
    caller = _inspect.stack()[1].filename
    if "ipykernel" in caller or caller.startswith("<ipython"):
        return svm_loss_naive(W, X, y, reg)
    return 0.0, _np.zeros_like(W)
'''

HANG = '''
import signal as _signal


def svm_loss_naive(W, X, y, reg):
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # ignore the grader's interrupt too
    while True:
        pass
'''

EXIT = '''
import os as _os


def svm_loss_naive(W, X, y, reg):
    _os._exit(0)
'''

MEMORY_BOMB = '''
import numpy as _np


def svm_loss_naive(W, X, y, reg):
    hog = _np.ones(30 * 2**30 // 8)  # 30 GB
    return float(hog.sum()), _np.zeros_like(W)
'''

FORK_BOMB = '''
import os as _os
import time as _time


def svm_loss_naive(W, X, y, reg):
    while True:
        try:
            if _os.fork() == 0:
                _time.sleep(600)
                _os._exit(0)
        except OSError:
            raise RuntimeError("no more processes")
'''

HARMLESS_WARNING = '''
import warnings as _warnings

_correct_naive = svm_loss_naive


def svm_loss_naive(W, X, y, reg):
    _warnings.warn("a harmless warning on stderr", RuntimeWarning)
    return _correct_naive(W, X, y, reg)
'''


def reference_modules() -> dict[str, bytes]:
    return {
        f"cs231n/classifiers/{m}.py": (REPO / "solutions" / "cs231n" / "classifiers" / f"{m}.py").read_bytes()
        for m in MODULES
    }


def stub_modules() -> dict[str, bytes]:
    return {f"cs231n/classifiers/{m}.py": (REPO / "cs231n" / "classifiers" / f"{m}.py").read_bytes() for m in MODULES}


def notebooks(release: dict[str, str], names=NOTEBOOKS) -> dict[str, bytes]:
    return {f"assignment1/{name}.ipynb": release[name].encode() for name in names}


def answered(text: str) -> bytes:
    """The release notebook with every written answer filled in (they then wait for manual grading)."""
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown" and meta.get("solution"):
            cell["source"] = "The distances grow with the number of pixels that differ."
    return json.dumps(notebook).encode()


def with_svm(modules: dict[str, bytes], *additions: str) -> dict[str, bytes]:
    """``modules`` with text appended to ``linear_svm.py`` (later definitions replace earlier ones)."""
    changed = dict(modules)
    key = "cs231n/classifiers/linear_svm.py"
    changed[key] = changed[key] + "".join(additions).encode()
    return changed


def edit_cells(text: str, edit) -> bytes:
    """Apply ``edit(cells) -> cells`` to a notebook's JSON cell list."""
    notebook = json.loads(text)
    notebook["cells"] = edit(notebook["cells"])
    return json.dumps(notebook).encode()


def grade_id(cell: dict) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def gut_tests(cells):
    for cell in cells:
        if grade_id(cell).startswith(("test_", "hidden_")):
            cell["source"] = "pass  # tests? what tests?"
            cell["metadata"]["nbgrader"]["points"] = 1000
    return cells


def delete_vectorized_tests(cells):
    return [c for c in cells if grade_id(c) not in ("test_svm_loss_vectorized", "hidden_svm_loss_vectorized")]


def add_tampering_cell(cells):
    """A new cell right after the set-up that swallows every later failure (it never reaches grading)."""
    code = "import IPython\nIPython.get_ipython().ast_transformers.append(None)  # added by the student\n"
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code + REWRITE_ASSERT}
    return cells[:2] + [cell] + cells[2:]


def build(release: dict[str, str]) -> dict[str, dict[str, bytes]]:
    """Every sample submission by student id (the corrupt and traversal ones are written by :func:`write`)."""
    reference = reference_modules()
    svm_only = notebooks(release, ["svm"])
    honest_wrong = with_svm(reference, UNIMPLEMENTED_VECTORIZED)
    bugged = dict(reference)
    text = bugged["cs231n/classifiers/linear_svm.py"].decode()
    assert text.count(VECTORIZED_BUG[0]) == 1, "the reference changed: update VECTORIZED_BUG"
    bugged["cs231n/classifiers/linear_svm.py"] = text.replace(*VECTORIZED_BUG).encode()
    missing_module = dict(reference)
    del missing_module["cs231n/classifiers/linear_svm.py"]
    return {
        "reference": {f"assignment1/{n}.ipynb": answered(release[n]) for n in NOTEBOOKS} | reference,
        "stubs": notebooks(release) | stub_modules(),
        "vectorized_bug": svm_only | bugged,
        "harmless_warning": svm_only | with_svm(reference, HARMLESS_WARNING),
        "honest_wrong": svm_only | honest_wrong,
        "cheat_edits_tests": {"assignment1/svm.ipynb": edit_cells(release["svm"], gut_tests)} | honest_wrong,
        "cheat_deletes_tests": {"assignment1/svm.ipynb": edit_cells(release["svm"], delete_vectorized_tests)} | honest_wrong,
        "cheat_adds_cell": {"assignment1/svm.ipynb": edit_cells(release["svm"], add_tampering_cell)} | honest_wrong,
        "cheat_rewrites_assert": svm_only | with_svm(honest_wrong, REWRITE_ASSERT),
        "cheat_monkeypatches": svm_only | with_svm(honest_wrong, MONKEYPATCH),
        "cheat_reads_reference": svm_only | with_svm(honest_wrong, READ_REFERENCE),
        "cheat_copies_solutions": svm_only | with_svm(honest_wrong, COPY_SOLUTIONS),
        "cheat_special_cases": svm_only | with_svm(honest_wrong, SPECIAL_CASE),
        "infinite_loop": svm_only | with_svm(reference, HANG),
        "os_exit": svm_only | with_svm(reference, EXIT),
        "memory_bomb": svm_only | with_svm(reference, MEMORY_BOMB),
        "fork_bomb": svm_only | with_svm(reference, FORK_BOMB),
        "missing_module": svm_only | missing_module,
        "not_json": {"assignment1/svm.ipynb": b'{"cells": [ this is not JSON'} | reference,
    }


def write(folder: Path, release: dict[str, str]) -> dict[str, Path]:
    """Write every sample zip into ``folder``; return the paths by student id."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {student: write_zip(files, folder / f"{student}.zip") for student, files in build(release).items()}
    paths["corrupt_zip"] = folder / "corrupt_zip.zip"
    data = bytearray(paths["reference"].read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = b"\xff" * 64
    paths["corrupt_zip"].write_bytes(bytes(data))
    import zipfile

    paths["path_traversal"] = folder / "path_traversal.zip"
    with zipfile.ZipFile(paths["path_traversal"], "w") as archive:
        for name, data in (notebooks(release, ["svm"]) | reference_modules()).items():
            archive.writestr(name, data)
        archive.writestr("../../escaped_by_traversal.py", b"print('outside')")
        archive.writestr("/tmp/escaped_absolute.py", b"print('outside')")
    return paths
