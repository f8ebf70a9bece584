"""The network study: round 0 is the notebooks' own protocol, later rounds only shift the seeds."""

import ast
import itertools
import json
import re

import numpy as np
import pytest

from bench import network_study
from cs231n.data_utils import load_CIFAR10
from cs231n.features import color_histogram_hsv, extract_features, hog_feature
from instructor.course import REPO_ROOT
from solutions.cs231n.classifiers.linear_classifier import LinearSVM
from solutions.cs231n.classifiers.neural_net import TwoLayerNet

SOURCE = REPO_ROOT / "solutions" / "source"
# The notebooks' full-mode settings and seeds, written out here rather than read from the study.
NET_GRID = list(itertools.product([5e-4, 1e-3, 1.5e-3], [0.05, 0.25, 0.5]))
SVM_GRID = list(itertools.product([1e-3, 3e-3, 1e-2], [1e-3, 1e-2, 1e-1]))
FEATURE_NET_GRID = list(itertools.product([0.1, 0.3, 1.0], [1e-4, 1e-3, 1e-2]))
SCALE = 0.02  # of every step count: 20 search and 100 final steps for the net, 30 + 15 for the SVM, 40 for the net


def blobs(num_examples, dim, spread, scale, ones_column=False, seed=0):
    """Splits of 10 Gaussian classes, 200 / 100 / rest: accuracies between chance and 1 that move with the seeds."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, scale, (10, dim))
    y = np.arange(num_examples) % 10
    rng.shuffle(y)
    X = centres[y] + rng.normal(0, spread * scale, (num_examples, dim))  # (N, dim)
    if ones_column:
        X = np.hstack([X, np.ones((num_examples, 1))])  # (N, dim + 1)
    X = X.astype(np.float32)
    return network_study.Splits(X[:200], y[:200], X[200:300], y[200:300], X[300:], y[300:])


def accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def net_search_by_hand(data, grid, hidden, num_iters, net_seed, batch_seed):
    """The notebooks' search loop: (validation accuracies, the first best setting's network)."""
    vals, best, best_val = [], None, -1.0
    for learning_rate, reg in grid:
        net = TwoLayerNet(data.X_train.shape[1], hidden, 10, seed=net_seed)
        net.train(data.X_train, data.y_train, data.X_val, data.y_val, learning_rate=learning_rate,
                  learning_rate_decay=0.95, reg=reg, num_iters=num_iters, batch_size=200, seed=batch_seed)
        vals.append(accuracy(net, data.X_val, data.y_val))
        if vals[-1] > best_val:
            best, best_val = (learning_rate, reg, net), vals[-1]
    return vals, best


@pytest.fixture(scope="module")
def pixel_data():
    return blobs(400, 40, spread=1.5, scale=200.0)


@pytest.fixture(scope="module")
def feature_data():
    return blobs(400, 30, spread=2.0, scale=1.0, ones_column=True)


def test_net_round_zero_is_the_notebooks_search_then_the_best_setting_trained_with_seeds_2_and_3(pixel_data):
    study_round = network_study.network_round(pixel_data, 0, iters_scale=SCALE)
    vals, (best_lr, best_reg, _) = net_search_by_hand(pixel_data, NET_GRID, 150, 20, net_seed=0, batch_seed=1)
    assert [(s["learning_rate"], s["reg"]) for s in study_round.search] == NET_GRID
    assert [s["val"] for s in study_round.search] == vals
    assert (study_round.best_learning_rate, study_round.best_reg) == (best_lr, best_reg)
    assert study_round.search_val == max(vals)
    final = TwoLayerNet(40, 150, 10, seed=2)
    final.train(pixel_data.X_train, pixel_data.y_train, pixel_data.X_val, pixel_data.y_val, learning_rate=best_lr,
                learning_rate_decay=0.95, reg=best_reg, num_iters=100, batch_size=200, seed=3)
    assert study_round.val == accuracy(final, pixel_data.X_val, pixel_data.y_val)
    assert study_round.test == accuracy(final, pixel_data.X_test, pixel_data.y_test)
    assert study_round.seeds == {"search_net": 0, "search_batch": 1, "final_net": 2, "final_batch": 3}
    # The comparison has power: other seeds give other accuracies on these data.
    assert net_search_by_hand(pixel_data, NET_GRID, 150, 20, net_seed=1, batch_seed=0)[0] != vals


def test_net_round_one_shifts_every_seed_by_ten(pixel_data):
    study_round = network_study.network_round(pixel_data, 1, iters_scale=SCALE)
    vals, _ = net_search_by_hand(pixel_data, NET_GRID, 150, 20, net_seed=10, batch_seed=11)
    assert [s["val"] for s in study_round.search] == vals
    assert study_round.seeds == {"search_net": 10, "search_batch": 11, "final_net": 12, "final_batch": 13}


def test_features_round_zero_is_the_notebooks_svm_and_net_searches(feature_data):
    svm_round, net_round = network_study.features_rounds(feature_data, 0, iters_scale=SCALE)

    vals, best, best_val = [], None, -1.0
    for learning_rate, reg in SVM_GRID:
        svm = LinearSVM()
        svm.train(feature_data.X_train, feature_data.y_train, learning_rate=learning_rate, reg=reg, num_iters=30,
                  seed=0)
        svm.train(feature_data.X_train, feature_data.y_train, learning_rate=learning_rate / 10, reg=reg, num_iters=15,
                  seed=1)
        vals.append(accuracy(svm, feature_data.X_val, feature_data.y_val))
        if vals[-1] > best_val:
            best, best_val = (learning_rate, reg, svm), vals[-1]
    assert [s["val"] for s in svm_round.search] == vals
    assert (svm_round.best_learning_rate, svm_round.best_reg) == best[:2]
    assert svm_round.val == svm_round.search_val == max(vals)
    assert svm_round.test == accuracy(best[2], feature_data.X_test, feature_data.y_test)

    without_ones = network_study.Splits(feature_data.X_train[:, :-1], feature_data.y_train, feature_data.X_val[:, :-1],
                                        feature_data.y_val, feature_data.X_test[:, :-1], feature_data.y_test)
    vals, (best_lr, best_reg, best_net) = net_search_by_hand(without_ones, FEATURE_NET_GRID, 500, 40, net_seed=0,
                                                             batch_seed=1)
    assert [s["val"] for s in net_round.search] == vals
    assert (net_round.best_learning_rate, net_round.best_reg) == (best_lr, best_reg)
    assert net_round.test == accuracy(best_net, without_ones.X_test, without_ones.y_test)
    assert svm_round.seeds == net_round.seeds == {"first": 0, "second": 1}


def test_features_round_one_shifts_the_seeds_by_ten(feature_data):
    svm_round, _ = network_study.features_rounds(feature_data, 1, iters_scale=SCALE)
    learning_rate, reg = SVM_GRID[0]
    svm = LinearSVM()
    svm.train(feature_data.X_train, feature_data.y_train, learning_rate=learning_rate, reg=reg, num_iters=30, seed=10)
    svm.train(feature_data.X_train, feature_data.y_train, learning_rate=learning_rate / 10, reg=reg, num_iters=15,
              seed=11)
    assert svm_round.search[0]["val"] == accuracy(svm, feature_data.X_val, feature_data.y_val)
    assert svm_round.seeds == {"first": 10, "second": 11}


def full_mode(path, name):
    """The value of ``name = ... if QUICK else <value>`` or of ``name = [...]`` in a notebook's source."""
    text = path.read_text()
    quick = re.search(rf"^{name} = .* if QUICK else (.+)$", text, re.MULTILINE)
    if quick:
        return ast.literal_eval(quick.group(1))
    return ast.literal_eval(re.findall(rf"^{name} = (\[.+\])$", text, re.MULTILINE)[-1])


def test_the_studys_settings_are_the_notebooks_full_mode_settings():
    net, features = SOURCE / "two_layer_net_notebook.py", SOURCE / "features_notebook.py"
    assert list(network_study.NET_LEARNING_RATES) == full_mode(net, "learning_rates")
    assert list(network_study.NET_REGS) == full_mode(net, "regularization_strengths")
    assert network_study.NET_HIDDEN == full_mode(net, "hidden_size")
    assert network_study.NET_SEARCH_ITERS == full_mode(net, "search_iters")
    assert network_study.NET_FINAL_ITERS == full_mode(net, "final_iters")
    assert list(network_study.SVM_LEARNING_RATES) == full_mode(features, "learning_rates")
    assert list(network_study.SVM_REGS) == full_mode(features, "regularization_strengths")
    assert network_study.SVM_ITERS == full_mode(features, "svm_search_iters")
    assert list(network_study.FEATURE_NET_LEARNING_RATES) == full_mode(features, "net_learning_rates")
    assert list(network_study.FEATURE_NET_REGS) == full_mode(features, "net_regularization_strengths")
    assert network_study.FEATURE_NET_HIDDEN == full_mode(features, "net_hidden_size")
    assert network_study.FEATURE_NET_ITERS == full_mode(features, "net_search_iters")


def test_pixel_and_feature_rows_are_the_notebooks_preprocessing(small_cifar_dir):
    X_all, y_all, X_test_all, y_test_all = load_CIFAR10(small_cifar_dir, dtype=np.uint8)
    images = network_study.split_images(X_all, y_all, X_test_all, y_test_all, 70, 20, 15)
    assert np.array_equal(images.X_val, X_all[70:90]) and np.array_equal(images.y_test, y_test_all[:15])

    pixels = network_study.pixel_rows(images)
    mean_image = X_all[:70].reshape(70, -1).astype(np.float64).mean(axis=0)
    assert pixels.X_train.dtype == np.float32 and pixels.X_test.shape == (15, 3072)
    np.testing.assert_allclose(pixels.X_val, X_all[70:90].reshape(20, -1) - mean_image, atol=1e-4)

    features = network_study.feature_rows(images)
    fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=10)]
    train = extract_features(X_all[:70], fns)
    std = train.std(axis=0)
    std[std == 0] = 1
    expected = (extract_features(X_test_all[:15], fns) - train.mean(axis=0)) / std  # (15, 154)
    assert features.X_test.dtype == np.float32 and features.X_test.shape == (15, 155)
    np.testing.assert_allclose(features.X_test[:, :-1], expected, rtol=1e-5, atol=1e-5)
    assert np.all(features.X_test[:, -1] == 1)


def made_round(protocol, index, val, test):
    return network_study.Round(protocol, index, {}, [], 1e-3, 0.25, val, val, test, 1.0)


def test_summary_gives_each_figures_range_against_the_notebooks_target():
    rounds = [made_round("two_layer_net", 0, 0.52, 0.485), made_round("two_layer_net", 1, 0.50, 0.53),
              made_round("features_net", 0, 0.58, 0.56), made_round("features_net", 1, 0.57, 0.54)]
    figures = {f.title: f for f in network_study.summarize(rounds, num_val=1000, num_test=500)}
    assert set(figures) == {"two-layer net, final validation", "two-layer net, test", "net on features, test"}
    validation = figures["two-layer net, final validation"]
    assert (validation.minimum, validation.maximum, validation.target, validation.reached) == (0.50, 0.52, 0.50, 2)
    assert validation.standard_error == pytest.approx(np.sqrt(0.51 * 0.49 / 1000))
    test = figures["two-layer net, test"]
    assert (test.minimum, test.maximum, test.target, test.reached, test.num_images) == (0.485, 0.53, 0.49, 1, 500)
    on_features = figures["net on features, test"]
    assert (on_features.target, on_features.reached) == (0.55, 1)

    study = network_study.Study(sizes={}, iters_scale=1.0, rounds=rounds, summary=list(figures.values()))
    printed = network_study.report(study)
    assert ("two-layer net, test: 0.485-0.530 over 2 rounds, target 0.49, reached in 1 of 2; standard error of one "
            "accuracy on 500 images 0.022") in printed


def test_svm_figure_is_held_to_its_target():
    figures = network_study.summarize([made_round("features_svm", 0, 0.45, 0.41)], num_val=1000, num_test=1000)
    assert [(f.title, f.target, f.reached) for f in figures] == [("SVM on features, test", 0.42, 0)]


def test_command_prints_the_rounds_and_writes_them_to_json(small_cifar_dir, tmp_path, capsys):
    figures = tmp_path / "network.json"
    assert network_study.main(["--cifar10-dir", str(small_cifar_dir), "--seeds", "2", "--training", "80",
                               "--validation", "20", "--test", "20", "--iters-scale", "0.01",
                               "--json", str(figures)]) == 0
    printed = capsys.readouterr().out
    assert "80 training, 20 validation and 20 test images; 2 rounds of net, features" in printed
    assert len(re.findall(r"^two-layer net +1 10,11,12,13 ", printed, re.MULTILINE)) == 1
    assert "net on features, test: " in printed and "on 20 images" in printed
    saved = json.loads(figures.read_text())
    assert [(r["protocol"], r["round"]) for r in saved["rounds"]] == [
        ("two_layer_net", 0), ("two_layer_net", 1), ("features_svm", 0), ("features_net", 0),
        ("features_svm", 1), ("features_net", 1)]
    assert saved["sizes"] == {"training": 80, "validation": 20, "test": 20}
    assert all(len(r["search"]) == 9 for r in saved["rounds"])
    assert [f["title"] for f in saved["summary"]] == [title for title, *_ in network_study.FIGURE_TARGETS]


def test_only_runs_the_named_protocol(small_cifar_dir, tmp_path):
    figures = tmp_path / "features.json"
    network_study.main(["--cifar10-dir", str(small_cifar_dir), "--seeds", "1", "--only", "features", "--training",
                        "80", "--validation", "20", "--test", "20", "--iters-scale", "0.01", "--json", str(figures)])
    saved = json.loads(figures.read_text())
    assert [r["protocol"] for r in saved["rounds"]] == ["features_svm", "features_net"]
    assert saved["feature_seconds"] >= 0


def test_missing_data_stops_with_the_folder_and_the_fetch_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        network_study.main(["--cifar10-dir", str(tmp_path / "nowhere")])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in message and "get_datasets.sh" in message


@pytest.mark.parametrize("options, complaint", [
    (["--only", "net,knn"], "--only takes a comma-separated subset of net,features, got 'net,knn'"),
    (["--seeds", "0"], "--seeds must be 1 or more, got 0"),
    (["--iters-scale", "0"], "--iters-scale must be a finite number > 0"),
    (["--training", "90", "--validation", "20"], r"holds 100 training and 20 test images, fewer than --training 90"),
])
def test_bad_options_are_refused_with_the_rule(small_cifar_dir, options, complaint, capsys):
    with pytest.raises(SystemExit) as stopped:
        network_study.main(["--cifar10-dir", str(small_cifar_dir), "--test", "20"] + options)
    assert stopped.value.code == 2
    assert complaint in capsys.readouterr().err
