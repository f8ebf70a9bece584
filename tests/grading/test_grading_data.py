"""The grading data: the quick-mode part of CIFAR-10 gives the notebooks' and the grader's arrays unchanged."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cs231n.data_utils import load_CIFAR10
from instructor.fake_cifar import write_cifar_batches
from instructor.grade.answers import load_quick_data
from instructor.grade.grading_data import QUICK_TEST_IMAGES, QUICK_TRAINING_IMAGES, grading_subset


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Generated data larger than the subset: 6,000 training images (1,200 a batch), 1,200 test images."""
    return write_cifar_batches(tmp_path_factory.mktemp("full"), images_per_batch=1200, seed=3)


def test_the_subset_holds_the_first_images_of_the_full_data_in_order(full, tmp_path):
    subset = grading_subset(full, tmp_path / "grading-data")
    X_full, y_full, Xt_full, yt_full = load_CIFAR10(full, dtype=np.uint8)
    X, y, Xt, yt = load_CIFAR10(subset, dtype=np.uint8)
    assert X.shape[0] == QUICK_TRAINING_IMAGES and Xt.shape[0] == QUICK_TEST_IMAGES
    assert np.array_equal(X, X_full[:QUICK_TRAINING_IMAGES]) and np.array_equal(y, y_full[:QUICK_TRAINING_IMAGES])
    assert np.array_equal(Xt, Xt_full[:QUICK_TEST_IMAGES]) and np.array_equal(yt, yt_full[:QUICK_TEST_IMAGES])


def test_what_quick_mode_computes_from_the_subset_equals_what_it_computes_from_the_full_data(full, tmp_path):
    from_full = load_quick_data(full)
    from_subset = load_quick_data(grading_subset(full, tmp_path / "grading-data"))
    for name in ("knn_X", "knn_y", "X_train", "y_train", "X_val", "y_val"):
        assert np.array_equal(getattr(from_full, name), getattr(from_subset, name)), name


def test_data_smaller_than_the_subset_is_kept_whole(tmp_path):
    small = write_cifar_batches(tmp_path / "small", images_per_batch=20, seed=0)
    subset = grading_subset(small, tmp_path / "grading-data")
    for got, want in zip(load_CIFAR10(subset, dtype=np.uint8), load_CIFAR10(small, dtype=np.uint8)):
        assert np.array_equal(got, want)


def test_the_subset_is_reused_until_its_source_changes_and_is_readable_by_the_grading_uids(full, tmp_path):
    target = tmp_path / "grading-data"
    grading_subset(full, target)
    first = (target / "data_batch_1").stat().st_mtime_ns
    grading_subset(full, target)
    assert (target / "data_batch_1").stat().st_mtime_ns == first  # not written again
    for path in [target, *target.iterdir()]:
        assert path.stat().st_mode & (0o005 if path.is_dir() else 0o004)
    os.utime(full / "test_batch", ns=(1, 1))  # the instructor replaced the data
    grading_subset(full, target)
    assert (target / "data_batch_1").stat().st_mtime_ns != first
