"""k-nearest-neighbour classifier with L2 distance.

Training only memorizes the data; prediction computes the distance from every test example to every
training example and takes a majority vote among the k closest. The three ``compute_distances_*`` methods
compute the same (num_test, num_train) matrix with two, one and no Python loops, to show what vectorization
buys.
"""

import numbers

import numpy as np

from .input_checks import as_float_matrix, as_labels, check_finite


class KNearestNeighbor:
    """A kNN classifier with L2 distance.

    Attributes
    ----------
    X_train : ndarray, shape (num_train, D), floating point
        The training data (integer pixels are stored as float64).
    y_train : ndarray of int, shape (num_train,)
        The training labels, non-negative integers.
    """

    def __init__(self):
        self.X_train = None
        self.y_train = None

    def train(self, X, y):
        """Memorize the training data.

        Parameters
        ----------
        X : array_like, shape (num_train, D)
            Training examples; uint8 pixels are converted to float64 so distances cannot wrap around.
        y : array_like of int, shape (num_train,)
            Labels, ``y[i]`` is the label of ``X[i]``, non-negative.
        """
        X = as_float_matrix("X", X)
        check_finite("X", X)
        self.y_train = as_labels("y", y, X.shape[0])
        self.X_train = X

    def predict(self, X, k=1, num_loops=0):
        """Predict labels for test data.

        Parameters
        ----------
        X : array_like, shape (num_test, D)
            Test examples.
        k : int, default 1
            Number of nearest neighbours that vote, 1 <= k <= num_train.
        num_loops : {0, 1, 2}, default 0
            Which implementation computes the distances.

        Returns
        -------
        y_pred : ndarray of int, shape (num_test,)
            Predicted labels.
        """
        distance_functions = {
            0: self.compute_distances_no_loops,
            1: self.compute_distances_one_loop,
            2: self.compute_distances_two_loops,
        }
        if num_loops not in distance_functions:
            raise ValueError(f"num_loops must be 0, 1 or 2, got {num_loops!r}")
        dists = distance_functions[num_loops](X)
        return self.predict_labels(dists, k=k)

    def _check_test_data(self, X):
        """Return X as a float matrix with as many columns as the training data."""
        if self.X_train is None:
            raise ValueError("the classifier has no training data yet: call train(X, y) before predicting")
        X = as_float_matrix("X", X, dtype=self.X_train.dtype if np.asarray(X).dtype.kind in "biu" else None)
        if X.shape[1] != self.X_train.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} columns but the training data has {self.X_train.shape[1]}; "
                "test and training examples must have the same dimension D"
            )
        check_finite("X", X)
        return X

    def compute_distances_two_loops(self, X):
        """L2 distances between each test and each training example, with a double loop.

        Parameters
        ----------
        X : array_like, shape (num_test, D)
            Test examples.

        Returns
        -------
        dists : ndarray, shape (num_test, num_train), float
            ``dists[i, j]`` is the Euclidean distance between ``X[i]`` and ``self.X_train[j]``.
        """
        X = self._check_test_data(X)
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train), dtype=np.result_type(X.dtype, self.X_train.dtype))
        for i in range(num_test):
            for j in range(num_train):
                # TODO: compute the L2 distance between the ith test point and the jth training point and
                # store it in dists[i, j]. Use no loop over the dimension D and not np.linalg.norm().
                ### BEGIN SOLUTION
                difference = X[i] - self.X_train[j]
                dists[i, j] = np.sqrt(np.dot(difference, difference))
                ### END SOLUTION
        return dists

    def compute_distances_one_loop(self, X):
        """L2 distances with a single loop over the test examples.

        Same input and output as :meth:`compute_distances_two_loops`.
        """
        X = self._check_test_data(X)
        num_test = X.shape[0]
        num_train = self.X_train.shape[0]
        dists = np.zeros((num_test, num_train), dtype=np.result_type(X.dtype, self.X_train.dtype))
        for i in range(num_test):
            # TODO: compute the distances between the ith test point and all training points at once
            # (broadcasting), and store them in dists[i, :]. Do not use np.linalg.norm().
            ### BEGIN SOLUTION
            differences = self.X_train - X[i]  # (num_train, D)
            dists[i, :] = np.sqrt(np.einsum("ij,ij->i", differences, differences))
            ### END SOLUTION
        return dists

    def compute_distances_no_loops(self, X):
        """L2 distances with no Python loop.

        Same input and output as :meth:`compute_distances_two_loops`. Expands
        ``||x - t||^2 = ||x||^2 + ||t||^2 - 2 x.t`` so the work is one matrix product and no
        (num_test, num_train, D) temporary is ever built. Rounding can make the expansion slightly
        negative for (near-)identical points, so it is clipped at 0 before the square root.
        """
        X = self._check_test_data(X)

        # TODO: compute all distances with one matrix multiplication and two broadcast sums, without any
        # loop and without building an array of shape (num_test, num_train, D). Clip tiny negative values
        # (rounding) to 0 before taking the square root. Do not use scipy or np.linalg.norm().
        ### BEGIN SOLUTION
        test_norms = np.einsum("ij,ij->i", X, X)  # (num_test,)
        train_norms = np.einsum("ij,ij->i", self.X_train, self.X_train)  # (num_train,)
        dists = X @ self.X_train.T  # (num_test, num_train)
        dists *= -2
        dists += test_norms[:, np.newaxis]
        dists += train_norms[np.newaxis, :]
        np.maximum(dists, 0, out=dists)
        np.sqrt(dists, out=dists)
        ### END SOLUTION
        return dists

    def predict_labels(self, dists, k=1):
        """Majority vote among the k nearest training examples.

        Parameters
        ----------
        dists : array_like, shape (num_test, num_train)
            ``dists[i, j]`` is the distance between test example i and training example j.
        k : int, default 1
            Number of neighbours that vote.

        Returns
        -------
        y_pred : ndarray of int, shape (num_test,), dtype of ``y_train``
            Predicted labels. Among neighbours at equal distance the one with the lower training index
            comes first; a tie in the vote goes to the smallest label.
        """
        if self.y_train is None:
            raise ValueError("the classifier has no training data yet: call train(X, y) before predicting")
        dists = np.asarray(dists)
        num_train = self.y_train.shape[0]
        if dists.ndim != 2 or dists.shape[1] != num_train:
            raise ValueError(f"dists must have shape (num_test, {num_train}), got {dists.shape}")
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= num_train:
            raise ValueError(f"k must be an integer between 1 and the number of training examples ({num_train}), got {k!r}")
        num_test = dists.shape[0]

        # TODO: for each test example, find the labels of its k nearest training examples, and store the
        # most common of them in y_pred[i]; break ties in the vote by choosing the smaller label.
        ### BEGIN SOLUTION
        if k < num_train:
            # argpartition finds the k nearest in linear time but orders equal distances arbitrarily; rows
            # where the k-th distance is shared beyond the k chosen fall back to the stable sort.
            nearest = np.argpartition(dists, k - 1, axis=1)[:, :k]  # (num_test, k)
            kth_distance = np.take_along_axis(dists, nearest, axis=1).max(axis=1)  # (num_test,)
            ambiguous = np.count_nonzero(dists <= kth_distance[:, np.newaxis], axis=1) > k
            if ambiguous.any():
                nearest[ambiguous] = np.argsort(dists[ambiguous], axis=1, kind="stable")[:, :k]
        else:
            nearest = np.argsort(dists, axis=1, kind="stable")  # (num_test, num_train)
        closest_labels = self.y_train[nearest]  # (num_test, k)
        num_labels = int(self.y_train.max()) + 1
        # One bincount over all rows: row i's votes land in slots [i * num_labels, (i + 1) * num_labels).
        offsets = np.arange(num_test)[:, np.newaxis] * num_labels  # (num_test, 1)
        votes = np.bincount((closest_labels + offsets).ravel(), minlength=num_test * num_labels)
        votes = votes.reshape(num_test, num_labels)  # (num_test, num_labels)
        y_pred = votes.argmax(axis=1).astype(self.y_train.dtype)  # argmax returns the first, i.e. smallest, label
        ### END SOLUTION
        return y_pred
