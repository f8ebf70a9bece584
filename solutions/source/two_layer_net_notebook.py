# Cells of solutions/source/assignment1/two_layer_net.ipynb; build it with `python -m instructor.release.notebooks`.

# %% [markdown]
# # A two-layer neural network on CIFAR-10
#
# The linear classifiers of the last notebooks compute one score per class as $x W$. A **two-layer
# network** puts a layer of $H$ hidden units between the pixels and the scores:
#
# $$h = \max(0, x W_1 + b_1), \qquad s = h W_2 + b_2,$$
#
# with $W_1$ of shape $(D, H)$, $b_1$ of shape $(H,)$, $W_2$ of shape $(H, C)$ and $b_2$ of shape $(C,)$.
# The $\max(0, \cdot)$, the **ReLU**, is what makes the network more than a linear classifier: without it
# the two layers would multiply into one matrix. The scores go through the softmax loss you wrote for the
# Softmax classifier, and the weights (not the biases) are regularized by $\lambda (\sum W_1^2 + \sum W_2^2)$.
#
# In this notebook you will
#
# - write the forward pass, the loss and the backward pass of `TwoLayerNet.loss` in
#   `cs231n/classifiers/neural_net.py`, and check them on a toy network,
# - write the SGD step of `TwoLayerNet.train` and `TwoLayerNet.predict`,
# - train the network on CIFAR-10, read its loss and accuracy curves, look at its first-layer weights,
# - tune its learning rate and regularization strength, and evaluate the best network on the test set.
#
# Cells marked as tests check your functions; hidden tests and a person reading your answers grade the rest.

# %% include=setup

# %% [markdown]
# ## A toy network
#
# A small network (4 inputs, 10 hidden units, 3 classes) and 5 toy examples make every number easy to
# check. The seeds are CS231n's, so the expected scores and loss below are theirs.

# %%
from cs231n.classifiers.neural_net import TwoLayerNet

input_size, hidden_size_toy, num_classes_toy, num_inputs = 4, 10, 3, 5


def init_toy_model():
    np.random.seed(0)
    return TwoLayerNet(input_size, hidden_size_toy, num_classes_toy, std=1e-1)


def init_toy_data():
    np.random.seed(1)
    X = 10 * np.random.randn(num_inputs, input_size)  # (5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


net = init_toy_model()
X_toy, y_toy = init_toy_data()
print({name: value.shape for name, value in net.params.items()})

# %% [markdown]
# ## The forward pass: scores
#
# Implement the first part of `TwoLayerNet.loss`: with `y=None` it returns the scores, shape `(N, C)`.

# %%
correct_scores = np.asarray([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949]])

scores = net.loss(X_toy)
print("your scores:\n", scores)
print("difference from the correct scores:", np.sum(np.abs(scores - correct_scores)), "(should be below 1e-7)")

# %% [markdown]
# ## The forward pass: loss
#
# Next, the data loss (the softmax of the scores, averaged over the examples) plus the regularization loss.

# %%
correct_loss = 1.30378789133
loss, _ = net.loss(X_toy, y_toy, reg=0.05)
print(f"your loss {loss:.11f}, difference from the correct loss {abs(loss - correct_loss):.2e} (should be below 1e-10)")

# %% [markdown]
# ## The backward pass
#
# Now the gradients of the loss with respect to `W1`, `b1`, `W2` and `b2`, in the dictionary `grads`
# keyed like `net.params`. They are checked against centred finite differences, parameter by parameter,
# with the regularization strength well above 0: the gradient of $\lambda \sum W^2$ is $2 \lambda W$, and
# writing $\lambda W$ instead is a classic slip that only a check with $\lambda > 0$ shows.

# %%
from cs231n.gradient_check import eval_numerical_gradient


def relative_errors(numeric, analytic):
    """|a - b| / max(|a| + |b|, 1e-8) for every entry, flattened: entries both near 0 count as equal."""
    numeric, analytic = np.asarray(numeric, dtype=np.float64), np.asarray(analytic, dtype=np.float64)
    return (np.abs(numeric - analytic) / np.maximum(np.abs(numeric) + np.abs(analytic), 1e-8)).ravel()


for reg in (0.0, 0.5):
    loss, grads = net.loss(X_toy, y_toy, reg=reg)
    for name in sorted(grads):
        # eval_numerical_gradient nudges the entries of net.params[name] in place, so the lambda sees them.
        numeric = eval_numerical_gradient(lambda _: net.loss(X_toy, y_toy, reg=reg)[0], net.params[name], verbose=False)
        print(f"reg {reg:g}: {name} maximum relative error {relative_errors(numeric, grads[name]).max():.2e} (should be below 1e-7)")

# %% test id=test_two_layer_net_loss points=4
# Visible tests: the toy scores and loss, every gradient against finite differences (reg 0 and 0.5), and
# scores in the thousands with a wide spread across classes.
from cs231n.checks import check_below, check_close
from cs231n.gradient_check import eval_numerical_gradient

net = init_toy_model()
scores = net.loss(X_toy)
assert np.shape(scores) == (num_inputs, num_classes_toy), f"the scores must have shape (N, C) = (5, 3), got {np.shape(scores)}"
check_close("the toy network's scores", scores, correct_scores, rtol=0, atol=1e-7)
loss, grads = net.loss(X_toy, y_toy, reg=0.05)
weights_squared = np.sum(net.params["W1"] ** 2) + np.sum(net.params["W2"] ** 2)
check_close("the toy network's loss at reg=0.05", loss, correct_loss, rtol=1e-9, mistakes=[
    (correct_loss - 0.05 * weights_squared, "the regularization loss reg * (sum(W1 ** 2) + sum(W2 ** 2)) is missing"),
    (correct_loss - 0.025 * weights_squared, "the regularization loss is reg * sum(W ** 2), without a factor 0.5")])
assert sorted(grads) == ["W1", "W2", "b1", "b2"], f"grads must have the keys W1, b1, W2, b2, got {sorted(grads)}"
for reg in (0.0, 0.5):
    loss, grads = net.loss(X_toy, y_toy, reg=reg)
    for name in ("W1", "b1", "W2", "b2"):
        assert np.shape(grads[name]) == net.params[name].shape, (
            f"grads['{name}'] must have the shape of params['{name}'] {net.params[name].shape}, got {np.shape(grads[name])}")
        numeric = eval_numerical_gradient(lambda _: net.loss(X_toy, y_toy, reg=reg)[0], net.params[name], verbose=False)
        check_below(f"relative errors of the entries of grads['{name}'] against finite differences (reg={reg:g})",
                    relative_errors(numeric, grads[name]), 1e-7,
                    hint="with reg > 0, check the regularization gradient 2 * reg * W" if reg and name[0] == "W" else None)
# One example's scores span thousands: a softmax shifted by the maximum of all scores at once (instead of
# each row's own maximum) overflows on the other rows.
wide = TwoLayerNet(2, 3, 3, seed=0)
wide.params.update(W1=np.eye(2, 3), b1=np.zeros(3), W2=np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
                   b2=np.zeros(3))
X_wide = np.array([[3000.0, 0.0], [0.0, 1.0], [0.0, 2.0]])  # first row's scores 3000, -3000, 0
loss, grads = wide.loss(X_wide, np.array([1, 0, 2]), reg=0.0)
assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values()), (
    f"scores spread over thousands gave loss {loss}: shift each row's scores by that row's maximum")
wide_scores = np.array([[3000.0, -3000.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])  # (3, 3), worked out by hand
shifted = wide_scores - wide_scores.max(axis=1, keepdims=True)  # each row by its own maximum
wide_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(3), [1, 0, 2]])
check_close("the loss for scores spread over thousands", loss, wide_loss, rtol=1e-9,
            hint="subtract each row's own maximum score before exponentiating")
print("TwoLayerNet.loss: visible tests pass")

# %% hidden name=two_layer_net_loss points=6

# %% [markdown]
# ## Training the toy network
#
# Implement the SGD step in `TwoLayerNet.train` (the minibatch sampling and the update of every
# parameter) and `TwoLayerNet.predict`. On the toy data the training loss should fall below 0.02.

# %%
net = init_toy_model()
stats = net.train(X_toy, y_toy, X_toy, y_toy, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
print(f"final training loss {stats['loss_history'][-1]:.6f} (should be below 0.02)")
plt.figure(figsize=(7, 3.5))
plt.plot(stats["loss_history"])
plt.xlabel("iteration")
plt.ylabel("training loss")
plt.title("Training loss of the toy network")
plt.show()

# %% test id=test_two_layer_net_train points=3
# Visible tests: the toy training loss (CS231n's seeds give 0.0171496) and the histories.
from cs231n.checks import check_close

net = init_toy_model()
stats = net.train(X_toy, y_toy, X_toy, y_toy, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
assert sorted(stats) == ["loss_history", "train_acc_history", "val_acc_history"], (
    f"train must return a dict with loss_history, train_acc_history, val_acc_history; got the keys {sorted(stats)}")
assert len(stats["loss_history"]) == 100, f"one loss per iteration: expected 100, got {len(stats['loss_history'])}"
assert len(stats["val_acc_history"]) == 100, (
    f"one accuracy per epoch (one step here, 5 examples < batch_size): expected 100, got {len(stats['val_acc_history'])}")
check_close("the toy network's final training loss", stats["loss_history"][-1], 0.017149607938732093, rtol=1e-6,
            hint="first make TwoLayerNet.loss pass its tests above; then sample the minibatch with "
                 "np.random.choice(num_train, batch_size) as the TODO says, and update every parameter by "
                 "-learning_rate * its gradient")
print("TwoLayerNet.train: visible tests pass")

# %% hidden name=two_layer_net_train points=4

# %% test id=test_two_layer_net_predict points=1
# Visible tests: predict gives one label per example, the class of the highest score.
predicted = net.predict(X_toy)
assert np.shape(predicted) == (num_inputs,), f"predict must return one label per example, shape (5,), got {np.shape(predicted)}"
assert np.array_equal(predicted, np.argmax(net.loss(X_toy), axis=1)), "predict must return the class of the highest score"
print("TwoLayerNet.predict: visible tests pass")

# %% hidden name=two_layer_net_predict points=2

# %% [markdown]
# ## Load CIFAR-10
#
# As before: 49,000 training, 1,000 validation and 1,000 test images; the mean training image is
# subtracted. The network has its own biases, so no column of ones is appended. If the data is missing,
# the next cell says how to get it.

# %%
from cs231n.data_utils import CLASSES, default_cifar10_dir, load_CIFAR10

try:
    X_train_all, y_train_all, X_test_all, y_test_all = load_CIFAR10(default_cifar10_dir(), dtype=np.uint8)
except FileNotFoundError as missing:
    raise FileNotFoundError(str(missing)) from None

num_available = X_train_all.shape[0]
if QUICK:
    num_validation = max(1, min(500, num_available // 5))
    num_training = min(5000, num_available - num_validation)
    num_test = min(500, X_test_all.shape[0])
else:
    num_training, num_validation, num_test = 49000, 1000, 1000


def rows(images):
    return images.reshape(images.shape[0], -1)  # (N, 32, 32, 3) -> (N, 3072), a view, still uint8


train_images = rows(X_train_all[:num_training])
mean_image = train_images.mean(axis=0, dtype=np.float64)  # (3072,), the mean training image


def preprocess(images):
    """(N, 3072) uint8 images -> (N, 3072) float32 rows with the mean training image subtracted."""
    return np.subtract(images, mean_image.astype(np.float32), dtype=np.float32)  # one pass, no float copy first


X_train = preprocess(train_images)
X_val = preprocess(rows(X_train_all[num_training : num_training + num_validation]))
X_test = preprocess(rows(X_test_all[:num_test]))
y_train = y_train_all[:num_training]
y_val = y_train_all[num_training : num_training + num_validation]
y_test = y_test_all[:num_test]
num_classes = len(CLASSES)
del X_train_all, X_test_all, train_images  # the uint8 copies are no longer needed
print(f"train {X_train.shape} {X_train.dtype}, validation {X_val.shape}, test {X_test.shape}")

# %% [markdown]
# ## A first network
#
# 50 hidden units, SGD with a learning rate that decays by 5% after every epoch. Float32 data trains a
# float32 network, twice as fast as float64 and accurate enough for SGD.

# %%
import time

first_iters = 100 if QUICK else 1000
net = TwoLayerNet(X_train.shape[1], 50, num_classes, seed=0)
start = time.perf_counter()
stats = net.train(X_train, y_train, X_val, y_val, learning_rate=1e-4, learning_rate_decay=0.95, reg=0.25,
                  num_iters=first_iters, batch_size=200, verbose=True, seed=1)
print(f"{first_iters} steps in {time.perf_counter() - start:.1f} s")
first_val = float(np.mean(net.predict(X_val) == y_val))
print(f"validation accuracy {first_val:.3f}")

# %% [markdown]
# ## Reading the curves
#
# About 0.29 on the validation set: not much. The loss falls nearly linearly and the training and
# validation accuracies are close together; both say the learning rate is low and the model has more
# capacity to use.

# %%
from cs231n.vis_utils import visualize_grid


def show_curves(stats, title):
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(12, 4))
    loss_axes.plot(stats["loss_history"])
    loss_axes.set(title=f"{title}: loss", xlabel="iteration", ylabel="minibatch loss")
    accuracy_axes.plot(stats["train_acc_history"], label="training (minibatch)")
    accuracy_axes.plot(stats["val_acc_history"], label="validation")
    accuracy_axes.set(title=f"{title}: accuracy", xlabel="epoch", ylabel="accuracy")
    accuracy_axes.legend()
    plt.show()


def show_net_weights(net):
    W1 = net.params["W1"]  # (3072, H)
    images = W1.reshape(32, 32, 3, -1).transpose(3, 0, 1, 2)  # (H, 32, 32, 3)
    plt.figure(figsize=(6, 6))
    plt.imshow(visualize_grid(images, padding=3).astype("uint8"))
    plt.axis("off")
    plt.title("first-layer weights")
    plt.show()


show_curves(stats, "first network")
show_net_weights(net)

# %% [markdown]
# **Inline question 1**
#
# Your network's training accuracy will end up well above its validation accuracy. Why does that gap
# appear, and which of these narrow it: (1) training on a larger dataset, (2) adding more hidden units,
# (3) increasing the regularization strength? Explain each.

# %% [markdown] answer id=inline_question_1 points=3
# **Your answer:**
# ### BEGIN SOLUTION
# The network fits the particular images it is trained on, including their noise, so it classifies them
# better than images it has never seen: the gap measures overfitting. (1) More training data narrows it:
# the network cannot memorize as much, and what it learns generalizes better. (3) Stronger regularization
# narrows it: it keeps the weights small and the function smoother, at some cost in training accuracy.
# (2) More hidden units alone tend to widen it, because a larger network can fit the training set better;
# with enough regularization, though, more units often improve the validation accuracy too.
# ### END SOLUTION

# %% [markdown]
# ## Tuning the hyperparameters
#
# The learning rate and the regularization strength matter most here. Choose the values to try; every
# network in the search has `hidden_size` hidden units and trains `search_iters` steps.

# %% answer id=search_grid
learning_rates = []
regularization_strengths = []
### BEGIN SOLUTION
learning_rates = [5e-4, 1e-3, 1.5e-3]
regularization_strengths = [0.05, 0.25, 0.5]
### END SOLUTION

# %% [markdown]
# In quick mode only two values of each are tried, with a small network and few steps.

# %%
import itertools

from tqdm.auto import tqdm

hidden_size = 50 if QUICK else 150
search_iters = 150 if QUICK else 1000
if QUICK:
    learning_rates, regularization_strengths = learning_rates[:2], regularization_strengths[:2]
print(f"{len(learning_rates)} learning rates x {len(regularization_strengths)} regularization strengths, "
      f"{hidden_size} hidden units, {search_iters} steps each")

# %% [markdown]
# Store `results[(learning_rate, reg)] = (training accuracy, validation accuracy)`, the training accuracy
# on the first 10,000 training images, and keep the network with the best validation accuracy in
# `best_net`. Build each network with `TwoLayerNet(X_train.shape[1], hidden_size, num_classes, seed=0)` and
# train it with `batch_size=200`, `learning_rate_decay=0.95` and `seed=1`: the grader trains the same settings
# with these seeds and compares.

# %% answer id=search_loop
results = {}
best_net, best_val = None, -1.0
### BEGIN SOLUTION
for learning_rate, reg in tqdm(list(itertools.product(learning_rates, regularization_strengths)), desc="settings"):
    candidate = TwoLayerNet(X_train.shape[1], hidden_size, num_classes, seed=0)
    candidate.train(X_train, y_train, X_val, y_val, learning_rate=learning_rate, learning_rate_decay=0.95, reg=reg,
                    num_iters=search_iters, batch_size=200, seed=1)
    train_accuracy = float(np.mean(candidate.predict(X_train[:10000]) == y_train[:10000]))
    val_accuracy = float(np.mean(candidate.predict(X_val) == y_val))
    results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
    if val_accuracy > best_val:
        best_net, best_val = candidate, val_accuracy
### END SOLUTION

for learning_rate, reg in sorted(results):
    train_accuracy, val_accuracy = results[(learning_rate, reg)]
    print(f"lr {learning_rate:.1e} reg {reg:.1e}: train accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")
print(f"best validation accuracy of the search: {best_val:.3f}")

# %% test id=test_two_layer_net_search points=2
# Visible test: every (learning rate, regularization strength) of the grid has a (training, validation)
# accuracy, and best_net is a trained network. The last line printed is what the grader reads: it trains
# these settings again and compares.
from cs231n.report import search_report

results_line = search_report("two_layer_net_search", results, learning_rates, regularization_strengths)
assert isinstance(best_net, TwoLayerNet), "keep the network with the best validation accuracy in best_net"
assert abs(float(np.mean(best_net.predict(X_val) == y_val)) - max(v for _, v in results.values())) < 1e-9, (
    "best_net's validation accuracy must be the best of results")
print("search: visible tests pass")
print(results_line)

# %%
from cs231n.vis_utils import show_search

show_search(results, "Two-layer net: validation accuracy")
plt.show()

# %% [markdown]
# ## The final network
#
# The search only compares settings: its runs are short, and the validation accuracy of a run moves by about
# 0.02 from one epoch to the next. The best setting is trained again, five times longer, and that network is
# the one that goes to the test set.

# %%
best_lr, best_reg = max(results, key=lambda setting: results[setting][1])
final_iters = 100 if QUICK else 5000
final_net = TwoLayerNet(X_train.shape[1], hidden_size, num_classes, seed=2)
start = time.perf_counter()
final_stats = final_net.train(X_train, y_train, X_val, y_val, learning_rate=best_lr, learning_rate_decay=0.95,
                              reg=best_reg, num_iters=final_iters, batch_size=200, seed=3)
final_val = float(np.mean(final_net.predict(X_val) == y_val))
print(f"lr {best_lr:.1e} reg {best_reg:.1e}, {final_iters} steps in {time.perf_counter() - start:.1f} s: "
      f"validation accuracy {final_val:.3f}")
show_curves(final_stats, "final network")

# %% [markdown]
# Its first-layer weights: compared with the first network's, more of them look like colour blobs and
# oriented edges rather than noise.

# %%
show_net_weights(final_net)

# %% [markdown]
# ## The final network on the test set, once

# %%
test_accuracy = float(np.mean(final_net.predict(X_test) == y_test))
print(f"two-layer net: best validation accuracy {final_val:.3f}, test accuracy {test_accuracy:.3f}")

# %% [markdown]
# **Inline question 2**
#
# In the search, how did the validation accuracy change with the regularization strength, and why? What
# would you expect from doubling the number of hidden units with the same regularization, and what from
# doubling the regularization strength with the same number of units?

# %% [markdown] answer id=inline_question_2 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# A small strength lets the network fit the training images closely; validation accuracy first improves
# as the strength grows (less overfitting) and then falls once the penalty keeps the weights too small to
# fit even the training data (underfitting). Doubling the hidden units gives more capacity: training
# accuracy rises, and validation accuracy rises a little if the regularization keeps the overfitting in check,
# otherwise the gap widens. Doubling the strength with the same units shrinks the weights: the
# train-validation gap narrows, and beyond the best strength both accuracies drop.
# ### END SOLUTION
