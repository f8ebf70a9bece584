# Cells of solutions/source/assignment1/knn.ipynb; build it with `python -m instructor.release.notebooks`.

# %% [markdown]
# # k-Nearest Neighbor (kNN) on CIFAR-10
#
# The kNN classifier has two stages:
#
# - **training** only memorizes the training images and their labels;
# - **prediction** compares a test image with *every* training image and lets the labels of the `k` most
#   similar ones vote.
#
# The value of `k` is chosen by **cross-validation**.
#
# In this notebook you will write the parts of `cs231n/classifiers/k_nearest_neighbor.py` that compute
# distances and votes, see how much vectorized numpy code buys over Python loops, and pick `k` by 5-fold
# cross-validation. Write your code in that file where a `TODO` says so; each function raises
# `NotImplementedError` naming itself until you do. Edits are picked up without restarting the kernel.
#
# Cells marked as tests check your functions: run them to get feedback. When your work is graded, hidden
# tests compare your functions with a reference on inputs you do not see, and the questions in this
# notebook are read by a person.

# %% include=setup

# %% [markdown]
# ## Load CIFAR-10
#
# 50,000 training and 10,000 test images of 32x32 pixels in 10 classes. `load_CIFAR10` returns float64
# images by default; `dtype=np.uint8` keeps the stored pixels (0-255), 150 MB instead of the 1.2 GB the
# training set takes as float64. If the data is missing, the next cell says how to fetch it
# (`bash datasets/get_datasets.sh` from the bundle's top folder, or set `CIFAR10_DIR`).

# %%
from cs231n.data_utils import CLASSES, default_cifar10_dir, load_CIFAR10

try:
    X_train_all, y_train_all, X_test_all, y_test_all = load_CIFAR10(default_cifar10_dir(), dtype=np.uint8)
except FileNotFoundError as missing:
    raise FileNotFoundError(str(missing)) from None

print("Training data:", X_train_all.shape, X_train_all.dtype, " labels:", y_train_all.shape)
print("Test data:    ", X_test_all.shape, X_test_all.dtype, " labels:", y_test_all.shape)

# %% [markdown]
# A few examples of each class:

# %%
samples_per_class = 7
rng = np.random.default_rng(231)
for class_index, class_name in enumerate(CLASSES):
    members = np.flatnonzero(y_train_all == class_index)
    chosen = rng.choice(members, min(samples_per_class, members.size), replace=False)
    for row, image_index in enumerate(chosen):
        plt.subplot(samples_per_class, len(CLASSES), row * len(CLASSES) + class_index + 1)
        plt.imshow(X_train_all[image_index])
        plt.axis("off")
        if row == 0:
            plt.title(class_name)
plt.show()

# %% [markdown]
# ## A subsample
#
# kNN compares every test image with every training image, so we work on the first 5,000 training and
# the first 500 test images. Each image becomes a row of 32 * 32 * 3 = 3072 numbers, still `uint8`; the
# full data set is then dropped to free its memory.

# %%
num_training = min(500 if QUICK else 5000, X_train_all.shape[0])
num_test = min(100 if QUICK else 500, X_test_all.shape[0])

X_train = X_train_all[:num_training].reshape(num_training, -1).copy()  # (num_training, 3072) uint8
y_train = y_train_all[:num_training].copy()
X_test = X_test_all[:num_test].reshape(num_test, -1).copy()  # (num_test, 3072) uint8
y_test = y_test_all[:num_test].copy()
del X_train_all, y_train_all, X_test_all, y_test_all
print("X_train:", X_train.shape, X_train.dtype, " X_test:", X_test.shape, X_test.dtype)

# %% [markdown]
# ## Training
#
# For kNN, training is remembering the data: `train` stores it (as float64, so that differences and
# squares of pixels cannot wrap around as `uint8` arithmetic would).

# %%
import time

from cs231n.classifiers import KNearestNeighbor

classifier = KNearestNeighbor()
classifier.train(X_train, y_train)

# %% [markdown]
# ## Distances with two loops
#
# Prediction starts with the matrix `dists` of shape `(num_test, num_train)` whose entry `(i, j)` is the
# Euclidean (L2) distance between test image `i` and training image `j`:
#
# $$d_2(I_1, I_2) = \sqrt{\sum_p \left(I_1^p - I_2^p\right)^2}$$
#
# Implement `compute_distances_two_loops`, which loops over all pairs. With 500 x 5,000 pairs this
# version needs minutes, so it runs on the first few test images only (a *slice*); the vectorized
# version below computes the whole matrix.

# %%
loop_rows = min(5 if QUICK else 25, num_test)  # the slice on which the loop versions run

start = time.perf_counter()
dists_two = classifier.compute_distances_two_loops(X_test[:loop_rows])
two_loop_seconds = (time.perf_counter() - start) / loop_rows  # per test image
print(f"two loops: distances of {loop_rows} test images to {num_training} training images, shape {dists_two.shape}")

# %% test id=test_compute_distances_two_loops points=2
# Visible test: distances on a small problem with uint8 pixels (which must not wrap around), and the shape.
# A failing check prints what it expected, what it got and, for a common mistake, a hint.
from cs231n.checks import check_close
from cs231n.classifiers import KNearestNeighbor

check_rng = np.random.default_rng(0)
small_train = check_rng.integers(0, 256, size=(7, 12)).astype(np.uint8)
small_test = check_rng.integers(0, 256, size=(3, 12)).astype(np.uint8)
expected = np.sqrt(((small_test[:, None, :].astype(float) - small_train[None, :, :]) ** 2).sum(axis=2))  # (3, 7)
small_knn = KNearestNeighbor()
small_knn.train(small_train, np.arange(7) % 3)
check_close("compute_distances_two_loops on a small uint8 example, sqrt(sum((x - t) ** 2))",
            small_knn.compute_distances_two_loops(small_test), expected, rtol=1e-7)
got = classifier.compute_distances_two_loops(X_test[:2])
assert got.shape == (2, num_training), f"expected shape (2, num_train) = (2, {num_training}), got {got.shape}"
print("compute_distances_two_loops: visible tests pass")

# %% hidden name=compute_distances_two_loops points=3

# %% [markdown]
# ## One loop
#
# Now compute one row of `dists` at a time: all distances from one test image to every training image,
# with broadcasting and without a loop over the training images. Implement `compute_distances_one_loop`.

# %%
start = time.perf_counter()
dists_one = classifier.compute_distances_one_loop(X_test[:loop_rows])
one_loop_seconds = (time.perf_counter() - start) / loop_rows

difference = np.linalg.norm(dists_two - dists_one, ord="fro")
print(f"one loop vs two loops on the slice: Frobenius norm of the difference {difference:.3g} (should be ~0)")

# %% test id=test_compute_distances_one_loop points=2
# Visible test: the one-loop distances equal the definition, on a small example and on the slice above.
from cs231n.checks import check_close

check_close("compute_distances_one_loop on a small uint8 example, sqrt(sum((x - t) ** 2))",
            small_knn.compute_distances_one_loop(small_test), expected, rtol=1e-7)
reference_rows = np.sqrt(((X_test[:2, None, :].astype(float) - X_train[None, :, :]) ** 2).sum(axis=2))  # (2, num_train)
check_close("compute_distances_one_loop on two CIFAR test images", classifier.compute_distances_one_loop(X_test[:2]),
            reference_rows, rtol=1e-7)
print("compute_distances_one_loop: visible tests pass")

# %% hidden name=compute_distances_one_loop points=3

# %% [markdown]
# ## No loops
#
# Finally, compute the whole matrix without any Python loop. Expand the square,
# $\|x - t\|^2 = \|x\|^2 + \|t\|^2 - 2\, x \cdot t$: one matrix product and two broadcast sums. Never build
# an array of shape `(num_test, num_train, 3072)`: for this subsample it would take 61 GB.

# %%
start = time.perf_counter()
dists = classifier.compute_distances_no_loops(X_test)
no_loop_seconds = (time.perf_counter() - start) / num_test

difference = np.linalg.norm(dists[:loop_rows] - dists_two, ord="fro")
print(f"no loops: all {num_test} x {num_training} distances in {no_loop_seconds * num_test:.2f} s")
print(f"no loops vs two loops on the slice: Frobenius norm of the difference {difference:.3g} (should be ~0)")

# %% test id=test_compute_distances_no_loops points=2
# Visible test: the vectorized distances equal the loop version's, and identical images are at distance 0.
# The expansion |x|^2 + |t|^2 - 2 x.t rounds to about 1e-8 of the largest distance, hence rtol=1e-6.
from cs231n.checks import check_close

check_close("compute_distances_no_loops on a small uint8 example, sqrt(sum((x - t) ** 2))",
            small_knn.compute_distances_no_loops(small_test), expected, rtol=1e-6)
clip_hint = ("for identical images |x|^2 + |t|^2 - 2 x.t can round to a tiny negative number: clip it at 0 "
             "before the square root")
check_close("compute_distances_no_loops of 3 training images to themselves (the diagonal)",
            np.diag(small_knn.compute_distances_no_loops(small_train[:3])), np.zeros(3), atol=1e-3, hint=clip_hint)
check_close("compute_distances_no_loops vs the two-loop distances on the slice",
            classifier.compute_distances_no_loops(X_test[:loop_rows]), dists_two, rtol=1e-6,
            hint="the expected values come from your compute_distances_two_loops: if its test fails, fix it first")
print("compute_distances_no_loops: visible tests pass")

# %% hidden name=compute_distances_no_loops points=3

# %% [markdown]
# ## A picture of the distance matrix
#
# Each row is a test image, each column a training image; bright means far apart.

# %%
plt.figure(figsize=(12, 4))
plt.imshow(dists, aspect="auto", interpolation="none")
plt.colorbar(label="L2 distance")
plt.xlabel("training image")
plt.ylabel("test image")
plt.show()

# %% [markdown]
# **Inline question 1**
#
# Some rows of the distance matrix are distinctly brighter than the others, and so are some columns.
# What in the data makes a whole row bright? A whole column?

# %% [markdown] answer id=inline_question_1 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# A bright row is a test image that is far, in L2 distance, from almost every training image: typically an
# unusually bright or dark image, or one with strong saturated colors or high contrast, whose pixel values
# are far from those of typical images (large distance to everything). A bright column is the same seen
# from the training side: a training image that is far from almost every test image, again because its
# pixel intensities are atypical (very bright, very dark, or very contrasted). Distances on raw pixels mostly
# measure overall brightness and color, not content.
# ### END SOLUTION

# %% [markdown]
# ## How much faster is vectorized code?
#
# The loop versions ran on a slice of the test set, so all three are compared per test image and
# extrapolated to the whole test set.

# %%
timings = {"two loops": two_loop_seconds, "one loop": one_loop_seconds, "no loops": no_loop_seconds}
fastest = timings["no loops"]
print(f"{'version':<10} {'ms per test image':>18} {'whole test set (s)':>19} {'slower than no loops':>21}")
for name, seconds in timings.items():
    print(f"{name:<10} {1e3 * seconds:>18.2f} {seconds * num_test:>19.2f} {seconds / fastest:>20.0f}x")
print(f"(the loop versions ran on {loop_rows} test images and are extrapolated to {num_test})")

# %% [markdown]
# ## Predicting labels
#
# Implement `predict_labels`: for each test image, find the `k` nearest training images and return the
# most common label among them. Its docstring says how ties are broken.

# %%
for k in (1, 5):
    y_test_pred = classifier.predict_labels(dists, k=k)
    num_correct = int(np.sum(y_test_pred == y_test))
    print(f"k={k}: {num_correct} / {num_test} correct, test accuracy {num_correct / num_test:.3f}")

# %% test id=test_predict_labels points=2
# Visible test: k=1 is the label of the nearest image; k=num_train is the overall majority; shape and type.
from cs231n.checks import check_close

votes = KNearestNeighbor()
votes.train(np.zeros((6, 1)), np.array([2, 0, 1, 1, 1, 0]))
toy_dists = np.array([[0.9, 0.1, 0.5, 0.7, 0.3, 0.8],
                      [0.2, 0.6, 0.4, 0.5, 0.8, 0.7]])  # (2 test, 6 train), no ties
labels = votes.predict_labels(toy_dists, k=1)
check_close("predict_labels with k=1 (the label of the nearest training image)", labels, [0, 2], rtol=0,
            hint="the nearest training image has the smallest distance: np.argsort(dists[i]) lists them nearest first")
assert np.issubdtype(labels.dtype, np.integer), f"labels must be integers, got dtype {labels.dtype}"
check_close("predict_labels with k=num_train (everyone gets the majority label 1)", votes.predict_labels(toy_dists, k=6),
            [1, 1], rtol=0)
check_close("predict_labels with k=3 (nearest labels (0, 1, 1) and (2, 1, 1))", votes.predict_labels(toy_dists, k=3),
            [1, 1], rtol=0)
accuracy = np.mean(classifier.predict_labels(dists, k=1) == y_test)
assert accuracy > 0.15, f"k=1 accuracy on the test images is {accuracy:.3f}, should be above 0.15 (chance is 0.1)"
print("predict_labels: visible tests pass")

# %% hidden name=predict_labels points=3

# %% [markdown]
# **Inline question 2**
#
# The images are rows $p^{(1)}, \dots, p^{(n)} \in \mathbb{R}^{3072}$; write $p^{(k)}_{ij}$ for the value
# at position $(i, j)$ (one color channel of one pixel) of image $k$. A transformation is computed on the
# training images and then applied in the same way to the training and the test images. Let
#
# - $\mu = \frac{1}{nd}\sum_{k,i,j} p^{(k)}_{ij}$ be the mean of all values of all training images (a scalar),
#   and $\sigma$ their standard deviation (a scalar, assume $\sigma > 0$);
# - $\mu_{ij} = \frac{1}{n}\sum_k p^{(k)}_{ij}$ the mean at position $(i, j)$ over the training images, and
#   $\sigma_{ij}$ the standard deviation at that position (assume all $\sigma_{ij} > 0$).
#
# Which of these transformations are **guaranteed**, for every possible data set, to leave every
# prediction of a kNN classifier with the **L1** distance $d_1(p, q) = \sum_{ij} |p_{ij} - q_{ij}|$
# unchanged (same predicted label for every test image, for every k)?
#
# 1. Subtracting $\mu$ from every value: $\tilde p_{ij} = p_{ij} - \mu$.
# 2. Subtracting the per-position mean: $\tilde p_{ij} = p_{ij} - \mu_{ij}$.
# 3. Subtracting $\mu$ and dividing by $\sigma$: $\tilde p_{ij} = (p_{ij} - \mu) / \sigma$.
# 4. Subtracting $\mu_{ij}$ and dividing by $\sigma_{ij}$: $\tilde p_{ij} = (p_{ij} - \mu_{ij}) / \sigma_{ij}$.
# 5. Rotating every image vector by one fixed rotation matrix $R$ of $\mathbb{R}^{3072}$ that is not a
#    permutation of the coordinates with sign changes (for instance a 45 degree rotation in the plane of
#    the first two coordinates): $\tilde p = R p$.
#
# Give the numbers of all that apply, and a one-line reason for each option.

# %% [markdown] answer id=inline_question_2 points=3
# **Your answer:**
# ### BEGIN SOLUTION
# 1, 2 and 3.
#
# 1. Unchanged: the same constant is subtracted from both images, so every difference $p_{ij} - q_{ij}$,
#    hence every L1 distance, is the same.
# 2. Unchanged: at each position the same $\mu_{ij}$ is subtracted from both images; differences cancel it.
# 3. Unchanged: every distance is divided by the same positive $\sigma$, so the ordering of the neighbours
#    (and the vote) stays the same.
# 4. Not guaranteed: each position is scaled by its own $1/\sigma_{ij}$, which reweights the terms of the sum
#    and can change which training images are nearest (unless all $\sigma_{ij}$ happen to be equal).
# 5. Not guaranteed: the L1 norm is not invariant under rotations other than signed permutations of the
#    axes (the vector $(1, 0)$ has L1 norm 1, rotated by 45 degrees it has norm $\sqrt{2}$), so distances and their order change.
# ### END SOLUTION

# %% [markdown]
# ## Choosing k by cross-validation
#
# Split the training set into 5 folds, in order: `np.array_split` makes the first fold the first fifth of
# the images, and so on (no shuffling). For each fold, train on the other four, compute the distances from
# the held-out fold to them **once**, and record the accuracy on the held-out fold for every `k` in
# `k_choices`. `k_to_accuracies[k]` must end up as the list of the 5 fold accuracies for that `k`, in fold
# order.
#
# The test cell after it checks the shape of your results and prints them on one line; when your work is
# graded, the grader repeats this cross-validation with the reference classifier and compares.

# %%
from tqdm.auto import tqdm

num_folds = 5
k_choices = [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]
# Each fold trains on (num_folds - 1) / num_folds of the training images; k cannot exceed that.
k_choices = [k for k in k_choices if k <= num_training * (num_folds - 1) // num_folds]

# %% answer id=cross_validation
X_train_folds = []
y_train_folds = []
k_to_accuracies = {}
# Split X_train and y_train into num_folds folds in order with np.array_split, then fill k_to_accuracies.
# Use tqdm(range(num_folds)) as the loop over folds to see the progress.
### BEGIN SOLUTION
X_train_folds = np.array_split(X_train, num_folds)
y_train_folds = np.array_split(y_train, num_folds)
k_to_accuracies = {k: [] for k in k_choices}
for fold in tqdm(range(num_folds), desc="folds"):
    X_fit = np.concatenate(X_train_folds[:fold] + X_train_folds[fold + 1:])  # (4/5 num_training, 3072)
    y_fit = np.concatenate(y_train_folds[:fold] + y_train_folds[fold + 1:])
    fold_classifier = KNearestNeighbor()
    fold_classifier.train(X_fit, y_fit)
    fold_dists = fold_classifier.compute_distances_no_loops(X_train_folds[fold])
    for k in k_choices:
        predicted = fold_classifier.predict_labels(fold_dists, k=k)
        k_to_accuracies[k].append(float(np.mean(predicted == y_train_folds[fold])))
del fold_dists, fold_classifier, X_fit
### END SOLUTION

for k in sorted(k_to_accuracies):
    print(f"k = {k:3d}: fold accuracies " + " ".join(f"{a:.3f}" for a in k_to_accuracies[k])
          + f"  mean {np.mean(k_to_accuracies[k]):.3f}")

# %% test id=test_knn_cross_validation points=2
# Visible test: every k of k_choices has one accuracy per fold, each a number of correct images over the
# images of its fold. The last line printed is what the grader reads: it repeats the cross-validation and
# compares every entry.
from cs231n.report import cross_validation_report

fold_sizes = [len(fold) for fold in np.array_split(np.arange(num_training), num_folds)]
results_line = cross_validation_report(k_to_accuracies, k_choices, fold_sizes)
print("cross-validation: visible tests pass")
print(results_line)

# %%
ks = sorted(k_to_accuracies)
for k in ks:
    plt.scatter([k] * len(k_to_accuracies[k]), k_to_accuracies[k], color="gray", s=12)
means = np.array([np.mean(k_to_accuracies[k]) for k in ks])
spreads = np.array([np.std(k_to_accuracies[k]) for k in ks])
plt.errorbar(ks, means, yerr=spreads, marker="o", capsize=4, label="mean and standard deviation over the folds")
plt.xscale("log")
plt.title("Cross-validation on k")
plt.xlabel("k")
plt.ylabel("cross-validation accuracy")
plt.legend()
plt.show()

# %% [markdown]
# Set `best_k` to the `k` with the highest mean cross-validation accuracy.

# %% answer id=choose_best_k
best_k = None
### BEGIN SOLUTION
best_k = max(sorted(k_to_accuracies), key=lambda k: np.mean(k_to_accuracies[k]))
### END SOLUTION
print(f"best k from cross-validation: {best_k} (mean accuracy {np.mean(k_to_accuracies[best_k]):.3f})")

# %% test id=test_best_k points=1
# Visible test: best_k is a k of the cross-validation with the highest mean accuracy. The grader checks the
# same against the results the cross-validation test printed.
from cs231n.report import best_k_report

results_line = best_k_report(best_k, k_to_accuracies)
print("best k: visible tests pass")
print(results_line)

# %% [markdown]
# The chosen `k`, trained on all the training images, on the test images (once, at the very end):

# %%
y_test_pred = classifier.predict_labels(dists, k=best_k)
num_correct = int(np.sum(y_test_pred == y_test))
print(f"best k = {best_k}: {num_correct} / {num_test} correct, test accuracy {num_correct / num_test:.3f}")
test_accuracy = num_correct / num_test
print(f"standard error of an accuracy measured on {num_test} images: {np.sqrt(test_accuracy * (1 - test_accuracy) / num_test):.3f}")

# %% [markdown]
# How much to trust these figures: one accuracy on 500 images is uncertain by about 0.02 (its standard
# error), as large as the differences between most values of `k` in the plot above. Cross-validation picks
# the best `k` *on average over the folds*; on one small test set a neighbouring `k` may well score higher,
# and choosing `k` by looking at the test accuracies would only fit the noise of those 500 images.

# %% [markdown]
# **Inline question 3**
#
# Which of these statements about kNN classification are true, for every data set and every k >= 1?
# Assume no two training images are identical.
#
# 1. The decision boundary of a kNN classifier is linear.
# 2. The training error of a 1-NN classifier (each training image classified by the others and itself)
#    is never higher than that of a 5-NN classifier.
# 3. The test error of a 1-NN classifier is never higher than that of a 5-NN classifier.
# 4. The time to classify one test image with a kNN classifier (as written in this assignment) grows with
#    the number of training images.
# 5. None of the above.
#
# Give the numbers of all true statements, and a one-line reason for each of the five.

# %% [markdown] answer id=inline_question_3 points=3
# **Your answer:**
# ### BEGIN SOLUTION
# 2 and 4.
#
# 1. False: the boundary is made of pieces of the bisecting hyperplanes between pairs of training points, so
#    it is piecewise linear and in general not a single hyperplane.
# 2. True: each training image is its own nearest neighbour (distance 0, no duplicates), so 1-NN has zero
#    training error, which no classifier can beat.
# 3. False: 1-NN overfits noisy labels; 5-NN often has the lower test error (as cross-validation shows here).
# 4. True: a test image is compared with every training image, so the cost is linear in their number.
# 5. False, since 2 and 4 are true.
# ### END SOLUTION
