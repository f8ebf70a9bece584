"""Loading CIFAR-10 from its python-format batches and building the notebooks' splits.

:func:`load_CIFAR10` returns float64 images by default, as CS231n's loader does, so that code written for
it (``X_train -= np.mean(X_train, axis=0)``) works unchanged. ``dtype=np.uint8`` keeps the stored pixels
instead: 150 MB for the whole data set rather than 1.2 GB of float64; the bundle's notebooks and
:func:`get_CIFAR10_data` load that way and convert only the rows they use.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (32, 32, 3)
PIXELS = 32 * 32 * 3
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
DOWNLOAD_COMMAND = "bash datasets/get_datasets.sh"


def bundle_root() -> Path:
    """The folder that holds ``cs231n/`` (and ``datasets/``, ``assignment1/``)."""
    return Path(__file__).resolve().parents[1]


def default_cifar10_dir() -> Path:
    """Where the data is: ``$CIFAR10_DIR`` when set, else ``datasets/cifar-10-batches-py`` in the bundle."""
    override = os.environ.get("CIFAR10_DIR")
    if override:
        return Path(override).expanduser()
    return bundle_root() / "datasets" / "cifar-10-batches-py"


def _missing_data_error(path: Path) -> FileNotFoundError:
    return FileNotFoundError(
        f"CIFAR-10 not found at {path}. Download it with `{DOWNLOAD_COMMAND}` from the bundle's top folder, "
        "or set CIFAR10_DIR to the folder that holds data_batch_1 ... data_batch_5 and test_batch."
    )


def _get(batch: dict, key: str):
    """A batch entry under either key style: ``'data'`` (read with latin1) or ``b'data'`` (bytes keys)."""
    if key in batch:
        return batch[key]
    if key.encode() in batch:
        return batch[key.encode()]
    raise KeyError(key)


def _image_dtype(dtype) -> np.dtype:
    """``dtype`` as a numpy dtype if images can be returned in it (uint8 or floating point), else ``ValueError``."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be np.uint8 or a floating-point type such as np.float64, got {dtype!r}") from error
    if dtype != np.uint8 and dtype.kind != "f":
        raise ValueError(
            f"dtype must be np.uint8 (the stored pixels) or a floating-point type such as np.float64 or np.float32, "
            f"got {dtype}; other integer types would wrap around or waste memory"
        )
    return dtype


def load_CIFAR_batch(filename, dtype=np.float64):
    """Load one CIFAR-10 batch file.

    Parameters
    ----------
    filename : str or Path
        A batch file of the python version of CIFAR-10 (a pickle with ``data`` and ``labels``).
    dtype : numpy dtype, default np.float64
        Type of the returned images: np.uint8 keeps the stored pixels (8 times less memory), a
        floating-point type converts them (values stay 0 ... 255).

    Returns
    -------
    X : ndarray of ``dtype``, shape (N, 32, 32, 3)
        Images, height x width x RGB, C-contiguous.
    y : ndarray of int64, shape (N,)
        Labels in [0, 10).

    Raises
    ------
    FileNotFoundError
        When the file does not exist (the message says how to download the data).
    ValueError
        When the file is truncated, corrupt or not a CIFAR-10 batch (the message names the file), or when
        ``dtype`` is neither uint8 nor floating point.
    """
    dtype = _image_dtype(dtype)
    path = Path(filename)
    if not path.is_file():
        raise _missing_data_error(path)
    try:
        with open(path, "rb") as stream:
            # The batches are Python 2 pickles of str and numpy arrays: latin1 maps their bytes one to one.
            batch = pickle.load(stream, encoding="latin1")
        data = np.asarray(_get(batch, "data"))
        labels = np.asarray(_get(batch, "labels"))
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable CIFAR-10 batch ({type(error).__name__}: {error}); it may be truncated "
            f"or corrupt: run `{DOWNLOAD_COMMAND} --force` to fetch it again"
        ) from error
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise ValueError(f"{path}: 'data' must be uint8 of shape (N, {PIXELS}), found {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {labels.shape[0] if labels.ndim else 0} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"{path}: labels must lie in [0, {len(CLASSES) - 1}], found {labels.min()}..{labels.max()}")
    # Stored channel-planar (N, 3, 32, 32); the notebooks show and flatten images as (N, 32, 32, 3).
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3), a strided view
    return np.ascontiguousarray(images, dtype=dtype), labels.astype(np.int64)


def load_CIFAR10(ROOT=None, dtype=np.float64):
    """Load the whole of CIFAR-10.

    Parameters
    ----------
    ROOT : str or Path, optional
        The ``cifar-10-batches-py`` folder; default :func:`default_cifar10_dir`.
    dtype : numpy dtype, default np.float64
        Type of the returned images. float64, as CS231n's loader returns, takes 1.2 GB for the training
        images, so code such as ``X_train -= np.mean(X_train, axis=0)`` works in place. ``np.uint8`` keeps
        the stored pixels (150 MB) for code that converts only what it uses; ``np.float32`` halves float64.

    Returns
    -------
    Xtr : ndarray of ``dtype``, shape (50000, 32, 32, 3)
    ytr : ndarray of int64, shape (50000,)
    Xte : ndarray of ``dtype``, shape (10000, 32, 32, 3)
    yte : ndarray of int64, shape (10000,)
        Pixel values 0 ... 255 in any dtype. The sample counts are read from the files, so smaller
        look-alike data loads too.
    """
    dtype = _image_dtype(dtype)
    root = Path(ROOT) if ROOT is not None else default_cifar10_dir()
    if not root.is_dir():
        raise _missing_data_error(root)
    parts = [load_CIFAR_batch(root / name, dtype=np.uint8) for name in TRAIN_BATCHES]
    # The training images are filled into one array of the final dtype, batch by batch, so a float result
    # costs its own size plus the 150 MB of pixels, never a second float copy for a concatenation.
    Xtr = np.empty((sum(len(images) for images, _ in parts), *IMAGE_SHAPE), dtype=dtype)  # (N, 32, 32, 3)
    ytr = np.concatenate([labels for _, labels in parts])
    start = 0
    for index, (images, _) in enumerate(parts):
        Xtr[start : start + len(images)] = images
        start += len(images)
        parts[index] = None  # free each batch's pixels once copied
    del parts
    Xte, yte = load_CIFAR_batch(root / TEST_BATCH, dtype=dtype)
    return Xtr, ytr, Xte, yte


def get_CIFAR10_data(
    num_training=49000,
    num_validation=1000,
    num_test=1000,
    num_dev=500,
    subtract_mean=True,
    add_bias=True,
    dtype=np.float64,
    seed=0,
    cifar10_dir=None,
):
    """Load CIFAR-10 and build the train / validation / test / dev splits of the linear-classifier notebooks.

    The validation set is the ``num_validation`` training images after the first ``num_training``; the
    dev set is a random subset (drawn with ``seed``) of the training set, for fast experiments. Images are
    flattened to rows, the mean training image is subtracted and a constant 1 column appended (the bias
    trick), all in ``dtype``.

    Parameters
    ----------
    num_training, num_validation, num_test, num_dev : int
        Split sizes; ``num_training + num_validation`` must not exceed the training images available.
    subtract_mean : bool, default True
        Subtract the mean training image from every split.
    add_bias : bool, default True
        Append a column of ones, so D = 3073 instead of 3072.
    dtype : numpy dtype, default float64
        Floating-point type of the returned X arrays (float32 halves memory and time).
    seed : int, default 0
        Seed of the dev-set sample.
    cifar10_dir : str or Path, optional
        The ``cifar-10-batches-py`` folder; default :func:`default_cifar10_dir`.

    Returns
    -------
    dict
        ``X_train`` (num_training, D), ``y_train`` (num_training,), ``X_val``, ``y_val``, ``X_test``,
        ``y_test``, ``X_dev``, ``y_dev``, and ``mean_image`` (3072,) in ``dtype`` (zeros when not subtracted).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as np.float32, got {dtype}")
    # uint8 pixels: only the rows of the splits are converted, straight into their final arrays.
    X_all, y_all, X_test_images, y_test_all = load_CIFAR10(cifar10_dir, dtype=np.uint8)
    available = X_all.shape[0]
    sizes = {"num_training": num_training, "num_validation": num_validation, "num_test": num_test, "num_dev": num_dev}
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if num_training + num_validation > available:
        raise ValueError(
            f"num_training + num_validation = {num_training + num_validation} exceeds the {available} training images"
        )
    if num_test > X_test_images.shape[0]:
        raise ValueError(f"num_test = {num_test} exceeds the {X_test_images.shape[0]} test images")
    if num_dev > num_training:
        raise ValueError(f"num_dev = {num_dev} exceeds num_training = {num_training}")

    width = PIXELS + 1 if add_bias else PIXELS

    def rows(images):
        # Allocate the final (N, D) array once and convert the uint8 pixels into it: no float copy to
        # concatenate the bias column onto later, which would double the peak memory.
        X = np.empty((images.shape[0], width), dtype=dtype)  # (N, 3072 or 3073)
        X[:, :PIXELS] = images.reshape(images.shape[0], PIXELS)
        if add_bias:
            X[:, PIXELS] = 1
        return X

    rng = np.random.default_rng(seed)
    dev_indices = rng.choice(num_training, num_dev, replace=False)
    splits = {
        "train": (rows(X_all[:num_training]), y_all[:num_training]),
        "val": (rows(X_all[num_training : num_training + num_validation]), y_all[num_training : num_training + num_validation]),
        "test": (rows(X_test_images[:num_test]), y_test_all[:num_test]),
        "dev": (rows(X_all[dev_indices]), y_all[dev_indices]),
    }
    del X_all, X_test_images

    mean_image = np.zeros(PIXELS, dtype=dtype)
    if subtract_mean and num_training:
        mean_image = splits["train"][0][:, :PIXELS].mean(axis=0, dtype=np.float64).astype(dtype)  # (3072,)
    data = {"mean_image": mean_image}
    for name, (X, y) in splits.items():
        if subtract_mean:
            X[:, :PIXELS] -= mean_image  # (N, 3072) - (3072,) broadcasts over rows, in place
        data[f"X_{name}"] = X
        data[f"y_{name}"] = y
    return data
