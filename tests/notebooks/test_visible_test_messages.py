"""A visible test cell that fails says what it expected, what it got, and the likely mistake.

The reference submission is broken on purpose in two common ways (distances without the square root, the
regularization gradient reg * W instead of 2 * reg * W) and the source notebooks run against it in a real
kernel: the cells that test those functions must fail with messages that name the mistake.
"""

from __future__ import annotations

import pytest

from bench.notebook_bundle import cell_errors, execute, kernel_env, make_bundle

pytestmark = pytest.mark.slow

BREAKAGES = {
    "k_nearest_neighbor.py": ("dists[i, j] = np.sqrt(np.dot(difference, difference))",
                              "dists[i, j] = np.dot(difference, difference)"),
    "linear_svm.py": ("    dW = X.T @ coefficients  # (D, C)\n    dW += 2 * reg * W\n",
                      "    dW = X.T @ coefficients  # (D, C)\n    dW += reg * W\n"),
}


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory, small_cifar_dir):
    assignment = make_bundle(tmp_path_factory.mktemp("broken-bundle"))
    classifiers = assignment.parent / "cs231n" / "classifiers"
    for name, (right, wrong) in BREAKAGES.items():
        path = classifiers / name
        source = path.read_text(encoding="utf-8")
        assert source.count(right) == 1, f"{name} no longer holds {right!r}: update BREAKAGES"
        path.write_text(source.replace(right, wrong), encoding="utf-8")
    env = kernel_env(small_cifar_dir)
    return {name: execute(assignment / f"{name}.ipynb", env)[0] for name in ("knn", "svm")}


def failure_of(notebook, grade_id: str) -> str:
    errors = {cell.metadata.get("nbgrader", {}).get("grade_id"): output for _, cell, output in cell_errors(notebook)}
    assert grade_id in errors, f"{grade_id} passed against a broken implementation"
    assert errors[grade_id]["ename"] == "AssertionError"
    return errors[grade_id]["evalue"]


def test_distances_without_the_square_root_are_shown_beside_the_expected_ones_with_the_hint(broken_runs):
    message = failure_of(broken_runs["knn"], "test_compute_distances_two_loops")
    assert message.startswith("compute_distances_two_loops on a small uint8 example")
    assert "differs from the expected value at 21 of 21 entries, shape (3, 7) as expected" in message
    assert "first differing entries (index: got vs expected):\n    (0, 0): " in message
    assert "relative error " in message
    assert message.endswith("hint: each value is about the square of the expected one: a missing square root?")
    # The one-loop version passes; the no-loop version, compared with the two-loop output, points back to it.
    failed = {cell.metadata["nbgrader"]["grade_id"] for _, cell, _ in cell_errors(broken_runs["knn"])
              if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")}
    assert failed == {"test_compute_distances_two_loops", "test_compute_distances_no_loops"}
    assert failure_of(broken_runs["knn"], "test_compute_distances_no_loops").endswith(
        "hint: the expected values come from your compute_distances_two_loops: if its test fails, fix it first")


def test_a_regularization_gradient_missing_its_factor_two_is_named(broken_runs):
    message = failure_of(broken_runs["svm"], "test_svm_loss_vectorized")
    assert message.startswith("svm_loss_vectorized's dW against svm_loss_naive's (reg=50000): differs from the "
                              "expected value at ")
    assert "shape (3073, 10) as expected" in message
    assert message.endswith("hint: the regularization gradient is 2 * reg * W, not reg * W")
