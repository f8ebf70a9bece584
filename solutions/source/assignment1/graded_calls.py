"""How each graded function of assignment 1 is called on one case: the calling convention, no test data.

The grader sends this file, and nothing else of the hidden checks, into the sandbox where the student's
functions run: a case's inputs arrive one at a time, :func:`run` calls the student's code on them, and
the outputs go back to the grader, which alone holds the expected values. :mod:`hidden_checks` calls the
reference the same way. Nothing here is secret.
"""

import numpy as np

NAMES = [
    "compute_distances_two_loops",
    "compute_distances_one_loop",
    "compute_distances_no_loops",
    "predict_labels",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "linear_classifier_train",
    "linear_classifier_predict",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "two_layer_net_loss",
    "two_layer_net_train",
    "two_layer_net_predict",
]
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _trained_knn(modules, X_train, y_train):
    knn = modules["k_nearest_neighbor"].KNearestNeighbor()
    knn.train(X_train, y_train)
    return knn


def _network(modules, case):
    """A ``TwoLayerNet`` of the case's shapes whose ``params`` are copies of the case's W1, b1, W2, b2."""
    (input_size, hidden_size), num_classes = case["W1"].shape, case["W2"].shape[1]
    net = modules["neural_net"].TwoLayerNet(input_size, hidden_size, num_classes)
    net.params = {name: case[name].copy() for name in PARAM_NAMES}
    return net


def _run_network(name, modules, case):
    net = _network(modules, case)
    if name == "two_layer_net_loss":
        if "y" not in case:
            return {"scores": np.asarray(net.loss(case["X"].copy()), dtype=np.float64)}
        loss, grads = net.loss(case["X"].copy(), y=case["y"].copy(), reg=case["reg"])
        outputs = {"loss": np.asarray(float(loss))}
        outputs.update({f"d{key}": np.asarray(grads[key], dtype=np.float64) for key in PARAM_NAMES})
        return outputs
    if name == "two_layer_net_predict":
        return {"labels": np.asarray(net.predict(case["X"].copy())).astype(np.int64)}
    stats = net.train(case["X"], case["y"], case["X_val"], case["y_val"], learning_rate=case["learning_rate"],
                      learning_rate_decay=case["learning_rate_decay"], reg=case["reg"], num_iters=case["num_iters"],
                      batch_size=case["batch_size"], seed=case["seed"])
    history = np.asarray(stats["loss_history"], dtype=np.float64)
    if np.unique(case["X"], axis=0).shape[0] == 1:
        # Identical rows: every minibatch is the same whichever rows are sampled, so the steps can be compared.
        outputs = {"loss_history": history, "val_acc_history": np.asarray(stats["val_acc_history"], dtype=np.float64),
                   "train_acc_history": np.asarray(stats["train_acc_history"], dtype=np.float64)}
        outputs.update({key: np.asarray(net.params[key], dtype=np.float64) for key in PARAM_NAMES})
        return outputs
    # Different rows: which rows are sampled is the student's choice, so only the trend and the lengths count.
    start, end = history[:10].mean(), history[-10:].mean()
    return {"loss_decreased": np.asarray(float(end < 0.5 * start)), "loss_history_length": np.asarray(history.size),
            "epochs": np.asarray(len(stats["val_acc_history"]))}


def run(name: str, modules, case: dict) -> dict[str, np.ndarray]:
    """Call one implementation of ``name`` on one hidden case.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    modules : mapping
        Module name (``k_nearest_neighbor``, ``linear_svm``, ``softmax``, ``linear_classifier``, ``neural_net``) to module:
        the student's package, or :func:`reference`.
    case : dict
        One element of ``cases(name)``.

    Returns
    -------
    dict of str to ndarray
        ``dists`` (num_test, num_train) float64; ``labels`` int64; ``loss`` () and ``dW`` (D, C) float64;
        for training ``loss_history`` and ``W``, or ``loss_decreased`` (1.0 or 0.0) on data whose batches differ;
        for the network ``scores`` (N, C), or ``loss`` and ``dW1``, ``db1``, ``dW2``, ``db2``; its training's
        ``val_acc_history`` and the final parameters; its ``labels``.
    """
    if name not in NAMES:
        raise KeyError(f"unknown graded function {name!r}; expected one of {', '.join(NAMES)}")
    if name.startswith("compute_distances"):
        knn = _trained_knn(modules, case["X_train"], case["y_train"])
        return {"dists": np.asarray(getattr(knn, name)(case["X_test"]), dtype=np.float64)}
    if name == "predict_labels":
        num_train = case["y_train"].shape[0]
        knn = _trained_knn(modules, np.zeros((num_train, 1)), case["y_train"])  # only the labels matter
        return {"labels": np.asarray(knn.predict_labels(case["dists"], k=case["k"])).astype(np.int64)}
    if name.endswith(("loss_naive", "loss_vectorized")):
        module = modules["linear_svm"] if name.startswith("svm") else modules["softmax"]
        loss, dW = getattr(module, name)(case["W"].copy(), case["X"].copy(), case["y"].copy(), case["reg"])
        return {"loss": np.asarray(float(loss)), "dW": np.asarray(dW, dtype=np.float64)}
    if name.startswith("two_layer_net"):
        return _run_network(name, modules, case)
    classifiers = modules["linear_classifier"]
    if name == "linear_classifier_train":
        model = (classifiers.LinearSVM, classifiers.Softmax)[case["model"]]()
        history = model.train(
            case["X"], case["y"], learning_rate=case["learning_rate"], reg=case["reg"],
            num_iters=case["num_iters"], batch_size=case["batch_size"], seed=case["seed"],
        )
        history = np.asarray(history, dtype=np.float64)
        if np.unique(case["X"], axis=0).shape[0] == 1:
            return {"loss_history": history, "W": np.asarray(model.W, dtype=np.float64)}
        # Different rows: which rows are sampled is the student's choice, so only the trend is compared.
        start, end = history[:10].mean(), history[-10:].mean()
        return {"loss_decreased": np.asarray(float(end < 0.5 * start)), "loss_history_length": np.asarray(history.size)}
    model = classifiers.LinearSVM()
    model.W = case["W"].copy()
    return {"labels": np.asarray(model.predict(case["X"].copy())).astype(np.int64)}
