"""The kNN study: its fold accuracies are the classifier's own, its picks follow the notebook's rule."""

import json

import numpy as np
import pytest

from solutions.cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor
from bench import knn_study


def clustered_images(seed, num_examples, num_classes=4, dim=24, spread=40.0):
    """uint8 rows around one centre per class, so that k matters and accuracies are neither 0 nor 1."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(60, 200, size=(num_classes, dim))
    y = rng.integers(0, num_classes, num_examples)
    X = np.clip(centres[y] + rng.normal(0, spread, size=(num_examples, dim)), 0, 255).astype(np.uint8)
    return X, y


def test_fold_accuracies_match_training_on_the_kept_folds_themselves():
    X, y = clustered_images(0, 60)
    folds = np.array_split(np.random.default_rng(1).permutation(60), 5)
    full = KNearestNeighbor()
    full.train(X, y)
    dists = full.compute_distances_no_loops(X)
    measured = knn_study.fold_accuracies(dists, y, folds, [1, 3, 7])
    for f, held_out in enumerate(folds):
        kept = np.concatenate([fold for g, fold in enumerate(folds) if g != f])
        direct = KNearestNeighbor()
        direct.train(X[kept], y[kept])
        for i, k in enumerate([1, 3, 7]):
            assert measured[i, f] == np.mean(direct.predict(X[held_out], k=k) == y[held_out])


def test_the_pick_is_the_best_mean_and_every_shuffled_pick_is_from_the_notebook_grid():
    X_train, y_train = clustered_images(2, 100)
    X_test, y_test = clustered_images(3, 40)
    study = knn_study.run_study(X_train, y_train, X_test, y_test, shuffles=3, k_choices=range(1, 21),
                                notebook_k_choices=(1, 3, 5, 8, 10, 12, 15, 20))
    assert study.k_choices == list(range(1, 21))
    best_mean = max(study.cv_mean)
    assert study.wide_pick == study.k_choices[study.cv_mean.index(best_mean)]  # first, i.e. smallest, k on ties
    grid_means = {k: study.cv_mean[k - 1] for k in (1, 3, 5, 8, 10, 12, 15, 20)}
    assert grid_means[study.notebook_pick] == max(grid_means.values())
    assert [pick["seed"] for pick in study.shuffled_picks] == [0, 1, 2]
    for pick in study.shuffled_picks:
        assert pick["k"] in grid_means and pick["test"] == study.test_accuracy(pick["k"])
    classifier = KNearestNeighbor()
    classifier.train(X_train, y_train)
    assert study.test_accuracy(5) == np.mean(classifier.predict(X_test, k=5) == y_test)
    typical = np.mean(study.test)
    assert study.test_standard_error == pytest.approx(np.sqrt(typical * (1 - typical) / 40))


def test_k_larger_than_a_training_split_is_left_out():
    X, y = clustered_images(4, 20)
    study = knn_study.run_study(X, y, X[:5], y[:5], shuffles=0, k_choices=(1, 16, 17), notebook_k_choices=(1, 17))
    assert study.k_choices == [1, 16]  # each split trains on 16 of the 20 images
    assert study.shuffled_picks == []


def test_command_prints_the_table_and_writes_plot_and_figures(small_cifar_dir, tmp_path, capsys):
    plot, figures = tmp_path / "knn.png", tmp_path / "knn.json"
    assert knn_study.main(["--cifar10-dir", str(small_cifar_dir), "--shuffles", "2", "--plot", str(plot),
                           "--json", str(figures)]) == 0
    printed = capsys.readouterr().out
    assert "first 100 training and 20 test images" in printed
    assert "notebook's pick" in printed and "2 shuffled 5-fold splits" in printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(figures.read_text())
    assert len(saved["cv_mean"]) == len(saved["k_choices"]) == len(saved["test"])


def test_missing_data_stops_with_the_fetch_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        knn_study.main(["--cifar10-dir", str(tmp_path / "nowhere")])
    assert stopped.value.code == 2
    assert "get_datasets.sh" in capsys.readouterr().err
