"""Image features: a histogram of oriented gradients (HOG) and a histogram of hue, as in CS231n's features.

Each feature function takes one image, shape (H, W, C), and returns a 1-D feature vector, as CS231n's do. It
also takes a stack of images, shape (N, H, W, C), and then returns one row per image, shape (N, F), computed
for all of them at once: :func:`extract_features` hands it blocks of images instead of one image at a time,
which is what makes extracting the features of 50,000 images take seconds rather than minutes.

Images are RGB with the channel last; HOG also takes grayscale images, (H, W) or (N, H, W, 1). Integer pixels
(such as uint8) are converted to float64, and every feature is float64.
"""

import numbers

import numpy as np
from tqdm.auto import tqdm

# Luma weights of ITU-R BT.601. (CS231n's rgb2gray has 0.144 for blue, which makes the weights sum to 1.03.)
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])
HOG_ORIENTATIONS = 9  # bins of gradient orientation over [0, 180) degrees
HOG_CELL = 8  # pixels per side of a square cell
# Images per block in extract_features: enough to spread numpy's per-call cost, few enough that a block's
# working arrays (under 1 MB each for 32 x 32 images) stay in cache; 1000 measured a third slower.
BLOCK_SIZE = 100


def _image_stack(name, im, min_channels=1):
    """Return ``(stack, single)``: ``im`` as a float64 array (N, H, W, C), and whether it was one image.

    A 2-D array is one grayscale image, a 3-D array one image (H, W, C), a 4-D array a stack of images.
    """
    im = np.asarray(im)
    if im.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold pixel values (numbers), got dtype {im.dtype}")
    if im.ndim == 2:
        stack, single = im[np.newaxis, :, :, np.newaxis], True
    elif im.ndim == 3:
        stack, single = im[np.newaxis], True
    elif im.ndim == 4:
        stack, single = im, False
    else:
        raise ValueError(
            f"{name} must be one image (H, W, C), a grayscale image (H, W) or a stack of images (N, H, W, C), got "
            f"shape {im.shape}; rows of pixels go back to images with {name}.reshape(-1, 32, 32, 3)"
        )
    channels = stack.shape[-1]
    if channels < min_channels or channels == 2:
        expected = "3 (RGB)" if min_channels == 3 else "1 (grayscale) or 3 (RGB)"
        raise ValueError(f"{name} has {channels} channels in its last axis (shape {im.shape}); expected {expected}")
    stack = stack.astype(np.float64, copy=False)
    if im.dtype.kind == "f" and not np.all(np.isfinite(stack)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return stack, single


def rgb2gray(rgb):
    """Convert RGB images to grayscale with the BT.601 luma weights 0.299, 0.587 and 0.114.

    Parameters
    ----------
    rgb : array_like, shape (..., C), C >= 3
        RGB pixels in the last axis (any further channels, such as alpha, are ignored).

    Returns
    -------
    gray : ndarray of float64, shape (...)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim == 0 or rgb.shape[-1] < 3:
        raise ValueError(f"rgb must have the red, green and blue channels in its last axis, got shape {rgb.shape}")
    # Element-wise, in this order, not a matrix product: BLAS rounds differently for a stack than for one image,
    # and HOG counts a gradient or not by the sign of a difference of grays that may be 0 up to that rounding.
    red, green, blue = (rgb[..., channel].astype(np.float64, copy=False) for channel in range(3))
    return GRAY_WEIGHTS[0] * red + GRAY_WEIGHTS[1] * green + GRAY_WEIGHTS[2] * blue


def hog_feature(im):
    """Histogram of oriented gradients (HOG) of an image, or of each image of a stack.

    Modified from scikit-image 0.4's ``hog`` as CS231n's is (reference: N. Dalal and B. Triggs, Histograms of
    Oriented Gradients for Human Detection, CVPR 2005). The image is converted to grayscale; its gradients
    are forward differences (``gx`` along a row, ``gy`` down a column, 0 in the last column and row); the
    orientation of a gradient is ``arctan2(gy, gx + 1e-15)`` in degrees plus 90. The image is cut into
    8 x 8 cells from its top-left corner (leftover rows and columns are ignored) and each cell gets 9 bins:
    bin i is the sum of the gradient magnitudes whose orientation is in [20 i, 20 (i + 1)) and above 0,
    divided by 64 (the cell's mean). As in CS231n's, gradients outside (0, 180), those pointing to the left,
    count in no bin (folding them in scored no better with a linear SVM on CIFAR-10). Apart from the gray
    weights (see :func:`rgb2gray`) and the order of the cells, this is what CS231n's hog_feature computes.

    Parameters
    ----------
    im : array_like, shape (H, W, C), (H, W) or (N, H, W, C)
        An RGB image (C >= 3: the first three channels are used), a grayscale image (2-D, or C == 1), or a
        stack of N such images. H and W are at least 8.

    Returns
    -------
    feat : ndarray of float64, shape (F,) for one image, (N, F) for a stack
        F = (H // 8) * (W // 8) * 9: the cells in row-major order, each with its 9 bins. (CS231n's lists the
        cells column by column; any classifier is indifferent to that order.)
    """
    stack, single = _image_stack("im", im)
    height, width = stack.shape[1:3]
    if height < HOG_CELL or width < HOG_CELL:
        raise ValueError(f"hog_feature needs images of at least {HOG_CELL} x {HOG_CELL} pixels (one cell), "
                         f"got {height} x {width}")
    gray = stack[..., 0] if stack.shape[-1] == 1 else rgb2gray(stack)  # (N, H, W)
    features = _hog(gray)
    return features[0] if single else features


def _hog(gray):
    """HOG of grayscale images (N, H, W), as :func:`hog_feature` defines it; returns (N, F)."""
    num_images, height, width = gray.shape
    gx = np.zeros_like(gray)
    gy = np.zeros_like(gray)
    gx[:, :, :-1] = np.diff(gray, axis=2)  # (N, H, W), 0 in the last column
    gy[:, :-1, :] = np.diff(gray, axis=1)  # (N, H, W), 0 in the last row
    magnitude = np.sqrt(gx ** 2 + gy ** 2)
    orientation = np.arctan2(gy, gx + 1e-15) * (180 / np.pi) + 90  # degrees in (-90, 270]

    # Floor division is exact, so bin i holds exactly the orientations in [20 i, 20 (i + 1)), edges included.
    bins = (orientation // (180 / HOG_ORIENTATIONS)).astype(np.intp)  # (N, H, W)
    counted = (orientation > 0) & (orientation < 180)
    bins[~counted] = 0
    magnitude[~counted] = 0

    cell_rows, cell_cols = height // HOG_CELL, width // HOG_CELL
    used_rows, used_cols = cell_rows * HOG_CELL, cell_cols * HOG_CELL
    # Flat index of (image, cell row, cell column, bin) for every pixel, so one bincount sums all the cells.
    image_index = np.arange(num_images)[:, np.newaxis, np.newaxis]  # (N, 1, 1)
    row_index = (np.arange(used_rows) // HOG_CELL)[np.newaxis, :, np.newaxis]  # (1, H', 1)
    col_index = (np.arange(used_cols) // HOG_CELL)[np.newaxis, np.newaxis, :]  # (1, 1, W')
    cell = (image_index * cell_rows + row_index) * cell_cols + col_index  # (N, H', W')
    index = cell * HOG_ORIENTATIONS + bins[:, :used_rows, :used_cols]  # (N, H', W')
    size = num_images * cell_rows * cell_cols * HOG_ORIENTATIONS
    sums = np.bincount(index.ravel(), weights=magnitude[:, :used_rows, :used_cols].ravel(), minlength=size)
    return sums.reshape(num_images, -1) / HOG_CELL ** 2  # (N, F), cell means


def _hue(rgb):
    """The hue channel of ``matplotlib.colors.rgb_to_hsv(rgb)`` for float64 ``rgb`` (..., 3) in [0, 1].

    The same operations in the same order, so the same bits (the tests compare), without rgb_to_hsv's boolean
    indexing per channel and its saturation and value channels: about 9 times faster on CIFAR-10 images.
    """
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    top = np.maximum(np.maximum(red, green), blue)
    delta = top - np.minimum(np.minimum(red, green), blue)
    safe = np.where(delta > 0, delta, 1.0)  # gray pixels (delta 0) get hue 0 below, without dividing by 0
    # Where two channels tie for the largest, the later one decides, as in rgb_to_hsv.
    hue = np.where(blue == top, 4.0 + (red - green) / safe,
                   np.where(green == top, 2.0 + (blue - red) / safe, (green - blue) / safe))
    hue[delta == 0] = 0.0
    return (hue / 6.0) % 1.0


def color_histogram_hsv(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """Histogram of the hue of an image, or of each image of a stack.

    The hue is that of matplotlib's ``rgb_to_hsv(im / xmax)``, scaled to [0, xmax]. It is counted in ``nbin``
    equal bins over [xmin, xmax], those of ``np.histogram``: each closed on the left, the last closed on both
    sides; hues outside are not counted.

    Parameters
    ----------
    im : array_like, shape (H, W, 3) or (N, H, W, 3)
        An RGB image, or a stack of N of them, with pixel values in [0, xmax] (raw images, not mean-subtracted;
        further channels such as alpha are ignored).
    nbin : int, default 10
        Number of bins.
    xmin, xmax : float, default 0 and 255
        Range of the bins; ``xmax`` is also the largest pixel value (1.0 for images scaled to [0, 1]).
    normalized : bool, default True
        Return the fraction of the counted pixels in each bin (the bins sum to 1), as CS231n's does;
        otherwise the counts. (CS231n's unnormalized histogram is the counts times the bin width.)

    Returns
    -------
    imhist : ndarray of float64, shape (nbin,) for one image, (N, nbin) for a stack
        All zeros for an image none of whose hues falls in [xmin, xmax].
    """
    if isinstance(nbin, bool) or not isinstance(nbin, numbers.Integral) or nbin < 1:
        raise ValueError(f"nbin must be a positive integer, got {nbin!r}")
    for name, value in (("xmin", xmin), ("xmax", xmax)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not xmin < xmax or xmax <= 0:
        raise ValueError(f"xmin and xmax must satisfy xmin < xmax and xmax > 0, got xmin={xmin!r}, xmax={xmax!r}")
    stack, single = _image_stack("im", im, min_channels=3)
    rgb = stack[..., :3]
    low, high = rgb.min(), rgb.max()
    if low < 0 or high > xmax:
        raise ValueError(
            f"im holds pixel values from {low:g} to {high:g} but color_histogram_hsv needs them in [0, xmax={xmax:g}]; "
            "pass the raw images (before mean subtraction), or set xmax to the largest pixel value"
        )

    hue = _hue(rgb / xmax) * xmax  # (N, H, W), in [0, xmax]
    edges = np.linspace(xmin, xmax, nbin + 1)
    bins = np.searchsorted(edges, hue, side="right") - 1  # (N, H, W); -1 below xmin, nbin from xmax on
    bins[hue == edges[-1]] = nbin - 1  # the last bin is closed on the right
    counted = (bins >= 0) & (bins < nbin)
    image_index = np.broadcast_to(np.arange(len(hue))[:, np.newaxis, np.newaxis], hue.shape)  # (N, H, W)
    flat = image_index[counted] * nbin + bins[counted]
    counts = np.bincount(flat, minlength=len(hue) * nbin).reshape(len(hue), nbin).astype(np.float64)  # (N, nbin)
    if normalized:
        totals = counts.sum(axis=1, keepdims=True)  # (N, 1)
        counts = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return counts[0] if single else counts


def _runs_on_stacks(feature_fn, probe, per_image):
    """Whether ``feature_fn`` gives one row per image for a stack, the same as image by image.

    ``probe`` is a stack of the first images and ``per_image`` their features computed one at a time. A function
    written for one image only may fail on a stack in any way, or return something else; it then runs per image.
    """
    try:
        with np.errstate(all="ignore"):
            stacked = np.asarray(feature_fn(probe))
    except Exception:  # noqa: BLE001 - any failure on a stack means: call it image by image
        return False
    expected = np.stack(per_image)  # (len(probe), F)
    return (stacked.shape == expected.shape and stacked.dtype.kind in "biuf"
            and np.allclose(stacked, expected, rtol=1e-10, atol=1e-12, equal_nan=True))


def extract_features(imgs, feature_fns, verbose=False):
    """Apply every feature function to every image and concatenate each image's features into one row.

    A function that takes a stack of images and returns one row per image (as :func:`hog_feature` and
    :func:`color_histogram_hsv` do, and a ``lambda img: color_histogram_hsv(img, nbin=...)`` that passes its
    argument on) is called once per block of images. That is checked on the first two images, against the
    function called on each alone; any other function is called once per image, as CS231n's extraction calls
    every function.

    Parameters
    ----------
    imgs : array_like, shape (N, H, W, C)
        N images, N >= 1.
    feature_fns : sequence of callables
        k feature functions; the i-th takes one image (H, W, C) (squeezed of any axis of length 1, as in
        CS231n) and returns a 1-D array of length F_i.
    verbose : bool, default False
        Show a progress bar (tqdm) over the images.

    Returns
    -------
    features : ndarray of float64, shape (N, F_1 + ... + F_k)
        Row n holds the features of image n, those of the first function first.
    """
    imgs = np.asarray(imgs)
    if imgs.ndim != 4:
        raise ValueError(
            f"imgs must be a stack of images (N, H, W, C), got shape {imgs.shape}; rows of pixels go back to "
            "images with imgs.reshape(-1, 32, 32, 3)"
        )
    if len(imgs) == 0:
        raise ValueError("imgs holds no images to extract features from")
    feature_fns = list(feature_fns)
    if not feature_fns or not all(callable(fn) for fn in feature_fns):
        raise ValueError(f"feature_fns must be a non-empty list of functions, got {feature_fns!r}")

    probe = imgs[:2]
    dims, stackable = [], []
    for number, fn in enumerate(feature_fns):
        per_image = [np.asarray(fn(image.squeeze())) for image in probe]
        if per_image[0].ndim != 1:
            raise ValueError(f"feature_fns[{number}] returned an array of shape {per_image[0].shape} for one image; "
                             "feature functions must return a 1-D vector")
        dims.append(per_image[0].size)
        stackable.append(_runs_on_stacks(fn, probe, per_image))
    offsets = np.cumsum([0] + dims)

    features = np.empty((len(imgs), offsets[-1]))
    with tqdm(total=len(imgs), desc="extracting features", unit="image", disable=not verbose) as progress:
        for start in range(0, len(imgs), BLOCK_SIZE):
            block = imgs[start:start + BLOCK_SIZE]
            stop = start + len(block)
            for number, fn in enumerate(feature_fns):
                columns = slice(offsets[number], offsets[number + 1])
                if stackable[number]:
                    rows = np.asarray(fn(block))
                    if rows.shape != (len(block), dims[number]):
                        raise ValueError(f"feature_fns[{number}] returned shape {rows.shape} for a stack of "
                                         f"{len(block)} images; expected ({len(block)}, {dims[number]})")
                    features[start:stop, columns] = rows
                else:
                    for row, image in enumerate(block, start=start):
                        vector = np.asarray(fn(image.squeeze()))
                        if vector.shape != (dims[number],):
                            raise ValueError(f"feature_fns[{number}] returned shape {vector.shape} for image {row} but "
                                             f"({dims[number]},) for image 0; every image needs as many features")
                        features[row, columns] = vector
            progress.update(len(block))
    return features
