# Cells of solutions/source/assignment1/svm.ipynb; build it with `python -m instructor.release.notebooks`.

# %% [markdown]
# # Multiclass Support Vector Machine on CIFAR-10
#
# A **linear classifier** maps an image $x_i$ (all its pixels stretched into one column of $D = 3072$
# numbers) to one score per class with the **score function**
#
# $$f(x_i; W, b) = W x_i + b,$$
#
# where $W$ has one row per class ($C = 10$ rows of $D$ numbers) and $b$ holds one bias per class. The
# predicted class is the one with the highest score. Each row of $W$ is a *template* that is matched
# against the image with a dot product, and each class's zero-score boundary is a hyperplane in the
# $D$-dimensional space of images. Learning means finding $W$ and $b$ whose scores agree with the labels
# of the training images, as measured by a **loss function**; here the multiclass SVM loss.
#
# The interactive demo [`demos/linear-classify/index.html`](../demos/linear-classify/index.html) shows
# all of this on 2-D points: open it in a browser (from the file system, no server needed) and watch the
# hyperplanes move as the loss is minimized.
#
# In this notebook you will
#
# - write the SVM loss and its gradient, first with loops, then vectorized (`cs231n/classifiers/linear_svm.py`),
# - check the gradient numerically,
# - write minibatch stochastic gradient descent (`cs231n/classifiers/linear_classifier.py`),
# - tune the learning rate and the regularization strength on validation data,
# - look at the learned weights.
#
# Cells marked as tests check your functions; hidden tests and a person reading your answers grade the rest.

# %% include=setup

# %% [markdown]
# ## The score function and the bias trick
#
# An image with 4 pixels and 3 classes (cat, dog, ship): $W$ is 3 x 4, $x$ has 4 entries, $b$ has 3.

# %%
W_toy = np.array([[0.2, -0.5, 0.1, 2.0],
                  [1.5, 1.3, 2.1, 0.0],
                  [0.0, 0.25, 0.2, -0.3]])  # (C=3, D=4)
x_toy = np.array([56.0, 231.0, 24.0, 2.0])  # (D,)
b_toy = np.array([1.1, 3.2, -1.2])  # (C,)
scores_toy = W_toy @ x_toy + b_toy  # (C,)
print("scores W x + b:", scores_toy)

# %% [markdown]
# Keeping $W$ and $b$ apart is tedious. The **bias trick** appends a constant 1 to every image and $b$
# as an extra column of $W$: then $W' x' = W x + b$, one matrix holds all the parameters.

# %%
W_extended = np.hstack([W_toy, b_toy[:, np.newaxis]])  # (C, D + 1): b becomes the last column
x_extended = np.append(x_toy, 1.0)  # (D + 1,): a constant 1 at the end
print("scores W' x':  ", W_extended @ x_extended)
assert np.allclose(W_extended @ x_extended, scores_toy), "the bias trick must give the same scores"

# %% [markdown]
# In the code, images are the **rows** of a matrix `X` of shape `(N, D)`, so the scores of all images are
# `X @ W` with `W` of shape `(D, C)`: the transpose of the $W$ above, and the bias is its last row.

# %% [markdown]
# ## Load CIFAR-10 and split it
#
# - **train**: the first 49,000 training images, to fit $W$;
# - **validation**: the next 1,000, to choose the learning rate and regularization strength;
# - **test**: the first 1,000 test images, used once at the very end;
# - **dev**: 200 training images drawn at random, to check code quickly.
#
# The images are loaded as `uint8` (`dtype=np.uint8`, 150 MB instead of 1.2 GB of float64) and become
# floating point only in preprocessing. If the data is missing, the next cell says how to get it.

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
# ## Preprocessing: subtract the mean image
#
# Centering the data (subtracting the mean training image from every image) puts the origin in the middle
# of the cloud of images, where the class hyperplanes can separate them without a huge bias. The mean is
# computed on the **training images only** and then subtracted from every split.

# %%
mean_image = train_images.mean(axis=0, dtype=np.float64)  # (3072,), accumulated without a float copy of the data
print("first values of the mean image:", np.round(mean_image[:10], 2))
plt.figure(figsize=(4, 4))
plt.imshow(mean_image.reshape(32, 32, 3).astype(np.uint8))
plt.title("mean training image")
plt.axis("off")
plt.show()

# %% [markdown]
# Then every image becomes a row of `float32` (half the memory and time of float64, plenty of precision for
# SGD) with the mean subtracted and a constant 1 appended for the bias trick, so $D = 3073$. The dev set
# is kept in float64 for the numerical gradient checks, whose finite differences need the precision.

# %%
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
X_dev = preprocess(train_images[dev_indices], dtype=np.float64)
del X_train_all, X_test_all, train_images, val_images, test_images  # the uint8 copies are no longer needed
print("X_train", X_train.shape, X_train.dtype, " X_dev", X_dev.shape, X_dev.dtype)

# %% [markdown]
# The bias trick on the real data: with random weights, `X @ W` equals the scores of the raw centered
# pixels plus the last row of `W`.

# %%
W_random = np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))  # (3073, C)
scores_with_trick = X_dev @ W_random  # (num_dev, C)
scores_with_bias = X_dev[:, :-1] @ W_random[:-1] + W_random[-1]  # (num_dev, C) + (C,) broadcasts
assert np.allclose(scores_with_trick, scores_with_bias)
print("bias trick on the dev set: the two score matrices agree")

# %% [markdown]
# ## The multiclass SVM loss
#
# For image $i$ with scores $s = f(x_i; W)$ and correct class $y_i$, the SVM wants the correct score to be
# higher than every other score by at least a margin $\Delta$:
#
# $$L_i = \sum_{j \ne y_i} \max(0,\; s_j - s_{y_i} + \Delta).$$
#
# The data loss is the mean of $L_i$ over the images. The **worked example** from the lecture: three
# images (a cat, a car, a frog) and their scores for the classes cat, car and frog, with $\Delta = 1$.

# %%
def hinge_losses(scores, labels, delta=1.0):
    """Per-example multiclass SVM losses of a (N, C) score matrix with integer labels (N,)."""
    correct = scores[np.arange(len(labels)), labels][:, np.newaxis]  # (N, 1)
    margins = np.maximum(0.0, scores - correct + delta)  # (N, C)
    margins[np.arange(len(labels)), labels] = 0.0  # the sum skips j = y_i
    return margins.sum(axis=1)


example_scores = np.array([[3.2, 5.1, -1.7],   # the cat image: scores for cat, car, frog
                           [1.3, 4.9, 2.0],    # the car image
                           [2.2, 2.5, -3.1]])  # the frog image
example_labels = np.array([0, 1, 2])
example_losses = hinge_losses(example_scores, example_labels)
print("losses of the cat, car and frog images:", np.round(example_losses, 2))
print(f"mean loss: {example_losses.mean():.2f}")
assert np.allclose(example_losses, [2.9, 0.0, 12.9]) and round(example_losses.mean(), 2) == 5.27

# %% [markdown]
# The example of the notes, with $\Delta = 10$: scores $[13, -7, 11]$ and the first class correct. The
# second class is more than 10 below the correct score and adds nothing; the third is only 2 below, so it
# adds $11 - 13 + 10 = 8$.

# %%
margin_loss = hinge_losses(np.array([[13.0, -7.0, 11.0]]), np.array([0]), delta=10.0)[0]
print(f"loss with delta = 10: {margin_loss:g}")
assert margin_loss == 8.0

# %% [markdown]
# **Inline question 1**
#
# Take the car image of the worked example (scores: cat 1.3, car 4.9, frog 2.0; loss 0). What happens to
# its loss if its scores change a little, say each by at most 0.5? Why?

# %% [markdown] answer id=inline_question_1 points=1
# **Your answer:**
# ### BEGIN SOLUTION
# Nothing: the loss stays 0. The car score beats the cat score by 3.6 and the frog score by 2.9, both more
# than the margin 1 plus the change (at most 1 in the difference). Every term max(0, s_j - s_car + 1) stays
# clamped at 0; the SVM does not care about scores that already satisfy the margin.
# ### END SOLUTION

# %% [markdown]
# **Inline question 2**
#
# What are the smallest and the largest values the SVM loss $L_i$ can take? At initialization $W$ is small,
# so all scores are close to 0: what is the loss then, for $C$ classes and $\Delta = 1$? (The sanity check
# below relies on it.)

# %% [markdown] answer id=inline_question_2 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# The minimum is 0 (every wrong score at least Delta below the correct one); there is no maximum: the loss
# grows without bound as a wrong score exceeds the correct one (it tends to infinity). With all scores
# about 0, each of the C - 1 wrong classes contributes max(0, 0 - 0 + 1) = 1, so the loss is about
# C - 1 = 9 for CIFAR-10.
# ### END SOLUTION

# %% [markdown]
# **Inline question 3**
#
# (a) What happens to the loss if the sum ran over **all** classes, including $j = y_i$?
# (b) What if we took the **mean** over the classes instead of the sum?
# Does either change the classifier we learn?

# %% [markdown] answer id=inline_question_3 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# (a) The term j = y_i is max(0, s_yi - s_yi + Delta) = Delta, so every L_i grows by the constant Delta (1):
# the loss is shifted by 1, its minimum becomes 1 instead of 0, and the minimizing W is the same.
# (b) The mean divides every L_i by the constant C - 1 (or C): the loss is rescaled, the data loss still
# has the same minimizers, and with regularization this is equivalent to a different regularization
# strength. Neither changes what the classifier prefers (up to re-tuning lambda).
# ### END SOLUTION

# %% [markdown]
# **Inline question 4**
#
# The **squared hinge** loss uses $\max(0, s_j - s_{y_i} + \Delta)^2$ instead. Is it the same problem in
# disguise? When would you prefer it?

# %% [markdown] answer id=inline_question_4 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# No: it is a different loss and in general gives a different W. Squaring is not a monotone rescaling of
# the whole sum: it penalizes large margin violations much more (quadratically) and small ones less. It is
# preferable when big violations should dominate (and it is differentiable at the hinge); the plain hinge
# is more robust to outliers. The choice is validated like any hyperparameter.
# ### END SOLUTION

# %% [markdown]
# ## Regularization: W is not unique
#
# If some $W$ classifies every training image with all margins satisfied (loss 0), then any multiple
# $\lambda W$ with $\lambda > 1$ does as well: all score differences grow by the factor $\lambda$. Below,
# $W$ and $2W$ both have zero loss on three toy examples.

# %%
X_unique = np.array([[1.0, 0.2], [0.1, 1.0], [-1.0, -1.0]])  # (N=3, D=2)
y_unique = np.array([0, 1, 2])
W_unique = np.array([[3.0, -1.0, -2.0],
                     [-1.0, 3.0, -2.0]])  # (D=2, C=3)
for factor in (1.0, 2.0):
    losses = hinge_losses(X_unique @ (factor * W_unique), y_unique)
    print(f"{factor:g} W: scores\n{X_unique @ (factor * W_unique)}\n  data loss {losses.mean():g}")
    assert losses.mean() == 0.0

# %% [markdown]
# To remove this ambiguity we add a **regularization** penalty $R(W) = \sum_{k,l} W_{k,l}^2$ that prefers
# small, spread-out weights, and minimize
#
# $$L = \frac{1}{N}\sum_i L_i + \lambda\, R(W).$$
#
# In the code `reg` is $\lambda$, and the bias row is regularized too (it makes little difference).
#
# ## The naive loss
#
# Implement `svm_loss_naive` in `cs231n/classifiers/linear_svm.py`: the loss and its gradient, with loops.
# The sanity check: with small random weights the loss must be about $C - 1 = 9$.

# %%
import time

from cs231n.classifiers.linear_svm import svm_loss_naive

W_init = 0.0001 * np.random.default_rng(231).standard_normal((X_dev.shape[1], num_classes))  # (3073, C)
loss, grad = svm_loss_naive(W_init, X_dev, y_dev, 0.0)
print(f"loss at initialization: {loss:.4f} (should be about C - 1 = {num_classes - 1})")
assert abs(loss - (num_classes - 1)) < 0.5, f"the loss at initialization must be about {num_classes - 1}, got {loss}"

# %% [markdown]
# ## Gradient check
#
# The gradient is checked against centered finite differences $(L(W + h) - L(W - h)) / 2h$ at random
# entries of $W$, once without regularization and once with a strength ($\lambda = 5 \times 10^4$) at which
# the regularization gradient $2 \lambda W$ is as large as the data gradient, so a wrong or missing
# regularization term shows. Relative errors around $10^{-7}$ or below mean agreement.

# %%
from cs231n.gradient_check import grad_check_sparse

strong_reg = 5e4
# Each checked entry costs two evaluations of the naive loss, which loops over the examples: the first 50
# dev examples check the same code as all of them, four times faster.
X_check, y_check = X_dev[:50], y_dev[:50]
for reg in (0.0, strong_reg):
    print(f"reg = {reg:g}")
    loss, grad = svm_loss_naive(W_init, X_check, y_check, reg)
    errors = grad_check_sparse(lambda w: svm_loss_naive(w, X_check, y_check, reg)[0], W_init.copy(), grad, 10, seed=0)
    print(f"  entries with relative error below 1e-6: {np.sum(errors < 1e-6)} of {errors.size} "
          "(should be all of them, or all but one where the probe crossed a hinge kink)")

# %% [markdown]
# **Inline question 5**
#
# Once in a while, one entry of the gradient check disagrees by much more than the others. What can cause
# this, and is it a reason for concern? (Hint: the SVM loss is not differentiable everywhere.) Give a
# one-dimensional example where it happens.

# %% [markdown] answer id=inline_question_5 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# The hinge max(0, m) has a kink at m = 0. When one margin of some example is within h of 0, the finite
# difference L(W + h) - L(W - h) straddles the kink and averages the slopes on both sides, while the
# analytic (sub)gradient takes the slope of one side, so the two disagree. It is not a bug and not a concern
# when it happens at isolated entries; shrinking h or checking with fewer data points makes it rarer.
# Example: f(x) = max(0, x) at x = 1e-6 with h = 1e-5 gives the numerical gradient
# (f(1.1e-5) - f(0)) / 2e-5 = 0.55, while the analytic gradient is 1.
# ### END SOLUTION

# %% test id=test_svm_loss_naive points=3
# Visible tests: the worked example, the loss at initialization, the gradient's shape and gradient checks.
# A failing check prints what it expected, what it got and, for a common mistake, a hint.
from cs231n.checks import check_below, check_close
from cs231n.classifiers.linear_svm import svm_loss_naive
from cs231n.gradient_check import grad_check_sparse

svm_mistakes = [(15.8, "the loss is summed over the 3 examples: divide it (and dW) by N"),
                (15.8 / 3 + 1, "the correct class's own margin (always 1) is counted: skip j == y[i]")]
loss, grad = svm_loss_naive(example_scores.copy(), np.eye(3), example_labels, 0.0)  # X = I: the scores are W
check_close("svm_loss_naive on the worked example (the mean of 2.9, 0 and 12.9)", loss, 15.8 / 3, rtol=1e-9,
            mistakes=svm_mistakes)
loss, grad = svm_loss_naive(W_init, X_dev, y_dev, 0.0)
assert grad.shape == W_init.shape, f"dW must have W's shape {W_init.shape}, got {grad.shape}"
check_close(f"svm_loss_naive at initialization (about C - 1 = {num_classes - 1})", loss, num_classes - 1, rtol=0,
            atol=0.5, mistakes=[(num_classes, "the correct class's own margin (always 1) is counted: skip j == y[i]")])
for reg in (0.0, 5e4):
    loss, grad = svm_loss_naive(W_init, X_dev, y_dev, reg)
    errors = grad_check_sparse(lambda w: svm_loss_naive(w, X_dev, y_dev, reg)[0], W_init.copy(), grad, 5,
                               seed=1, verbose=False)
    check_below(f"relative errors of dW at 5 entries against finite differences (reg={reg:g})", errors, 1e-6,
                at_least=4, hint=("a single large error can be a hinge kink; several mean dW is wrong"
                                  + (": with reg > 0, check the regularization gradient 2 * reg * W" if reg else "")))
print("svm_loss_naive: visible tests pass")

# %% hidden name=svm_loss_naive points=5

# %% [markdown]
# ## The vectorized loss
#
# Implement `svm_loss_vectorized`: the same loss and gradient without any Python loop. Both versions are
# compared by relative error, at the strong regularization above so that a missing regularization term
# (loss or gradient) shows, and timed.

# %%
from cs231n.classifiers.linear_svm import svm_loss_vectorized
from cs231n.gradient_check import relative_error

start = time.perf_counter()
loss_vectorized, grad_vectorized = svm_loss_vectorized(W_init, X_dev, y_dev, strong_reg)
vectorized_seconds = time.perf_counter() - start
start = time.perf_counter()
loss_naive, grad_naive = svm_loss_naive(W_init, X_dev, y_dev, strong_reg)
naive_seconds = time.perf_counter() - start

loss_error = float(relative_error(loss_naive, loss_vectorized))
grad_error = np.linalg.norm(grad_naive - grad_vectorized) / np.linalg.norm(grad_naive)
print(f"naive:      loss {loss_naive:.6f} in {naive_seconds * 1e3:8.2f} ms")
print(f"vectorized: loss {loss_vectorized:.6f} in {vectorized_seconds * 1e3:8.2f} ms "
      f"({naive_seconds / vectorized_seconds:.0f}x faster)")
print(f"relative error of the loss {loss_error:.2e}, of the gradient (Frobenius) {grad_error:.2e} "
      "(both should be below 1e-9)")

# %% test id=test_svm_loss_vectorized points=3
# Visible tests: vectorized equals naive (with and without regularization), the worked example, a gradient check.
from cs231n.checks import check_below, check_close
from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized

svm_mistakes = [(15.8, "the loss is summed over the 3 examples: divide it (and dW) by N"),
                (15.8 / 3 + 1, "the correct class's own margin (always 1) is counted: set it to 0")]
loss, grad = svm_loss_vectorized(example_scores.copy(), np.eye(3), example_labels, 0.0)
check_close("svm_loss_vectorized on the worked example (the mean of 2.9, 0 and 12.9)", loss, 15.8 / 3, rtol=1e-9,
            mistakes=svm_mistakes)
for reg in (0.0, 5e4):
    loss_v, grad_v = svm_loss_vectorized(W_init, X_dev, y_dev, reg)
    loss_n, grad_n = svm_loss_naive(W_init, X_dev, y_dev, reg)
    reg_mistakes = [(loss_n - reg * np.sum(W_init * W_init), "the regularization loss reg * sum(W ** 2) is missing")]
    grad_mistakes = [(grad_n - 2 * reg * W_init, "the regularization gradient 2 * reg * W is missing"),
                     (grad_n - reg * W_init, "the regularization gradient is 2 * reg * W, not reg * W")]
    check_close(f"svm_loss_vectorized's loss against svm_loss_naive's (reg={reg:g})", loss_v, loss_n, rtol=1e-9,
                mistakes=reg_mistakes if reg else [])
    check_close(f"svm_loss_vectorized's dW against svm_loss_naive's (reg={reg:g})", grad_v, grad_n, rtol=1e-9,
                mistakes=grad_mistakes if reg else [])
loss, grad = svm_loss_vectorized(W_init, X_dev, y_dev, 0.0)
errors = grad_check_sparse(lambda w: svm_loss_vectorized(w, X_dev, y_dev, 0.0)[0], W_init.copy(), grad, 5,
                           seed=2, verbose=False)
check_below("relative errors of svm_loss_vectorized's dW at 5 entries against finite differences", errors, 1e-6,
            at_least=4, hint="a single large error can be a hinge kink; several mean dW is wrong")
print("svm_loss_vectorized: visible tests pass")

# %% hidden name=svm_loss_vectorized points=5

# %% [markdown]
# ## Stochastic gradient descent
#
# The full loss is a mean over 49,000 images; its gradient is well estimated by a **minibatch** of a few
# hundred images drawn at random. Each SGD step samples a minibatch, computes the loss and gradient on it,
# and moves $W$ a small step against the gradient. Implement the sampling and the update in
# `LinearClassifier.train`, and `LinearClassifier.predict`, in `cs231n/classifiers/linear_classifier.py`.

# %%
from cs231n.classifiers import LinearSVM

sgd_iters = 150 if QUICK else 500
svm = LinearSVM()
start = time.perf_counter()
loss_history = svm.train(X_train, y_train, learning_rate=1.6e-6, reg=2e3, num_iters=sgd_iters, verbose=True, seed=0)
print(f"{sgd_iters} SGD steps in {time.perf_counter() - start:.1f} s")

plt.figure(figsize=(8, 4))
plt.plot(loss_history)
plt.xlabel("iteration")
plt.ylabel("minibatch loss")
plt.title("SVM training loss")
plt.show()
train_accuracy = np.mean(svm.predict(X_train) == y_train)
val_accuracy = np.mean(svm.predict(X_val) == y_val)
print(f"after {sgd_iters} steps: training accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")

# %% test id=test_linear_classifier_train points=2
# Visible tests: the loss history, the loss going down on an easy problem, and reproducibility from the seed.
from cs231n.checks import check_close
from cs231n.classifiers import LinearSVM

check_rng = np.random.default_rng(5)
X_easy = np.hstack([np.vstack([check_rng.normal(2, 1, (50, 3)), check_rng.normal(-2, 1, (50, 3))]),
                    np.ones((100, 1))])  # (100, 4): two well-separated clouds and the bias column
y_easy = np.repeat([0, 1], 50)
model = LinearSVM()
history = model.train(X_easy, y_easy, learning_rate=0.05, reg=1e-3, num_iters=80, batch_size=10, seed=0)
assert len(history) == 80, f"train must return one loss per iteration (80), got {len(history)}"
assert model.W.shape == (4, 2), f"W must have shape (D, C) = (4, 2), got {model.W.shape}"
first, last = np.mean(history[:10]), np.mean(history[-10:])
assert last < 0.5 * first, (f"the loss did not go down on an easy problem: mean of the first 10 steps {first:.4g}, "
                            f"of the last 10 {last:.4g} (should be below half the first); check the update "
                            "W -= learning_rate * dW (its sign) and that each step samples a new minibatch")
again = LinearSVM()
again.train(X_easy, y_easy, learning_rate=0.05, reg=1e-3, num_iters=80, batch_size=10, seed=0)
check_close("W of a second model trained with the same seed", again.W, model.W, rtol=0,
            hint="the same seed must give the same model: draw the minibatches with the rng of train (rng.integers)")
float32_model = LinearSVM()
float32_model.train(X_easy.astype(np.float32), y_easy, num_iters=3, batch_size=10, seed=0)
assert float32_model.W.dtype == np.float32, f"float32 data must train float32 weights, got {float32_model.W.dtype}"
print("LinearClassifier.train: visible tests pass")

# %% hidden name=linear_classifier_train points=3

# %% test id=test_linear_classifier_predict points=2
# Visible tests: predictions are the highest-scoring classes, one integer per example.
from cs231n.checks import check_close
from cs231n.classifiers import LinearSVM

model = LinearSVM()
model.W = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]])  # (D=2, C=3)
X_points = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [2.0, 1.0]])  # scores: rows of X_points @ W
predicted = model.predict(X_points)
check_close("predict on 4 points (the class of the highest score in each row of X @ W)", predicted, [0, 1, 2, 0],
            rtol=0, hint="the scores are X @ W, shape (N, C); the prediction is their argmax along axis 1")
assert np.issubdtype(predicted.dtype, np.integer), f"predictions must be integers, got {predicted.dtype}"
print("LinearClassifier.predict: visible tests pass")

# %% hidden name=linear_classifier_predict points=2

# %% [markdown]
# ## Tuning the learning rate and the regularization strength
#
# Train one model per pair (learning rate, regularization strength) on the training set and measure its
# accuracy on the validation set. Each model takes `search_iters` steps at its learning rate, then half as
# many at a tenth of it (a **learning-rate decay**: large steps first to get close, small steps to settle).
# Calling `train` again continues from the current weights.
#
# First choose the values to try:

# %% answer id=search_grid
learning_rates = []
regularization_strengths = []
### BEGIN SOLUTION
learning_rates = [4e-7, 8e-7, 1.6e-6]
regularization_strengths = [1e3, 2e3, 5e3]
### END SOLUTION

# %% [markdown]
# In quick mode only two values of each are tried, with few steps.

# %%
import itertools

from tqdm.auto import tqdm

search_iters = 40 if QUICK else 400
if QUICK:
    learning_rates, regularization_strengths = learning_rates[:2], regularization_strengths[:2]
print(f"{len(learning_rates)} learning rates x {len(regularization_strengths)} regularization strengths, "
      f"{search_iters} + {search_iters // 2} steps each")

# %% [markdown]
# Now the search. Store `results[(learning_rate, reg)] = (training accuracy, validation accuracy)`, with the training
# accuracy measured on the first 10,000 training images (enough to compare, and faster). Train each model
# with `seed=0` and its decayed steps with `seed=1`: the test cell after the search prints your results on
# one line, and when your work is graded, the grader trains the same settings with these seeds and compares.

# %% answer id=search_loop
results = {}
# For each setting: a new LinearSVM, train(..., num_iters=search_iters, seed=0), then train(..., learning_rate / 10,
# num_iters=search_iters // 2, seed=1); then the two accuracies.
### BEGIN SOLUTION
for learning_rate, reg in tqdm(list(itertools.product(learning_rates, regularization_strengths)), desc="settings"):
    model = LinearSVM()
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

# %% test id=test_svm_search points=2
# Visible test: every (learning rate, regularization strength) of the grid has a (training, validation)
# accuracy. The last line printed is what the grader reads: it trains these settings again and compares.
from cs231n.report import search_report

results_line = search_report("svm_search", results, learning_rates, regularization_strengths)
print("search: visible tests pass")
print(results_line)

# %%
from cs231n.vis_utils import show_search

show_search(results, "Linear SVM: validation accuracy")
plt.show()

# %% [markdown]
# The search used short runs to compare settings. The final model is the best setting trained longer (same
# decay, more steps). Short runs are noisy, and the best of nine noisy runs flatters its own validation
# score, so the model that goes to the test set is this one.

# %%
best_lr, best_reg = max(results, key=lambda setting: results[setting][1])
final_iters = 100 if QUICK else 1500
final_svm = LinearSVM()
final_svm.train(X_train, y_train, learning_rate=best_lr, reg=best_reg, num_iters=final_iters, seed=2)
final_svm.train(X_train, y_train, learning_rate=best_lr / 10, reg=best_reg, num_iters=final_iters, seed=3)
final_val = float(np.mean(final_svm.predict(X_val) == y_val))
print(f"lr {best_lr:.1e} reg {best_reg:.1e}, {final_iters} + {final_iters} steps: final validation accuracy {final_val:.3f}")

# %% [markdown]
# The chosen model on the test set, once:

# %%
test_accuracy = float(np.mean(final_svm.predict(X_test) == y_test))
print(f"linear SVM on raw pixels: final test accuracy {test_accuracy:.3f}")

# %% [markdown]
# ## The learned weights as templates
#
# Each column of $W$ (without the bias row) has one weight per pixel and color, so it can be shown as an
# image: the template that the class's score matches.

# %%
from cs231n.vis_utils import show_class_templates

show_class_templates(final_svm.W, CLASSES)
plt.show()

# %% [markdown]
# **Inline question 6**
#
# Describe what the templates look like and explain why they look that way. Why can a single template per
# class not capture a class like *car* or *horse* well?

# %% [markdown] answer id=inline_question_6 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# The templates are blurry averages of their class: the score is a dot product, so each template is
# pushed towards the typical colors and layout of its class's training images and away from other
# classes'. Plane and ship templates are blue (sky, water) with a blob in the middle, frog is green-brown,
# deer has a brown blob on a green/brown background, car is reddish with a dark front, horse often shows
# a blurry two-headed horse facing both ways. One template per class must match every variant at once
# (cars of all colors, horses facing left and right), so it becomes a mix of them; a linear classifier
# cannot represent "either this or that" and confuses classes with similar colors.
# ### END SOLUTION
