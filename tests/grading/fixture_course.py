"""A small stand-in for ``solutions/source/assignment1`` with the same conventions, for grading tests.

The grading tests use the real source notebooks and hidden checks; this module writes a course with the
same metadata conventions (a locked first cell that finds the bundle root, ``test_NAME`` and
``hidden_NAME`` cells per graded function, inline questions, ``hidden_checks.py`` with ``NAMES``,
``cases``, ``run``, ``compare``, ``check``), whose cells take milliseconds. It is used when the real source
is absent, so the grader can be exercised on its own.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SETUP = '''import os, sys
from pathlib import Path
root = Path.cwd()
while not (root / "cs231n" / "data_utils.py").is_file():
    if root.parent == root:
        raise RuntimeError("run this notebook inside the assignment bundle")
    root = root.parent
sys.path.insert(0, str(root))
%load_ext autoreload
%autoreload 2
import numpy as np'''

VISIBLE = {
    "knn": {
        "compute_distances_two_loops": "from cs231n.classifiers import KNearestNeighbor\n"
        "rng = np.random.default_rng(0)\nXtr = rng.standard_normal((20, 5)); Xte = rng.standard_normal((4, 5))\n"
        "knn = KNearestNeighbor(); knn.train(Xtr, np.arange(20) % 3)\n"
        "truth = np.sqrt(((Xte[:, None] - Xtr[None]) ** 2).sum(-1))\n"
        "assert np.allclose(knn.compute_distances_two_loops(Xte), truth)",
        "compute_distances_one_loop": "assert np.allclose(knn.compute_distances_one_loop(Xte), truth)",
        "compute_distances_no_loops": "assert np.allclose(knn.compute_distances_no_loops(Xte), truth)",
        "predict_labels": "assert knn.predict_labels(truth, k=1).shape == (4,)",
    },
    "svm": {
        "svm_loss_naive": "from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized\n"
        "rng = np.random.default_rng(1)\nW = rng.standard_normal((6, 3)) * 0.01; X = rng.standard_normal((60, 6))\n"
        "y = rng.integers(0, 3, 60)\nloss, grad = svm_loss_naive(W, X, y, 0.1)\nassert grad.shape == W.shape and loss > 0",
        "svm_loss_vectorized": "loss_v, grad_v = svm_loss_vectorized(W, X, y, 0.1)\n"
        "assert abs(loss - loss_v) < 1e-8 and np.allclose(grad, grad_v)",
        "linear_classifier_train": "from cs231n.classifiers import LinearSVM\n"
        "svm = LinearSVM(); history = svm.train(X, y, num_iters=20, batch_size=5, seed=0)\nassert len(history) == 20",
        "linear_classifier_predict": "assert svm.predict(X).shape == (60,)",
    },
    "softmax": {
        "softmax_loss_naive": "from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized\n"
        "rng = np.random.default_rng(2)\nW = rng.standard_normal((6, 3)) * 0.01; X = rng.standard_normal((60, 6))\n"
        "y = rng.integers(0, 3, 60)\nloss, grad = softmax_loss_naive(W, X, y, 0.0)\nassert abs(loss - np.log(3)) < 0.1",
        "softmax_loss_vectorized": "loss_v, grad_v = softmax_loss_vectorized(W, X, y, 0.0)\n"
        "assert abs(loss - loss_v) < 1e-8 and np.allclose(grad, grad_v)",
    },
}

HIDDEN_CHECKS = '''"""Hidden checks of the stand-in course (same interface as the real ones)."""
import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np

NAMES = [
    "compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops", "predict_labels",
    "svm_loss_naive", "svm_loss_vectorized", "linear_classifier_train", "linear_classifier_predict",
    "softmax_loss_naive", "softmax_loss_vectorized",
]
MODULES = ["k_nearest_neighbor", "linear_svm", "softmax", "linear_classifier"]
_REFERENCE = None


def _reference_dir():
    if os.environ.get("CS231N_REFERENCE_DIR"):
        return Path(os.environ["CS231N_REFERENCE_DIR"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "solutions" / "cs231n" / "classifiers").is_dir():
            return parent / "solutions" / "cs231n" / "classifiers"
    raise FileNotFoundError("reference classifiers not found; set CS231N_REFERENCE_DIR")


def reference():
    global _REFERENCE
    if _REFERENCE is None:
        folder, package = _reference_dir(), "_stand_in_reference"
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module
        _REFERENCE = {}
        for name in ["input_checks"] + MODULES:
            spec = importlib.util.spec_from_file_location(f"{package}.{name}", folder / f"{name}.py")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = loaded
            spec.loader.exec_module(loaded)
            _REFERENCE[name] = loaded
    return _REFERENCE


def cases(name):
    rng = np.random.default_rng(NAMES.index(name))
    out = []
    for n in (1, 7):
        out.append({
            "W": rng.standard_normal((5, 4)) * 0.1, "X": rng.standard_normal((n, 5)), "y": rng.integers(0, 4, n),
            "reg": 0.0 if n == 1 else 0.3, "Xtr": rng.integers(0, 256, (9, 5)).astype(np.uint8),
            "ytr": rng.integers(0, 4, 9), "Xte": rng.integers(0, 256, (n, 5)).astype(np.uint8),
        })
    return out


def run(name, modules, case):
    if name.startswith("compute_distances"):
        knn = modules["k_nearest_neighbor"].KNearestNeighbor()
        knn.train(case["Xtr"], case["ytr"])
        return {"dists": np.asarray(getattr(knn, name)(case["Xte"]), dtype=float)}
    if name == "predict_labels":
        knn = modules["k_nearest_neighbor"].KNearestNeighbor()
        knn.train(case["Xtr"], case["ytr"])
        dists = np.abs(case["Xte"][:, :1].astype(float) - case["Xtr"][:, 0].astype(float)[None])
        return {"labels": np.asarray(knn.predict_labels(dists, k=3))}
    if name.startswith("svm_loss"):
        loss, grad = getattr(modules["linear_svm"], name)(case["W"], case["X"], case["y"], case["reg"])
        return {"loss": np.asarray(loss, float), "dW": np.asarray(grad, float)}
    if name.startswith("softmax_loss"):
        loss, grad = getattr(modules["softmax"], name)(case["W"], case["X"], case["y"], case["reg"])
        return {"loss": np.asarray(loss, float), "dW": np.asarray(grad, float)}
    if name == "linear_classifier_train":
        model = modules["linear_classifier"].LinearSVM()
        history = model.train(case["X"], case["y"], num_iters=5, batch_size=3, seed=0)
        return {"history": np.asarray(history, float), "W": np.asarray(model.W, float)}
    if name == "linear_classifier_predict":
        model = modules["linear_classifier"].LinearSVM()
        model.W = case["W"]
        return {"labels": np.asarray(model.predict(case["X"]))}
    raise KeyError(name)


def compare(name, expected, got):
    for key, value in expected.items():
        if key not in got:
            return False, f"output {key} missing"
        have = np.asarray(got[key])
        if have.shape != value.shape:
            return False, f"{key} has shape {have.shape}, expected {value.shape}"
        if not np.allclose(have, value, rtol=1e-6, atol=1e-8):
            return False, f"{key} differs from the expected values"
    return True, "ok"


def check(name):
    import importlib
    student = {m: importlib.import_module(f"cs231n.classifiers.{m}") for m in MODULES}
    for case in cases(name):
        passed, message = compare(name, run(name, reference(), case), run(name, student, case))
        assert passed, f"{name}: {message}"
'''


def _meta(grade_id, grade=False, solution=False, locked=False, points=0):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def write_course(source_dir: Path) -> Path:
    """Write ``knn/svm/softmax.ipynb`` and ``hidden_checks.py`` into ``source_dir`` (created)."""
    source_dir.mkdir(parents=True, exist_ok=True)
    for notebook, tests in VISIBLE.items():
        cells = [new_markdown_cell(f"# {notebook}"), new_code_cell(SETUP, metadata=_meta("setup", locked=True))]
        for name, code in tests.items():
            cells.append(new_code_cell(code, metadata=_meta(f"test_{name}", grade=True, points=2)))
            hidden = f'# hidden tests\n### BEGIN HIDDEN TESTS\nimport hidden_checks\nhidden_checks.check("{name}")\n### END HIDDEN TESTS'
            cells.append(new_code_cell(hidden, metadata=_meta(f"hidden_{name}", grade=True, points=3)))
        cells.append(new_markdown_cell("**Inline question 1**: explain your result."))
        answer = "### BEGIN SOLUTION\nThe reference answer.\n### END SOLUTION"
        cells.append(new_markdown_cell(answer, metadata=_meta("inline_question_1", grade=True, solution=True, points=2)))
        kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), source_dir / f"{notebook}.ipynb")
    (source_dir / "hidden_checks.py").write_text(HIDDEN_CHECKS, encoding="utf-8")
    return source_dir
