"""The network rounding probe: its other network is correct, and it reports each setting with the grader's verdict."""

import numpy as np

from bench import network_rounding
from solutions.cs231n.classifiers.neural_net import TwoLayerNet


def test_the_other_network_computes_the_reference_loss_and_gradients():
    rng = np.random.default_rng(0)
    net = TwoLayerNet(7, 5, 4, std=0.5, seed=0)
    X, y = rng.standard_normal((9, 7)), rng.integers(0, 4, 9)
    loss, grads = net.loss(X, y, reg=0.3)
    other, other_grads = network_rounding.other_loss(net, X, y, reg=0.3)
    assert abs(other - loss) < 1e-12
    for name in grads:
        np.testing.assert_allclose(other_grads[name], grads[name], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(network_rounding.other_loss(net, X), net.loss(X), rtol=1e-12)


def test_the_probe_reports_every_setting_and_restores_the_reference(small_cifar_dir, monkeypatch, capsys):
    monkeypatch.setattr(network_rounding, "GRIDS", {"two_layer_net_search": ([1e-3], [0.1, 0.2]),
                                                     "features_net_search": ([0.1], [1e-3])})
    code = network_rounding.main(["--cifar10-dir", str(small_cifar_dir)])
    printed = capsys.readouterr().out
    assert code in (0, 1)
    assert printed.count("two_layer_net_search") == 2 and printed.count("features_net_search") == 1
    assert "3 settings" in printed.splitlines()[-1]
    from instructor.course import COURSE_DIR, REPO_ROOT
    from instructor.grade.verdict import load_hidden_checks

    network = load_hidden_checks(COURSE_DIR, REPO_ROOT).reference().neural_net.TwoLayerNet
    assert network.loss is not network_rounding.other_loss


def test_missing_data_says_where_it_looked(tmp_path, capsys):
    assert network_rounding.main(["--cifar10-dir", str(tmp_path / "nowhere")]) == 2
    assert str(tmp_path / "nowhere") in capsys.readouterr().err
