# Cells of solutions/source/assignment1/softmax.ipynb; build it with `python -m instructor.release.notebooks`.

# %% [markdown]
# # Softmax classifier on CIFAR-10
#
# The Softmax classifier uses the same **score function** as the SVM, $f(x_i; W, b) = W x_i + b$, but reads
# the scores differently: as unnormalized log-probabilities of the classes. Exponentiating and
# normalizing them gives a probability for every class,
#
# $$P(y = k \mid x_i) = \frac{e^{s_k}}{\sum_j e^{s_j}},$$
#
# and the **cross-entropy loss** of image $i$ is minus the log-probability of its correct class:
#
# $$L_i = -\log \frac{e^{s_{y_i}}}{\sum_j e^{s_j}} = -s_{y_i} + \log \sum_j e^{s_j}.$$
#
# The interactive demo [`demos/linear-classify/index.html`](../demos/linear-classify/index.html) trains
# both losses on 2-D points: open it in a browser and switch between the SVM and the softmax loss.
#
# In this notebook you will write the softmax loss and its gradient with loops and vectorized
# (`cs231n/classifiers/softmax.py`), check them, train the classifier with the SGD you wrote for the SVM
# (`cs231n/classifiers/linear_classifier.py`), tune it, and compare the two losses.

# %% include=setup

# %% [markdown]
# ## The bias trick, again
#
# As for the SVM, a constant 1 appended to each image turns the bias into one more row of `W`: the
# scores of all images are `X @ W`, with `X` of shape `(N, D + 1)` and `W` of shape `(D + 1, C)`.

# %%
W_toy = np.array([[0.2, -0.5, 0.1, 2.0],
                  [1.5, 1.3, 2.1, 0.0],
                  [0.0, 0.25, 0.2, -0.3]])  # (C=3, D=4), one template per row as in the notes
x_toy = np.array([56.0, 231.0, 24.0, 2.0])  # (D,)
b_toy = np.array([1.1, 3.2, -1.2])  # (C,)
W_extended = np.hstack([W_toy, b_toy[:, np.newaxis]])  # (C, D + 1)
print("W x + b:", W_toy @ x_toy + b_toy, "  W' x':", W_extended @ np.append(x_toy, 1.0))
assert np.allclose(W_extended @ np.append(x_toy, 1.0), W_toy @ x_toy + b_toy)

# %% [markdown]
# ## Load CIFAR-10, split and preprocess
#
# The same splits as in the SVM notebook: 49,000 training, 1,000 validation and 1,000 test images, and a
# dev set of 200 training images for quick checks. If the data is missing, the next cell says how to get it.

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
    num_dev = min(100, num_training)
else:
    num_training, num_validation, num_test, num_dev = 49000, 1000, 1000, 200


def rows(images):
    return images.reshape(images.shape[0], -1)  # (N, 32, 32, 3) -> (N, 3072), a view, still uint8


train_images = rows(X_train_all[:num_training])
val_images = rows(X_train_all[num_training : num_training + num_validation])
test_images = rows(X_test_all[:num_test])
dev_indices = np.random.default_rng(0).choice(num_training, num_dev, replace=False)
y_train = y_train_all[:num_training]
y_val = y_train_all[num_training : num_training + num_validation]
y_test = y_test_all[:num_test]
y_dev = y_train[dev_indices]
num_classes = len(CLASSES)
print(f"train {train_images.shape}, validation {val_images.shape}, test {test_images.shape}, dev {len(dev_indices)}")

# %% [markdown]
# The mean training image is subtracted from every split (computed on the training images only):

# %%
mean_image = train_images.mean(axis=0, dtype=np.float64)  # (3072,), accumulated without a float copy of the data
plt.figure(figsize=(4, 4))
plt.imshow(mean_image.reshape(32, 32, 3).astype(np.uint8))
plt.title("mean training image")
plt.axis("off")
plt.show()


def preprocess(images, dtype=np.float32):
    """(N, 3072) uint8 images -> (N, 3073) rows of ``dtype``: mean image subtracted, a 1 appended."""
    X = np.empty((images.shape[0], images.shape[1] + 1), dtype=dtype)  # (N, 3073), filled in place
    # (N, 3072) - (3072,) broadcasts over the rows; one pass that converts and subtracts, no temporary
    np.subtract(images, mean_image.astype(dtype), out=X[:, :-1])
    X[:, -1] = 1.0
    return X


X_train = preprocess(train_images)
X_val = preprocess(val_images)
X_test = preprocess(test_images)
X_dev = preprocess(train_images[dev_indices], dtype=np.float64)  # float64 for the gradient checks
del X_train_all, X_test_all, train_images, val_images, test_images  # the uint8 copies are no longer needed
print("X_train", X_train.shape, X_train.dtype, " X_dev", X_dev.shape, X_dev.dtype)

# %% [markdown]
# ## The worked example
#
# The cat image of the lecture has scores cat 3.2, car 5.1, frog -1.7. Exponentiate, normalize, and take
# minus the log of the correct class's probability:

# %%
cat_scores = np.array([3.2, 5.1, -1.7])
unnormalized = np.exp(cat_scores)
probabilities = unnormalized / unnormalized.sum()
cat_loss = -np.log(probabilities[0])
print("exp(scores):  ", np.round(unnormalized, 2))
print("probabilities:", np.round(probabilities, 2))
print(f"loss -log(P(cat)) = {cat_loss:.2f}")
assert np.allclose(np.round(probabilities, 2), [0.13, 0.87, 0.00]) and round(cat_loss, 2) == 2.04

# %% [markdown]
# **Numeric stability.** $e^{s}$ overflows for scores beyond about 709 in float64. Multiplying the
# numerator and the denominator by the same constant $e^{-\max_j s_j}$ changes nothing mathematically and
# keeps every exponential in $(0, 1]$:

# %%
big_scores = np.array([1000.0, 998.0, 990.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big_scores) / np.exp(big_scores).sum()
shifted = np.exp(big_scores - big_scores.max())
print("without the shift:", naive, "  with the shift:", np.round(shifted / shifted.sum(), 4))
assert np.all(np.isnan(naive)) and np.allclose((shifted / shifted.sum()).sum(), 1.0)

# %% [markdown]
# **Inline question 1**
#
# What are the smallest and the largest values the softmax loss $L_i$ can take, and can they be reached?
# At initialization $W$ is small, so all scores are close to 0: what is the loss then for $C = 10$ classes,
# and why? (The sanity check below relies on it.)

# %% [markdown] answer id=inline_question_1 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# The loss is -log of a probability in (0, 1), so it lies in (0, infinity): it approaches 0 when the correct
# score is infinitely larger than the others and grows without bound as the correct probability tends to 0,
# but with finite scores it never reaches either end. With all scores about 0 every class gets probability
# 1/C, so the loss is -log(1/C) = log(C) = log(10), about 2.303.
# ### END SOLUTION

# %% [markdown]
# ## The naive loss
#
# Implement `softmax_loss_naive` in `cs231n/classifiers/softmax.py`, with loops and with the shift above.
# The sanity check: with small random weights the loss must be about $\log 10 \approx 2.303$.

# %%
import time

from cs231n.classifiers.softmax import softmax_loss_naive

W_init = 0.0001 * np.random.default_rng(231).standard_normal((X_dev.shape[1], num_classes))  # (3073, C)
loss, grad = softmax_loss_naive(W_init, X_dev, y_dev, 0.0)
print(f"loss at initialization: {loss:.4f} (should be about log(10) = {np.log(10):.4f})")
assert abs(loss - np.log(num_classes)) < 0.2, f"the loss at initialization must be about log(10), got {loss}"

# %% [markdown]
# ## Gradient check
#
# Without regularization, and with a strength ($\lambda = 5 \times 10^3$) at which the regularization
# gradient $2 \lambda W$ is as large as the data gradient, so a wrong regularization term shows.

# %%
from cs231n.gradient_check import grad_check_sparse

strong_reg = 5e3
# Each checked entry costs two evaluations of the naive loss, which loops over the examples: the first 50
# dev examples check the same code as all of them, four times faster.
X_check, y_check = X_dev[:50], y_dev[:50]
for reg in (0.0, strong_reg):
    print(f"reg = {reg:g}")
    loss, grad = softmax_loss_naive(W_init, X_check, y_check, reg)
    errors = grad_check_sparse(lambda w: softmax_loss_naive(w, X_check, y_check, reg)[0], W_init.copy(), grad, 10, seed=0)
    print(f"  entries with relative error below 1e-6: {np.sum(errors < 1e-6)} of {errors.size} (should be all of them)")

# %% test id=test_softmax_loss_naive points=3
# Visible tests: the worked example, the loss at initialization, the gradient's shape and gradient checks.
# A failing check prints what it expected, what it got and, for a common mistake, a hint.
from cs231n.checks import check_below, check_close
from cs231n.classifiers.softmax import softmax_loss_naive
from cs231n.gradient_check import grad_check_sparse

loss, grad = softmax_loss_naive(cat_scores[np.newaxis, :].copy(), np.eye(1), np.array([0]), 0.0)  # X = [[1]]: scores = W
check_close("softmax_loss_naive on the cat image, -log(P(cat)) with P = softmax([3.2, 5.1, -1.7])", loss, cat_loss,
            rtol=1e-9, mistakes=[(cat_loss / np.log(10), "the loss uses the natural logarithm np.log, not log10")])
loss, grad = softmax_loss_naive(W_init, X_dev, y_dev, 0.0)
assert grad.shape == W_init.shape, f"dW must have W's shape {W_init.shape}, got {grad.shape}"
check_close(f"softmax_loss_naive at initialization (about log(C) = {np.log(num_classes):.4f})", loss,
            np.log(num_classes), rtol=0, atol=0.2)
for reg in (0.0, 5e3):
    loss, grad = softmax_loss_naive(W_init, X_dev, y_dev, reg)
    errors = grad_check_sparse(lambda w: softmax_loss_naive(w, X_dev, y_dev, reg)[0], W_init.copy(), grad, 5,
                               seed=1, verbose=False)
    check_below(f"relative errors of dW at 5 entries against finite differences (reg={reg:g})", errors, 1e-5,
                hint="with reg > 0, check the regularization gradient 2 * reg * W" if reg else None)
loss, grad = softmax_loss_naive(np.array([[1000.0, 998.0, 990.0]]), np.eye(1), np.array([1]), 0.0)
assert np.isfinite(loss) and np.all(np.isfinite(grad)), (
    f"scores around 1000 gave loss {loss} (should be about 2.13): exp overflows; shift the scores by their maximum")
print("softmax_loss_naive: visible tests pass")

# %% hidden name=softmax_loss_naive points=5

# %% [markdown]
# ## The vectorized loss
#
# Implement `softmax_loss_vectorized`: the same loss and gradient without Python loops. Both versions are
# compared by relative error at the strong regularization above, and timed.

# %%
from cs231n.classifiers.softmax import softmax_loss_vectorized
from cs231n.gradient_check import relative_error

start = time.perf_counter()
loss_vectorized, grad_vectorized = softmax_loss_vectorized(W_init, X_dev, y_dev, strong_reg)
vectorized_seconds = time.perf_counter() - start
start = time.perf_counter()
loss_naive, grad_naive = softmax_loss_naive(W_init, X_dev, y_dev, strong_reg)
naive_seconds = time.perf_counter() - start

loss_error = float(relative_error(loss_naive, loss_vectorized))
grad_error = np.linalg.norm(grad_naive - grad_vectorized) / np.linalg.norm(grad_naive)
print(f"naive:      loss {loss_naive:.6f} in {naive_seconds * 1e3:8.2f} ms")
print(f"vectorized: loss {loss_vectorized:.6f} in {vectorized_seconds * 1e3:8.2f} ms "
      f"({naive_seconds / vectorized_seconds:.0f}x faster)")
print(f"relative error of the loss {loss_error:.2e}, of the gradient (Frobenius) {grad_error:.2e} "
      "(both should be below 1e-9)")

# %% test id=test_softmax_loss_vectorized points=3
# Visible tests: vectorized equals naive (with and without regularization), huge scores, a gradient check.
from cs231n.checks import check_below, check_close
from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

for reg in (0.0, 5e3):
    loss_v, grad_v = softmax_loss_vectorized(W_init, X_dev, y_dev, reg)
    loss_n, grad_n = softmax_loss_naive(W_init, X_dev, y_dev, reg)
    reg_mistakes = [(loss_n - reg * np.sum(W_init * W_init), "the regularization loss reg * sum(W ** 2) is missing")]
    grad_mistakes = [(grad_n - 2 * reg * W_init, "the regularization gradient 2 * reg * W is missing"),
                     (grad_n - reg * W_init, "the regularization gradient is 2 * reg * W, not reg * W")]
    check_close(f"softmax_loss_vectorized's loss against softmax_loss_naive's (reg={reg:g})", loss_v, loss_n,
                rtol=1e-9, mistakes=reg_mistakes if reg else [])
    check_close(f"softmax_loss_vectorized's dW against softmax_loss_naive's (reg={reg:g})", grad_v, grad_n,
                rtol=1e-9, mistakes=grad_mistakes if reg else [])
loss, grad = softmax_loss_vectorized(np.array([[1000.0, 998.0, 990.0]]), np.eye(1), np.array([1]), 0.0)
assert np.isfinite(loss) and np.all(np.isfinite(grad)), (
    f"scores around 1000 gave loss {loss} (should be about 2.13): exp overflows; shift the scores by their maximum")
loss, grad = softmax_loss_vectorized(W_init, X_dev, y_dev, 0.0)
errors = grad_check_sparse(lambda w: softmax_loss_vectorized(w, X_dev, y_dev, 0.0)[0], W_init.copy(), grad, 5,
                           seed=2, verbose=False)
check_below("relative errors of softmax_loss_vectorized's dW at 5 entries against finite differences", errors, 1e-5)
print("softmax_loss_vectorized: visible tests pass")

# %% hidden name=softmax_loss_vectorized points=5

# %% [markdown]
# ## SVM or Softmax?
#
# Three images whose correct class is the first, with scores $[10, -2, 3]$, $[10, 9, 9]$ and
# $[10, -100, -100]$. With $\Delta = 1$ the SVM is satisfied by all three (loss 0); the softmax loss is
# never exactly 0 and keeps pushing the correct score up, a lot for $[10, 9, 9]$, almost nothing for
# $[10, -100, -100]$.

# %%
comparison_scores = np.array([[10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0]])
comparison_labels = np.zeros(3, dtype=int)
margins = np.maximum(0.0, comparison_scores - comparison_scores[:, :1] + 1.0)  # (3, 3), column 0 is the correct class
svm_losses = margins[:, 1:].sum(axis=1)
# The correct score is the largest in every row, so after the shift L_i = log(1 + sum of the other exps);
# log1p keeps the tiny loss of [10, -100, -100] (about 3e-48) instead of rounding it to 0.
shifted = comparison_scores - comparison_scores.max(axis=1, keepdims=True)  # (3, 3), column 0 is 0
softmax_losses = np.log1p(np.exp(shifted[:, 1:]).sum(axis=1))
for scores, svm_loss, softmax_loss in zip(comparison_scores, svm_losses, softmax_losses):
    print(f"scores {scores}: SVM loss {svm_loss:g}, softmax loss {softmax_loss:.3g}")
assert np.all(svm_losses == 0) and np.all(softmax_losses > 0)
assert softmax_losses[1] > softmax_losses[0] > softmax_losses[2]

# %% [markdown]
# **Inline question 2**
#
# True or false, with a short explanation: *it is possible to add a new image to a training set so that
# the total SVM loss stays the same while the total softmax loss changes.* (Take the loss as the sum of
# $L_i$ over the images, without regularization.)

# %% [markdown] answer id=inline_question_2 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# True. Add an image that the current W already classifies with every margin satisfied, for example with
# scores [10, -2, 3] and correct class 0: its SVM loss is max(0, -2 - 10 + 1) + max(0, 3 - 10 + 1) = 0, so
# the SVM total does not change. Its softmax loss -log(P(correct)) is always strictly positive (every class
# has a nonzero probability), so the softmax total increases. The SVM is content once the margins hold; the
# softmax is never fully satisfied.
# ### END SOLUTION

# %% [markdown]
# ## Scaling W changes the softmax probabilities
#
# For the SVM, $2W$ had the same zero loss as $W$. For the softmax, scaling the scores changes the
# probabilities: the example of the notes, scores $[1, -2, 0]$, and the same scores halved (as if a
# stronger regularization had made $W$ smaller).

# %%
def softmax(scores):
    shifted = scores - scores.max()
    return np.exp(shifted) / np.exp(shifted).sum()


for factor in (1.0, 0.5, 2.0):
    print(f"{factor:g} x [1, -2, 0] -> probabilities {np.round(softmax(factor * np.array([1.0, -2.0, 0.0])), 2)}")
assert np.allclose(np.round(softmax(np.array([1.0, -2.0, 0.0])), 2), [0.71, 0.04, 0.26])
assert np.allclose(np.round(softmax(np.array([0.5, -1.0, 0.0])), 2), [0.55, 0.12, 0.33])

# %% [markdown]
# **Inline question 3**
#
# What happens to the softmax probabilities as $W$ is scaled up, and as it is scaled down? What does this
# say about how the regularization strength affects the "confidence" of a trained Softmax classifier,
# and is the ordering of the classes affected?

# %% [markdown] answer id=inline_question_3 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# Scaling W up scales all scores, which makes the distribution more peaked (the top class approaches
# probability 1); scaling down makes it more diffuse (towards uniform 1/C). Stronger regularization keeps W
# small, so the trained classifier gives more uniform, less confident probabilities; weaker regularization
# lets them become sharper. The ordering of the scores, and therefore the predicted class, does not change
# with the scale: the probabilities are only meaningful relative to each other.
# ### END SOLUTION

# %% [markdown]
# ## Training with SGD
#
# `Softmax` uses the `LinearClassifier.train` and `predict` you wrote for the SVM, with the softmax loss.

# %%
from cs231n.classifiers import Softmax

sgd_iters = 150 if QUICK else 300
softmax_model = Softmax()
start = time.perf_counter()
loss_history = softmax_model.train(X_train, y_train, learning_rate=6e-6, reg=5e2, num_iters=sgd_iters,
                                   verbose=True, seed=0)
print(f"{sgd_iters} SGD steps in {time.perf_counter() - start:.1f} s")

plt.figure(figsize=(8, 4))
plt.plot(loss_history)
plt.xlabel("iteration")
plt.ylabel("minibatch loss")
plt.title("Softmax training loss")
plt.show()
train_accuracy = np.mean(softmax_model.predict(X_train) == y_train)
val_accuracy = np.mean(softmax_model.predict(X_val) == y_val)
print(f"after {sgd_iters} steps: training accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")

# %% [markdown]
# ## Tuning the learning rate and the regularization strength
#
# As for the SVM: one model per pair, `search_iters` steps at the learning rate and then half as many at a
# tenth of it, compared on the validation set. Choose the values to try:

# %% answer id=search_grid
learning_rates = []
regularization_strengths = []
### BEGIN SOLUTION
learning_rates = [4e-6, 8e-6, 1.6e-5]
regularization_strengths = [2.5e2, 5e2, 1e3]
### END SOLUTION

# %% [markdown]
# In quick mode only two values of each are tried, with few steps.

# %%
import itertools

from tqdm.auto import tqdm

search_iters = 40 if QUICK else 250
if QUICK:
    learning_rates, regularization_strengths = learning_rates[:2], regularization_strengths[:2]
print(f"{len(learning_rates)} learning rates x {len(regularization_strengths)} regularization strengths, "
      f"{search_iters} + {search_iters // 2} steps each")

# %% [markdown]
# Store `results[(learning_rate, reg)] = (training accuracy, validation accuracy)`, with the training
# accuracy measured on the first 10,000 training images (enough to compare, and faster). As for the SVM,
# train each model with `seed=0` and its decayed steps with `seed=1`: the grader trains the same settings
# with these seeds and compares.

# %% answer id=search_loop
results = {}
# For each setting: a new Softmax, train(..., num_iters=search_iters, seed=0), then train(..., learning_rate / 10,
# num_iters=search_iters // 2, seed=1); then the two accuracies.
### BEGIN SOLUTION
for learning_rate, reg in tqdm(list(itertools.product(learning_rates, regularization_strengths)), desc="settings"):
    model = Softmax()
    model.train(X_train, y_train, learning_rate=learning_rate, reg=reg, num_iters=search_iters, seed=0)
    model.train(X_train, y_train, learning_rate=learning_rate / 10, reg=reg, num_iters=search_iters // 2, seed=1)
    train_accuracy = float(np.mean(model.predict(X_train[:10000]) == y_train[:10000]))
    val_accuracy = float(np.mean(model.predict(X_val) == y_val))
    results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
### END SOLUTION

for learning_rate, reg in sorted(results):
    train_accuracy, val_accuracy = results[(learning_rate, reg)]
    print(f"lr {learning_rate:.1e} reg {reg:.1e}: train accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")
best_val = max(val_accuracy for _, val_accuracy in results.values())
print(f"best validation accuracy of the search: {best_val:.3f}")

# %% test id=test_softmax_search points=2
# Visible test: every (learning rate, regularization strength) of the grid has a (training, validation)
# accuracy. The last line printed is what the grader reads: it trains these settings again and compares.
from cs231n.report import search_report

results_line = search_report("softmax_search", results, learning_rates, regularization_strengths)
print("search: visible tests pass")
print(results_line)

# %%
from cs231n.vis_utils import show_search

show_search(results, "Softmax: validation accuracy")
plt.show()

# %% [markdown]
# The final model: the best setting trained longer (more steps, same decay). The search only compares
# settings; its short runs are noisy, and the best of nine noisy runs flatters its own validation score, so
# the model that goes to the test set is this one.

# %%
best_lr, best_reg = max(results, key=lambda setting: results[setting][1])
final_iters = 100 if QUICK else 700
final_softmax = Softmax()
final_softmax.train(X_train, y_train, learning_rate=best_lr, reg=best_reg, num_iters=final_iters, seed=2)
final_softmax.train(X_train, y_train, learning_rate=best_lr / 10, reg=best_reg, num_iters=final_iters, seed=3)
final_val = float(np.mean(final_softmax.predict(X_val) == y_val))
print(f"lr {best_lr:.1e} reg {best_reg:.1e}, {final_iters} + {final_iters} steps: final validation accuracy {final_val:.3f}")

# %% [markdown]
# The chosen model on the test set, once:

# %%
test_accuracy = float(np.mean(final_softmax.predict(X_test) == y_test))
print(f"softmax on raw pixels: final test accuracy {test_accuracy:.3f}")

# %% [markdown]
# ## The learned weights as templates

# %%
from cs231n.vis_utils import show_class_templates

show_class_templates(final_softmax.W, CLASSES)
plt.show()
