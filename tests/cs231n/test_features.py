"""Image features: the stacked computations equal straightforward per-image definitions, and bad input is named."""

import math

import matplotlib.colors
import numpy as np
import pytest

from cs231n import features
from cs231n.features import color_histogram_hsv, extract_features, hog_feature, rgb2gray


def images(num=5, height=32, width=32, levels=256, seed=0):
    """uint8 RGB images. Few ``levels`` give flat patches: zero gradients and pixels of equal channels."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, levels, (num, height, width, 3)) * (255 // (levels - 1))).astype(np.uint8)


def reference_gray(image):
    height, width = image.shape[:2]
    gray = np.zeros((height, width))
    for r in range(height):
        for c in range(width):
            red, green, blue = (float(v) for v in image[r, c, :3])
            gray[r, c] = 0.299 * red + 0.587 * green + 0.114 * blue
    return gray


def reference_hog(image):
    """HOG of one image, pixel by pixel and cell by cell, as hog_feature's docstring defines it."""
    gray = image.astype(np.float64) if image.ndim == 2 else reference_gray(image)
    height, width = gray.shape
    feature = []
    for cell_row in range(height // 8):
        for cell_col in range(width // 8):
            bins = [0.0] * 9
            for r in range(cell_row * 8, cell_row * 8 + 8):
                for c in range(cell_col * 8, cell_col * 8 + 8):
                    gx = gray[r, c + 1] - gray[r, c] if c + 1 < width else 0.0
                    gy = gray[r + 1, c] - gray[r, c] if r + 1 < height else 0.0
                    # The same float expression as CS231n's, so that orientations on a bin edge agree exactly.
                    orientation = np.arctan2(gy, gx + 1e-15) * (180 / np.pi) + 90
                    for i in range(9):
                        if 20.0 * i <= orientation < 20.0 * (i + 1) and orientation > 0:
                            bins[i] += math.sqrt(gx * gx + gy * gy)
            feature.extend(value / 64 for value in bins)
    return np.array(feature)


def reference_color_histogram(image, nbin=10, xmin=0, xmax=255, normalized=True):
    """CS231n's per-image definition (np.histogram of the hue), with plain counts when not normalized."""
    hsv = matplotlib.colors.rgb_to_hsv(image[..., :3].astype(np.float64) / xmax) * xmax
    counts, edges = np.histogram(hsv[:, :, 0], bins=np.linspace(xmin, xmax, nbin + 1), density=False)
    if not normalized:
        return counts.astype(np.float64)
    if counts.sum() == 0:
        return np.zeros(nbin)
    density, edges = np.histogram(hsv[:, :, 0], bins=np.linspace(xmin, xmax, nbin + 1), density=True)
    return density * np.diff(edges)


def test_rgb2gray_uses_the_bt601_weights_on_any_stack():
    stack = images(num=3, height=4, width=5)
    expected = np.stack([reference_gray(image) for image in stack])
    np.testing.assert_allclose(rgb2gray(stack), expected, rtol=1e-15)
    np.testing.assert_allclose(rgb2gray(stack[0]), expected[0], rtol=1e-15)
    assert rgb2gray(np.full((2, 2, 3), 200.0)) == pytest.approx(np.full((2, 2), 200.0))  # weights sum to 1


@pytest.mark.parametrize(("height", "width", "levels"), [(32, 32, 256), (32, 32, 3), (20, 27, 256), (8, 8, 2)])
def test_hog_of_a_stack_equals_the_per_image_definition(height, width, levels):
    stack = images(num=4, height=height, width=width, levels=levels, seed=height + levels)
    expected = np.stack([reference_hog(image) for image in stack])
    got = hog_feature(stack)
    assert got.shape == (4, (height // 8) * (width // 8) * 9) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hog_feature(stack[1]), expected[1], rtol=1e-12, atol=1e-12)
    if levels < 256:  # flat patches: many zero gradients, orientations on the edges of bins 0 and 8
        assert np.count_nonzero(expected == 0) > 0


def test_hog_is_the_same_for_a_stack_and_for_each_image_where_gray_differences_round_to_either_sign():
    # 0.299 * 15 + 0.587 * -9 + 0.114 * 7 = 0: neighbouring pixels A and A + (15, -9, 7) have the same gray in
    # exact arithmetic, so the sign of gx, which decides whether a gradient counts, is the sign of a rounding.
    rng = np.random.default_rng(4)
    base = rng.integers(0, 241, (6, 16, 8, 3))
    pairs = np.stack([base, base + [15, -9, 7]], axis=3).reshape(6, 16, 16, 3)  # A, B, A, B, ... along rows
    stack = np.clip(pairs, 0, 255).astype(np.uint8)
    stacked = hog_feature(stack)
    for image, row in zip(stack, stacked):
        np.testing.assert_array_equal(hog_feature(image), row)
        np.testing.assert_allclose(row, reference_hog(image), rtol=1e-12, atol=1e-12)


def test_hog_counts_no_gradient_that_points_left():
    image = np.zeros((8, 8))
    image[:, 4:] = 100.0  # brighter to the right: gx > 0 at column 3, orientation 90, bin 4
    feature = hog_feature(image)
    assert np.flatnonzero(feature).tolist() == [4]
    assert feature[4] == pytest.approx(8 * 100.0 / 64)
    assert not hog_feature(image[:, ::-1]).any()  # brighter to the left: gx < 0, outside (0, 180)


def test_hog_takes_grayscale_images_in_either_shape_and_integer_or_float_pixels():
    stack = images(num=2)
    gray = rgb2gray(stack)  # (2, 32, 32)
    np.testing.assert_allclose(hog_feature(gray[0]), reference_hog(gray[0]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(hog_feature(gray[..., np.newaxis]), np.stack([hog_feature(g) for g in gray]))
    np.testing.assert_array_equal(hog_feature(stack), hog_feature(stack.astype(np.float64)))


@pytest.mark.parametrize(
    ("kwargs", "levels"),
    [({}, 256), ({}, 2), ({"nbin": 7}, 256), ({"normalized": False}, 256), ({"xmin": 100}, 256),
     ({"xmin": 250}, 2)],
)
def test_color_histogram_of_a_stack_equals_np_histogram_per_image(kwargs, levels):
    stack = images(num=4, height=9, width=11, levels=levels, seed=levels)
    expected = np.stack([reference_color_histogram(image, **kwargs) for image in stack])
    got = color_histogram_hsv(stack, **kwargs)
    assert got.shape == (4, kwargs.get("nbin", 10)) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(color_histogram_hsv(stack[2], **kwargs), expected[2], rtol=1e-12, atol=1e-15)


def test_color_histogram_of_images_scaled_to_one_and_of_gray_pixels():
    stack = images(num=3, height=6, width=6).astype(np.float64) / 255
    expected = np.stack([reference_color_histogram(image, xmax=1.0) for image in stack])
    np.testing.assert_allclose(color_histogram_hsv(stack, xmax=1.0), expected, rtol=1e-12, atol=1e-15)
    # Red the largest, blue a hair above green: the hue rounds up to exactly 1.0, on the closed right edge.
    edge = np.array([[[1.0, 0.5, np.nextafter(0.5, 1.0)], [0.0, 0.0, 1.0]]])  # (1, 2, 3)
    assert matplotlib.colors.rgb_to_hsv(edge)[0, 0, 0] == 1.0
    np.testing.assert_array_equal(color_histogram_hsv(edge, xmax=1.0, normalized=False),
                                  reference_color_histogram(edge, xmax=1.0, normalized=False))
    assert color_histogram_hsv(edge, xmax=1.0, normalized=False)[-1] == 1
    gray = np.full((4, 4, 3), 77, dtype=np.uint8)  # no saturation: hue 0, all in the first bin
    np.testing.assert_array_equal(color_histogram_hsv(gray), [1.0] + [0.0] * 9)
    assert color_histogram_hsv(gray, normalized=False)[0] == 16
    np.testing.assert_array_equal(color_histogram_hsv(gray, xmin=10), np.zeros(10))  # no hue in [10, 255]


@pytest.mark.parametrize("levels", [2, 3, 256, None])
def test_the_hue_is_bit_for_bit_that_of_matplotlib_rgb_to_hsv(levels):
    rng = np.random.default_rng(levels or 0)
    # Few levels: grays and ties between the largest channels; None: any float in [0, 1].
    rgb = rng.random((50, 16, 16, 3)) if levels is None else rng.integers(0, levels, (50, 16, 16, 3)) / (levels - 1)
    np.testing.assert_array_equal(features._hue(rgb), matplotlib.colors.rgb_to_hsv(rgb)[..., 0])


def cs231n_extract_features(imgs, feature_fns):
    """CS231n's definition: every function on every image, one at a time, concatenated per image."""
    return np.stack([np.concatenate([fn(image.squeeze()) for fn in feature_fns]) for image in imgs])


def test_extract_features_in_blocks_equals_calling_every_function_on_every_image(monkeypatch):
    monkeypatch.setattr(features, "BLOCK_SIZE", 3)  # 8 images: blocks of 3, 3 and 2
    stack = images(num=8, height=16, width=24)
    feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=6)]
    got = extract_features(stack, feature_fns)
    assert got.shape == (8, 2 * 3 * 9 + 6) and got.dtype == np.float64
    np.testing.assert_allclose(got, cs231n_extract_features(stack, feature_fns), rtol=1e-12, atol=1e-15)


def test_functions_written_for_one_image_are_called_one_image_at_a_time(monkeypatch):
    monkeypatch.setattr(features, "BLOCK_SIZE", 4)
    stack = images(num=6, height=8, width=8)
    calls = []

    def mean_colour(img):  # on a stack this would average over the images: it must not get one
        calls.append(img.shape)
        return img.mean(axis=(0, 1))

    def differs_on_stacks(img):  # the right shape for a stack, but not the per-image values
        return img.reshape(-1, 8 * 8 * 3)[:, :4].sum(axis=1) if img.ndim == 4 else img.reshape(-1)[:4] * 1.0

    feature_fns = [mean_colour, differs_on_stacks, hog_feature]
    got = extract_features(stack, feature_fns)
    # The probe: the first two images one at a time and as a stack; then each image once.
    assert calls == [(8, 8, 3)] * 2 + [(2, 8, 8, 3)] + [(8, 8, 3)] * 6
    np.testing.assert_allclose(got, cs231n_extract_features(stack, feature_fns), rtol=1e-12, atol=1e-15)


def test_verbose_extraction_shows_a_progress_bar(capsys):
    extract_features(images(num=3, height=8, width=8), [hog_feature], verbose=True)
    assert "extracting features" in capsys.readouterr().err
    extract_features(images(num=3, height=8, width=8), [hog_feature])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: extract_features(images(num=2).reshape(2, -1), [hog_feature]),
         r"imgs must be a stack of images \(N, H, W, C\), got shape \(2, 3072\); .*reshape\(-1, 32, 32, 3\)"),
        (lambda: extract_features(images(num=2)[:0], [hog_feature]), "imgs holds no images"),
        (lambda: extract_features(images(num=2), []), "feature_fns must be a non-empty list of functions"),
        (lambda: extract_features(images(num=2), [lambda img: img[:, :, 0]]),
         r"feature_fns\[0\] returned an array of shape \(32, 32\) for one image; .* 1-D vector"),
        (lambda: color_histogram_hsv(images(num=1)[0] - 128.0),
         r"pixel values from -128 to 127 .* \[0, xmax=255\]; pass the raw images \(before mean subtraction\)"),
        (lambda: color_histogram_hsv(images(num=1)[0], nbin=0), "nbin must be a positive integer, got 0"),
        (lambda: color_histogram_hsv(images(num=1)[0], xmin=255), "xmin < xmax"),
        (lambda: color_histogram_hsv(images(num=1)[0, :, :, :1]), r"1 channels .* expected 3 \(RGB\)"),
        (lambda: hog_feature(np.zeros((7, 20))), "at least 8 x 8 pixels .* got 7 x 20"),
        (lambda: hog_feature(np.zeros((8, 8, 2))), r"2 channels .* expected 1 \(grayscale\) or 3 \(RGB\)"),
        (lambda: hog_feature(np.full((8, 8), np.nan)), "im contains NaN or infinite values"),
        (lambda: hog_feature(np.zeros((1, 1, 8, 8, 3))), r"im must be one image \(H, W, C\)"),
        (lambda: rgb2gray(np.zeros((4, 2))), r"rgb must have the red, green and blue channels .* \(4, 2\)"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()
