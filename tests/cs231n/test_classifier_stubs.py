"""The student stubs cs231n/classifiers/*.py as a student gets them: every import used, every loss checked.

The stubs are generated from the reference by ``make stubs``; these tests read the generated files, so a
reference whose imports serve only its solution code, or whose input checks sit inside a solution fence,
shows up here as the student would see it.
"""

import ast
from pathlib import Path

import numpy as np
import pytest

import cs231n.classifiers
from cs231n.classifiers import linear_classifier, linear_svm, softmax

STUBS = sorted(Path(cs231n.classifiers.__file__).parent.glob("*.py"))


def unused_imports(source: str) -> set[str]:
    """Names a module imports at its top level but never reads (``__all__`` counts as a use)."""
    tree = ast.parse(source)
    imported = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            used |= set(ast.literal_eval(node.value))
    return imported - used


def test_the_unused_import_finder_finds_one():
    source = "import numpy as np\nfrom .input_checks import a, b\n\n\ndef f():\n    return a\n"
    assert unused_imports(source) == {"np", "b"}


@pytest.mark.parametrize("stub", STUBS, ids=lambda p: p.name)
def test_a_stub_imports_nothing_it_does_not_use(stub):
    assert unused_imports(stub.read_text(encoding="utf-8")) == set()


def small_problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 3)), rng.standard_normal((6, 4)), np.array([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize(
    "loss",
    [linear_svm.svm_loss_naive, linear_svm.svm_loss_vectorized, softmax.softmax_loss_naive,
     softmax.softmax_loss_vectorized],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda W, X, y: (W, X[:, :-1], y, 0.1), "X has 3 columns but W has 4 rows"),
        (lambda W, X, y: (W, X, y + 1, 0.1), r"y must lie in \[0, 2\]"),
        (lambda W, X, y: (W, X, y, -1.0), "reg must be a finite number >= 0"),
        (lambda W, X, y: (W * np.nan, X, y, 0.1), "W contains NaN or infinite values"),
    ],
)
def test_an_unwritten_loss_function_still_refuses_bad_input_before_asking_for_its_code(loss, change, message):
    # The grader calls these functions directly: the checks run before the student's part, written or not.
    W, X, y = small_problem()
    with pytest.raises(ValueError, match=message):
        loss(*change(W, X, y))
    with pytest.raises(NotImplementedError, match=f"Implement {loss.__name__} in cs231n/classifiers/"):
        loss(W, X, y, 0.1)


def test_an_untrained_stub_classifier_refuses_bad_training_data_before_asking_for_its_code():
    W, X, y = small_problem()
    with pytest.raises(ValueError, match=r"y must be a 1-D array with one label per example \(6\)"):
        linear_classifier.LinearSVM().train(X, y[:-1])
    with pytest.raises(NotImplementedError, match="Implement LinearClassifier.train in cs231n/classifiers/"):
        linear_classifier.LinearSVM().train(X, y)
