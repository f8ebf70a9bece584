"""Loading CIFAR-10: both key styles, validation, clear errors, the notebooks' splits."""

import pickle
import tarfile

import numpy as np
import pytest

from instructor.fake_cifar import batch_bytes, write_cifar_batches
from cs231n import data_utils
from cs231n.data_utils import get_CIFAR10_data, load_CIFAR10, load_CIFAR_batch


def test_load_cifar10_reads_counts_from_the_files_and_returns_float64_by_default(small_cifar_dir):
    Xtr, ytr, Xte, yte = load_CIFAR10(small_cifar_dir)
    assert Xtr.shape == (100, 32, 32, 3) and Xtr.dtype == np.float64
    assert ytr.shape == (100,) and ytr.dtype == np.int64
    assert Xte.shape == (20, 32, 32, 3) and Xte.dtype == np.float64 and yte.shape == (20,)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_an_explicit_dtype_gives_the_same_pixels_in_that_type(small_cifar_dir, dtype):
    default = load_CIFAR10(small_cifar_dir)
    lean = load_CIFAR10(small_cifar_dir, dtype=dtype)
    for wide, narrow in zip(default, lean):
        np.testing.assert_array_equal(wide, narrow)
    assert lean[0].dtype == dtype and lean[2].dtype == dtype
    assert lean[0].flags.c_contiguous and lean[2].flags.c_contiguous
    assert lean[1].dtype == np.int64


def test_cs231n_mean_subtraction_works_in_place_on_the_default_float64(small_cifar_dir):
    X_train, _, X_test, _ = load_CIFAR10(small_cifar_dir)
    mean_image = np.mean(X_train, axis=0)  # (32, 32, 3)
    X_train -= mean_image
    X_test -= mean_image
    assert np.abs(X_train.mean(axis=0)).max() < 1e-9
    X_lean = load_CIFAR10(small_cifar_dir, dtype=np.uint8)[0]
    with pytest.raises(TypeError, match="Cannot cast ufunc 'subtract' output"):  # numpy's UFuncTypeError
        X_lean -= mean_image


@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool, "not a type"])
def test_a_dtype_that_is_neither_uint8_nor_floating_point_is_refused(small_cifar_dir, dtype):
    with pytest.raises(ValueError, match=r"dtype must be np.uint8 .*or a floating-point type"):
        load_CIFAR10(small_cifar_dir, dtype=dtype)


def test_images_are_converted_from_channel_planar_to_height_width_channel(tmp_path):
    data = np.zeros((1, 3072), dtype=np.uint8)
    data[0, :1024] = 10  # red plane
    data[0, 1024:2048] = 20  # green plane
    data[0, 2048] = 30  # blue value of the top-left pixel
    (tmp_path / "batch").write_bytes(pickle.dumps({"data": data, "labels": [4]}, protocol=2))
    X, y = load_CIFAR_batch(tmp_path / "batch")
    assert X[0, 0, 0].tolist() == [10, 20, 30]
    assert X[0, 5, 7].tolist() == [10, 20, 0]
    assert y.tolist() == [4]


def test_bytes_keys_are_accepted_as_well_as_str_keys(tmp_path):
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    (tmp_path / "str").write_bytes(pickle.dumps({"data": data, "labels": [1, 2]}, protocol=2))
    (tmp_path / "bytes").write_bytes(pickle.dumps({b"data": data, b"labels": [1, 2]}, protocol=2))
    X_str, y_str = load_CIFAR_batch(tmp_path / "str")
    X_bytes, y_bytes = load_CIFAR_batch(tmp_path / "bytes")
    np.testing.assert_array_equal(X_str, X_bytes)
    np.testing.assert_array_equal(y_str, y_bytes)


def test_a_missing_folder_names_the_path_and_the_download_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"CIFAR-10 not found at .*nowhere.*bash datasets/get_datasets.sh"):
        load_CIFAR10(tmp_path / "nowhere")


def test_a_missing_batch_file_names_it(tmp_path):
    folder = write_cifar_batches(tmp_path, images_per_batch=10)
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_CIFAR10(folder)


def test_a_truncated_batch_gives_an_error_naming_the_file(tmp_path):
    folder = write_cifar_batches(tmp_path, images_per_batch=10)
    payload = batch_bytes(10)
    (folder / "data_batch_2").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match=r"data_batch_2 is not a readable CIFAR-10 batch .*--force"):
        load_CIFAR10(folder)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, r"'data' must be uint8 of shape \(N, 3072\)"),
        ({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]}, "'data' must be uint8"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "1 labels for 2 images"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}, r"labels must lie in \[0, 9\]"),
        ({"pixels": np.zeros((2, 3072), np.uint8)}, "not a readable CIFAR-10 batch"),
    ],
)
def test_malformed_batches_are_rejected_with_the_reason(tmp_path, batch, message):
    (tmp_path / "batch").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(ValueError, match=message):
        load_CIFAR_batch(tmp_path / "batch")


def test_default_folder_follows_cifar10_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path))
    assert data_utils.default_cifar10_dir() == tmp_path
    monkeypatch.delenv("CIFAR10_DIR")
    assert data_utils.default_cifar10_dir() == data_utils.bundle_root() / "datasets" / "cifar-10-batches-py"


def test_splits_have_the_requested_sizes_dtype_mean_and_bias(small_cifar_dir):
    data = get_CIFAR10_data(70, 20, 10, 15, dtype=np.float32, seed=1, cifar10_dir=small_cifar_dir)
    assert data["X_train"].shape == (70, 3073) and data["X_train"].dtype == np.float32
    assert data["X_val"].shape == (20, 3073) and data["X_test"].shape == (10, 3073)
    assert data["X_dev"].shape == (15, 3073)
    np.testing.assert_array_equal(data["X_train"][:, -1], 1.0)
    # After subtracting the training mean, the training pixels average to zero.
    assert np.abs(data["X_train"][:, :-1].mean(axis=0)).max() < 1e-3
    Xtr, ytr, _, _ = load_CIFAR10(small_cifar_dir)
    np.testing.assert_array_equal(data["y_val"], ytr[70:90])
    expected_first = Xtr[0].reshape(-1).astype(np.float32) - data["mean_image"]
    np.testing.assert_allclose(data["X_train"][0, :-1], expected_first, rtol=1e-6)


def test_dev_set_is_a_seeded_sample_of_the_training_set(small_cifar_dir):
    first = get_CIFAR10_data(80, 10, 10, 20, seed=3, cifar10_dir=small_cifar_dir)
    again = get_CIFAR10_data(80, 10, 10, 20, seed=3, cifar10_dir=small_cifar_dir)
    other = get_CIFAR10_data(80, 10, 10, 20, seed=4, cifar10_dir=small_cifar_dir)
    np.testing.assert_array_equal(first["X_dev"], again["X_dev"])
    assert not np.array_equal(first["X_dev"], other["X_dev"])
    train_rows = {row.tobytes() for row in first["X_train"]}
    assert all(row.tobytes() in train_rows for row in first["X_dev"])


def test_splits_without_mean_or_bias_keep_raw_pixels(small_cifar_dir):
    data = get_CIFAR10_data(50, 10, 5, 5, subtract_mean=False, add_bias=False, cifar10_dir=small_cifar_dir)
    assert data["X_train"].shape == (50, 3072)
    assert data["X_train"].min() >= 0 and data["X_train"].max() <= 255


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_training": 95, "num_validation": 10}, "exceeds the 100 training images"),
        ({"num_test": 21}, "exceeds the 20 test images"),
        ({"num_dev": 60}, "num_dev = 60 exceeds num_training = 50"),
        ({"dtype": np.int32}, "dtype must be a floating-point type"),
        ({"num_test": -1}, "num_test must be an integer >= 0"),
    ],
)
def test_impossible_split_sizes_are_rejected(small_cifar_dir, kwargs, message):
    arguments = {"num_training": 50, "num_validation": 10, "num_test": 5, "num_dev": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        get_CIFAR10_data(cifar10_dir=small_cifar_dir, **arguments)


@pytest.mark.slow
@pytest.mark.shared_data
def test_rebuilt_cifar10_loads_with_the_canonical_shapes_and_class_counts(shared_archive, tmp_path):
    with tarfile.open(shared_archive) as archive:
        archive.extractall(tmp_path, filter="data")
    Xtr, ytr, Xte, yte = load_CIFAR10(tmp_path / "cifar-10-batches-py", dtype=np.uint8)
    assert Xtr.shape == (50000, 32, 32, 3) and Xte.shape == (10000, 32, 32, 3)
    assert Xtr.dtype == np.uint8
    assert np.bincount(ytr).tolist() == [5000] * 10
    assert np.bincount(yte).tolist() == [1000] * 10


def test_empty_validation_and_dev_splits_are_allowed(small_cifar_dir):
    data = get_CIFAR10_data(50, 0, 5, 0, cifar10_dir=small_cifar_dir)
    assert data["X_val"].shape == (0, 3073) and data["X_dev"].shape == (0, 3073)
