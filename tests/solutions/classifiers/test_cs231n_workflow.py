"""Code written for CS231n's own notebooks runs unchanged on this bundle's loader and reference classifiers.

The cells below are CS231n's (svm.ipynb and softmax.ipynb) as students and instructors already have them:
float64 images from ``load_CIFAR10``, the mean image subtracted in place, the bias column appended with
``np.hstack``, and a learning-rate x regularization search whose grid reaches settings that diverge
(``learning_rate * reg > 1``). Only the sizes shrink (generated CIFAR-format data) and every random step
takes a seed.
"""

import warnings

import numpy as np
import pytest

from instructor.fake_cifar import write_cifar_batches
from cs231n.data_utils import load_CIFAR10
from solutions.cs231n.classifiers.linear_classifier import LinearSVM, Softmax
from solutions.cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from solutions.cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

NUM_TRAINING, NUM_VALIDATION, NUM_TEST, NUM_DEV = 800, 200, 100, 50
# Up to CS231n's learning rate 4e-5 and reg 5e4. learning_rate * reg is 2 and 5 in the two settings that
# diverge (W grows by a factor 3 and 9 per step, so they overflow after about 320 and 160 steps, within
# NUM_ITERS); every other setting keeps it at 0.05 or below.
LEARNING_RATES = [1e-7, 4e-5, 1e-4]
REGULARIZATION_STRENGTHS = [5e2, 5e4]
DIVERGING = {(4e-5, 5e4), (1e-4, 5e4)}
NUM_ITERS = 350

MODELS = {
    "svm": (LinearSVM, svm_loss_naive, svm_loss_vectorized, 9.0),  # loss of tiny weights: C - 1
    "softmax": (Softmax, softmax_loss_naive, softmax_loss_vectorized, np.log(10)),  # -log(1 / C)
}


@pytest.fixture(scope="module")
def cifar10_dir(tmp_path_factory):
    """A generated ``cifar-10-batches-py`` folder: 1,000 training and 200 test images."""
    return write_cifar_batches(tmp_path_factory.mktemp("cifar"), images_per_batch=200, seed=0)


def cs231n_preprocessing(cifar10_dir):
    """CS231n's loading and preprocessing cells; returns what they leave in the notebook's namespace."""
    X_train, y_train, X_test, y_test = load_CIFAR10(cifar10_dir)
    assert X_train.dtype == np.float64 and X_test.dtype == np.float64

    mask = list(range(NUM_TRAINING, NUM_TRAINING + NUM_VALIDATION))
    X_val = X_train[mask]
    y_val = y_train[mask]
    mask = list(range(NUM_TRAINING))
    X_train = X_train[mask]
    y_train = y_train[mask]
    mask = np.random.default_rng(0).choice(NUM_TRAINING, NUM_DEV, replace=False)
    X_dev = X_train[mask]
    y_dev = y_train[mask]
    mask = list(range(NUM_TEST))
    X_test = X_test[mask]
    y_test = y_test[mask]

    X_train = np.reshape(X_train, (X_train.shape[0], -1))
    X_val = np.reshape(X_val, (X_val.shape[0], -1))
    X_test = np.reshape(X_test, (X_test.shape[0], -1))
    X_dev = np.reshape(X_dev, (X_dev.shape[0], -1))
    raw_val = X_val.copy()
    buffer = X_train

    mean_image = np.mean(X_train, axis=0)
    X_train -= mean_image
    X_val -= mean_image
    X_test -= mean_image
    X_dev -= mean_image
    assert X_train is buffer  # subtracted in place, as CS231n's cell does

    X_train = np.hstack([X_train, np.ones((X_train.shape[0], 1))])
    X_val = np.hstack([X_val, np.ones((X_val.shape[0], 1))])
    X_test = np.hstack([X_test, np.ones((X_test.shape[0], 1))])
    X_dev = np.hstack([X_dev, np.ones((X_dev.shape[0], 1))])
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val, "X_dev": X_dev,
            "y_dev": y_dev, "X_test": X_test, "mean_image": mean_image, "raw_val": raw_val}


def test_float64_loading_in_place_mean_subtraction_and_hstack_bias_give_the_expected_arrays(cifar10_dir):
    data = cs231n_preprocessing(cifar10_dir)
    assert data["X_train"].shape == (NUM_TRAINING, 3073) and data["X_train"].dtype == np.float64
    assert data["X_val"].shape == (NUM_VALIDATION, 3073) and data["X_dev"].shape == (NUM_DEV, 3073)
    assert data["X_test"].shape == (NUM_TEST, 3073)
    for name in ("X_train", "X_val", "X_test", "X_dev"):
        np.testing.assert_array_equal(data[name][:, -1], 1.0)
    assert np.abs(data["X_train"][:, :-1].mean(axis=0)).max() < 1e-9  # centred on the training mean
    # The validation images were centred with the training mean, not their own.
    np.testing.assert_allclose(data["X_val"][:, :-1] + data["mean_image"], data["raw_val"], rtol=0, atol=1e-9)
    assert np.abs(data["X_val"][:, :-1].mean(axis=0)).max() > 1.0


@pytest.mark.parametrize("family", sorted(MODELS))
def test_cs231n_sanity_checks_pass_on_the_preprocessed_dev_set(cifar10_dir, family):
    _, naive, vectorized, expected_loss = MODELS[family]
    data = cs231n_preprocessing(cifar10_dir)
    W = np.random.default_rng(1).standard_normal((3073, 10)) * 0.0001
    loss_naive, grad_naive = naive(W, data["X_dev"], data["y_dev"], 0.000005)
    loss_vectorized, grad_vectorized = vectorized(W, data["X_dev"], data["y_dev"], 0.000005)
    assert loss_naive == pytest.approx(expected_loss, rel=0.1)
    assert loss_vectorized == pytest.approx(loss_naive, rel=1e-12)
    assert np.linalg.norm(grad_naive - grad_vectorized, ord="fro") < 1e-9 * np.linalg.norm(grad_naive, ord="fro")


@pytest.mark.parametrize("family", sorted(MODELS))
def test_a_search_with_diverging_settings_completes_warns_once_each_and_ranks_them_last(cifar10_dir, family):
    model_class = MODELS[family][0]
    data = cs231n_preprocessing(cifar10_dir)
    X_train, y_train, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]

    # CS231n's search cell, with the loss histories kept.
    results, histories = {}, {}
    best_val = -1
    best_model = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for lr in LEARNING_RATES:
            for reg in REGULARIZATION_STRENGTHS:
                model = model_class()
                histories[(lr, reg)] = model.train(X_train, y_train, learning_rate=lr, reg=reg,
                                                   num_iters=NUM_ITERS, seed=0)
                y_train_pred = model.predict(X_train)
                train_accuracy = np.mean(y_train == y_train_pred)
                y_val_pred = model.predict(X_val)
                val_accuracy = np.mean(y_val == y_val_pred)
                results[(lr, reg)] = (train_accuracy, val_accuracy)
                if val_accuracy > best_val:
                    best_val = val_accuracy
                    best_model = model

    assert len(results) == len(LEARNING_RATES) * len(REGULARIZATION_STRENGTHS)
    diverged = {setting for setting, history in histories.items() if not np.isfinite(history[-1])}
    assert diverged == DIVERGING
    for setting, history in histories.items():
        assert np.all(np.isfinite(history[:-1]))
        assert len(history) < NUM_ITERS if setting in DIVERGING else len(history) == NUM_ITERS

    # One warning per diverged setting, naming it, and nothing else (none of numpy's overflow warnings).
    assert all(warning.category is RuntimeWarning for warning in caught)
    messages = sorted(str(warning.message) for warning in caught)
    assert len(messages) == len(DIVERGING)
    for lr, reg in DIVERGING:
        assert sum("diverged at iteration" in m and f"(learning_rate={lr:g}, reg={reg:g})" in m for m in messages) == 1

    # Diverged settings predict class 0 for everything, the share of class 0 in y_val, below every other.
    others = set(results) - DIVERGING
    for setting in DIVERGING:
        assert results[setting][1] == np.mean(y_val == 0)
    assert max(results[s][1] for s in DIVERGING) < min(results[s][1] for s in others)
    ranked = sorted(results, key=lambda setting: results[setting][1], reverse=True)
    assert set(ranked[-len(DIVERGING):]) == DIVERGING
    assert best_model is not None and np.all(np.isfinite(best_model.W))
    assert best_val == max(val for _, val in results.values()) and best_val > 0.15  # chance is 0.1
