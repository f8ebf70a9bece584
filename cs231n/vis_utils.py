"""Pictures of images and of learned weights."""

from __future__ import annotations

import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a batch of images into one image, scaling each to [0, ubound].

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)
        Images (any real dtype).
    ubound : float, default 255.0
        Each image is rescaled to [0, ubound].
    padding : int, default 1
        Blank pixels between neighbouring tiles.

    Returns
    -------
    grid : ndarray of float64, shape (rows * (H + padding) - padding, rows * (W + padding) - padding, C)
        With ``rows = ceil(sqrt(N))``; unused tiles stay 0.
    """
    Xs = np.asarray(Xs)
    if Xs.ndim != 4:
        raise ValueError(f"Xs must have shape (N, H, W, C), got {Xs.shape}")
    N, H, W, C = Xs.shape
    grid_size = int(np.ceil(np.sqrt(N)))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for index in range(N):
        row, col = divmod(index, grid_size)
        y0, x0 = row * (H + padding), col * (W + padding)
        image = Xs[index].astype(np.float64)
        low, high = image.min(), image.max()
        scale = ubound / (high - low) if high > low else 0.0
        grid[y0 : y0 + H, x0 : x0 + W] = (image - low) * scale
    return grid


def class_templates(W, image_shape=(32, 32, 3)):
    """Turn the weight columns of a linear classifier into images scaled to [0, 255].

    Parameters
    ----------
    W : ndarray, shape (D, C)
        Weights; a trailing bias row (D = prod(image_shape) + 1) is dropped.
    image_shape : tuple, default (32, 32, 3)

    Returns
    -------
    templates : ndarray of float64, shape (C, *image_shape)
        One picture per class: what the class's score responds to most ("template matching").
    """
    W = np.asarray(W, dtype=np.float64)
    pixels = int(np.prod(image_shape))
    if W.ndim != 2 or W.shape[0] not in (pixels, pixels + 1):
        raise ValueError(f"W must have shape ({pixels} or {pixels + 1}, C), got {W.shape}")
    weights = W[:pixels].T.reshape(W.shape[1], *image_shape)  # (C, H, W, 3)
    low, high = weights.min(), weights.max()
    scale = 255.0 / (high - low) if high > low else 0.0
    return (weights - low) * scale


def show_class_templates(W, class_names, ax=None):
    """Plot each class's weights as an image in one row of subplots; returns the figure."""
    import matplotlib.pyplot as plt

    templates = class_templates(W)
    if len(class_names) != templates.shape[0]:
        raise ValueError(f"{len(class_names)} class names for {templates.shape[0]} weight columns")
    figure, axes = plt.subplots(1, len(class_names), figsize=(1.5 * len(class_names), 2)) if ax is None else (ax[0].figure, ax)
    for axis, template, name in zip(np.ravel(axes), templates, class_names):
        axis.imshow(template.astype(np.uint8))
        axis.set_title(name)
        axis.axis("off")
    return figure


def search_grid(results):
    """Arrange search results on a grid of learning rate x regularization strength.

    Parameters
    ----------
    results : dict
        ``results[(learning_rate, reg)] = (training accuracy, validation accuracy)``.

    Returns
    -------
    rates : list of float, sorted, length R
    strengths : list of float, sorted, length S
    grid : ndarray of float64, shape (R, S)
        The validation accuracy of each pair; NaN where a pair was not tried.
    """
    rates = sorted({lr for lr, _ in results})
    strengths = sorted({reg for _, reg in results})
    grid = np.full((len(rates), len(strengths)), np.nan)  # (learning rates, strengths)
    for (lr, reg), (_, val_accuracy) in results.items():
        grid[rates.index(lr), strengths.index(reg)] = val_accuracy
    return rates, strengths, grid


def show_search(results, title):
    """Heat map of the validation accuracy over the search grid, each cell labelled; returns the figure.

    ``results`` is as for :func:`search_grid`. Tick labels keep two significant digits, so that 1.6e-06 is
    not shown as 2e-06.
    """
    import matplotlib.pyplot as plt

    rates, strengths, grid = search_grid(results)
    figure = plt.figure(figsize=(6, 4.5))
    plt.imshow(grid, cmap="viridis", origin="lower")
    plt.colorbar(label="validation accuracy")
    for (row, col), value in np.ndenumerate(grid):
        plt.text(col, row, f"{value:.3f}", ha="center", va="center", color="white")
    plt.xticks(range(len(strengths)), [f"{reg:.1e}" for reg in strengths])
    plt.yticks(range(len(rates)), [f"{lr:.1e}" for lr in rates])
    plt.xlabel("regularization strength")
    plt.ylabel("learning rate")
    plt.title(title)
    return figure
