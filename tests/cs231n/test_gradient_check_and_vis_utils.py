"""Gradient checks return numbers that can be asserted on; pictures have the right shapes and scale."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from cs231n.gradient_check import eval_numerical_gradient, grad_check_sparse, relative_error
from cs231n.vis_utils import class_templates, search_grid, show_class_templates, show_search, visualize_grid


def quadratic(x):
    return float(np.sum(x**3) + 2 * np.sum(x))


def test_numerical_gradient_matches_the_derivative_and_restores_x():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(quadratic, x, verbose=False)
    np.testing.assert_allclose(grad, 3 * before**2 + 2, rtol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_sparse_check_returns_small_errors_for_a_right_gradient_and_large_for_a_wrong_one(capsys):
    x = np.random.default_rng(1).standard_normal((5, 6))
    right = grad_check_sparse(quadratic, x, 3 * x**2 + 2, num_checks=8, seed=0)
    wrong = grad_check_sparse(quadratic, x, 3 * x**2, num_checks=8, seed=0, verbose=False)
    assert right.shape == (8,) and np.max(right) < 1e-7
    assert np.min(wrong) > 1e-3
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8 and lines[0].startswith("numerical: ") and "relative error: " in lines[0]


def test_sparse_check_is_seeded():
    x = np.random.default_rng(2).standard_normal((40, 40))
    wrong = np.random.default_rng(3).standard_normal((40, 40))
    first = grad_check_sparse(quadratic, x, wrong, seed=5, verbose=False)
    again = grad_check_sparse(quadratic, x, wrong, seed=5, verbose=False)
    np.testing.assert_array_equal(first, again)


def test_sparse_check_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"analytic_grad has shape \(2,\) but x has shape \(3,\)"):
        grad_check_sparse(quadratic, np.zeros(3), np.zeros(2))


def test_relative_error_is_zero_for_equal_values_and_one_for_opposite_signs():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(2.0, -2.0) == pytest.approx(1.0)


def test_grid_places_each_image_scaled_to_the_bound():
    images = np.stack([np.full((2, 3, 1), v) for v in range(5)]).astype(float)
    images[:, 0, 0, 0] = -1.0  # give each image a range to scale
    grid = visualize_grid(images, ubound=1.0, padding=1)
    assert grid.shape == (3 * 2 + 2, 3 * 3 + 2, 1)
    assert grid[0, 0, 0] == 0.0 and grid[1, 1, 0] == 1.0  # first tile: min -> 0, max -> ubound
    assert np.all(grid[6:, 8:] == 0)  # the ninth tile is unused


def test_class_templates_drop_the_bias_row_and_span_0_to_255():
    W = np.random.default_rng(4).standard_normal((3073, 10))
    templates = class_templates(W)
    assert templates.shape == (10, 32, 32, 3)
    assert templates.min() == 0.0 and templates.max() == pytest.approx(255.0)
    np.testing.assert_allclose(class_templates(W[:-1]), templates)


def test_show_class_templates_draws_one_titled_panel_per_class():
    figure = show_class_templates(np.random.default_rng(5).standard_normal((3072, 3)), ["a", "b", "c"])
    assert [axis.get_title() for axis in figure.axes] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2 class names for 3 weight columns"):
        show_class_templates(np.zeros((3072, 3)), ["a", "b"])


def test_search_grid_places_each_accuracy_at_its_rate_and_strength_and_leaves_gaps_empty():
    results = {(1.6e-6, 1e3): (0.5, 0.31), (4e-7, 1e3): (0.4, 0.22), (4e-7, 5e3): (0.45, 0.27)}
    rates, strengths, grid = search_grid(results)
    assert rates == [4e-7, 1.6e-6] and strengths == [1e3, 5e3]
    np.testing.assert_array_equal(grid, [[0.22, 0.27], [0.31, np.nan]])


def test_show_search_labels_every_cell_and_keeps_two_significant_digits():
    results = {(lr, reg): (0.5, 0.1 * i + 0.1 * j) for i, lr in enumerate([4e-7, 8e-7, 1.6e-6])
               for j, reg in enumerate([1e3, 2e3])}
    figure = show_search(results, "search")
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["4.0e-07", "8.0e-07", "1.6e-06"]
    assert [label.get_text() for label in axis.get_xticklabels()] == ["1.0e+03", "2.0e+03"]
    assert sorted(text.get_text() for text in axis.texts) == sorted(f"{v[1]:.3f}" for v in results.values())
    assert axis.get_title() == "search"
