"""Classifiers of assignment 1: k-nearest neighbour, multiclass SVM and softmax."""

from .k_nearest_neighbor import KNearestNeighbor
from .linear_classifier import LinearClassifier, LinearSVM, Softmax
from .linear_svm import svm_loss_naive, svm_loss_vectorized
from .softmax import softmax_loss_naive, softmax_loss_vectorized

__all__ = [
    "KNearestNeighbor",
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
]
