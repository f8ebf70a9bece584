"""The reference kNN: three distance functions that agree, no 3-D temporary, votes and ties."""

import tracemalloc

import numpy as np
import pytest

from solutions.cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor

DISTANCE_METHODS = ["compute_distances_two_loops", "compute_distances_one_loop", "compute_distances_no_loops"]


def trained(num_train=30, dim=12, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    classifier = KNearestNeighbor()
    X = rng.integers(0, 256, (num_train, dim)).astype(dtype)
    classifier.train(X, rng.integers(0, 4, num_train))
    return classifier, rng


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_distances_match_a_direct_computation_on_uint8_pixels(method):
    classifier, rng = trained()
    X = rng.integers(0, 256, (9, 12)).astype(np.uint8)
    dists = getattr(classifier, method)(X)
    # uint8 differences would wrap around; the expected values use int64 arithmetic.
    difference = X.astype(np.int64)[:, None, :] - classifier.X_train.astype(np.int64)[None, :, :]
    expected = np.sqrt((difference**2).sum(axis=2))
    assert dists.shape == (9, 30)
    np.testing.assert_allclose(dists, expected, rtol=1e-12)


def test_no_loop_distances_are_finite_and_non_negative_for_identical_points():
    rng = np.random.default_rng(1)
    # Large-magnitude rows make ||x||^2 + ||t||^2 - 2 x.t round below zero for identical points.
    X = rng.standard_normal((50, 300)) * 1e3 + 1e4
    classifier = KNearestNeighbor()
    classifier.train(X, np.zeros(50, dtype=int))
    dists = classifier.compute_distances_no_loops(X.copy())
    assert np.all(np.isfinite(dists))
    assert np.all(dists >= 0)
    assert np.max(np.abs(np.diag(dists))) < 1.0  # tiny next to the distances between different rows
    assert np.min(dists[~np.eye(50, dtype=bool)]) > 1e3


def test_no_loop_distances_never_build_a_test_by_train_by_dimension_array():
    rng = np.random.default_rng(2)
    num_test, num_train, dim = 60, 500, 3072
    classifier = KNearestNeighbor()
    classifier.train(rng.standard_normal((num_train, dim)), np.zeros(num_train, dtype=int))
    X = rng.standard_normal((num_test, dim))
    tracemalloc.start()
    classifier.compute_distances_no_loops(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    three_d_bytes = num_test * num_train * dim * 8
    assert peak < three_d_bytes / 20, f"peak {peak} bytes suggests an (N_test, N_train, D) temporary"


def test_predict_labels_takes_the_majority_and_breaks_vote_ties_towards_the_smaller_label():
    classifier = KNearestNeighbor()
    classifier.train(np.zeros((6, 2)), np.array([3, 1, 1, 3, 2, 0]))
    dists = np.array(
        [
            [0.1, 0.2, 0.3, 5.0, 5.0, 5.0],  # k=3: labels 3, 1, 1 -> 1
            [0.1, 0.2, 9.0, 0.3, 9.0, 9.0],  # k=3: labels 3, 1, 3 -> 3
            [0.1, 0.2, 9.0, 9.0, 9.0, 9.0],  # k=2: labels 3, 1 tie -> 1 (smaller)
            [9.0, 9.0, 9.0, 9.0, 0.2, 0.1],  # k=2: labels 0, 2 tie -> 0
        ]
    )
    assert classifier.predict_labels(dists[:2], k=3).tolist() == [1, 3]
    assert classifier.predict_labels(dists[2:], k=2).tolist() == [1, 0]
    assert classifier.predict_labels(dists, k=1).tolist() == [3, 3, 3, 0]


def test_equal_distances_prefer_the_lower_training_index():
    classifier = KNearestNeighbor()
    classifier.train(np.zeros((3, 2)), np.array([2, 1, 0]))
    assert classifier.predict_labels(np.ones((1, 3)), k=1).tolist() == [2]


def test_predict_returns_integer_labels_of_the_right_shape_for_every_implementation():
    classifier, rng = trained(num_train=40)
    X = rng.integers(0, 256, (11, 12)).astype(np.uint8)
    predictions = [classifier.predict(X, k=5, num_loops=n) for n in (0, 1, 2)]
    for predicted in predictions:
        assert predicted.shape == (11,)
        assert predicted.dtype.kind == "i"
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])


def test_k_equal_one_recovers_the_training_labels():
    classifier, _ = trained(num_train=25, dtype=np.float64)
    np.testing.assert_array_equal(classifier.predict(classifier.X_train, k=1), classifier.y_train)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.predict(np.zeros((2, 5))), "X has 5 columns but the training data has 12"),
        (lambda c: c.predict(np.zeros((2, 12)), k=0), "k must be an integer between 1 and"),
        (lambda c: c.predict(np.zeros((2, 12)), k=31), "k must be an integer between 1 and"),
        (lambda c: c.predict(np.zeros((2, 12)), num_loops=3), "num_loops must be 0, 1 or 2"),
        (lambda c: c.predict(np.full((2, 12), np.nan)), "X contains NaN"),
        (lambda c: c.predict_labels(np.zeros((2, 7))), r"dists must have shape \(num_test, 30\)"),
        (lambda c: c.train(np.zeros((3, 12)), np.array([0, 1])), "y must be a 1-D array with one label per example"),
        (lambda c: c.train(np.zeros((2, 12)), np.array([0, -1])), r"y must lie in \[0, any\]"),
        (lambda c: c.compute_distances_no_loops(np.zeros(12)), "X must be a 2-D array"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, message):
    classifier, _ = trained()
    with pytest.raises(ValueError, match=message):
        call(classifier)


def test_predicting_before_training_says_to_train_first():
    with pytest.raises(ValueError, match=r"call train\(X, y\) before predicting"):
        KNearestNeighbor().predict(np.zeros((1, 3)))


def test_votes_with_many_equal_distances_match_a_stable_sort_and_bincount_for_every_k():
    rng = np.random.default_rng(11)
    for _ in range(60):
        num_train, num_test = int(rng.integers(2, 25)), int(rng.integers(1, 8))
        classifier = KNearestNeighbor()
        classifier.train(np.zeros((num_train, 1)), rng.integers(0, 4, num_train))
        # Few distinct distances, so the k-th place is often shared by several training examples.
        dists = rng.integers(0, 4, (num_test, num_train)).astype(float)
        for k in range(1, num_train + 1):
            nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
            expected = [np.bincount(row, minlength=4).argmax() for row in classifier.y_train[nearest]]
            assert classifier.predict_labels(dists, k=k).tolist() == expected
