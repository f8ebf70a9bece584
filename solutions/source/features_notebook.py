# Cells of solutions/source/assignment1/features.ipynb; build it with `python -m instructor.release.notebooks`.

# %% [markdown]
# # Image features on CIFAR-10
#
# The classifiers so far looked at raw pixels, and a linear classifier on raw pixels reaches about 40%.
# Much of what the pixels say is irrelevant to the class: the exact position of an object, the lighting,
# the background. **Features** computed from the pixels can keep what matters and drop the rest. Here
# two classic ones, concatenated for every image:
#
# - a **histogram of oriented gradients** (HOG): the directions of the edges in each 8 x 8 cell of the
#   gray image, weighted by their strength; it describes the *shape* and ignores the colour;
# - a **colour histogram** of the hue channel (HSV colour space): which colours appear, wherever they are;
#   it ignores the shape.
#
# Both are written for you in `cs231n/features.py`. In this notebook you will train the linear SVM and the
# two-layer network you wrote on these features instead of the pixels, tune both, and look at the mistakes
# the SVM still makes.
#
# Cells marked as tests check your work; hidden tests and a person reading your answers grade the rest.

# %% include=setup

# %% [markdown]
# ## Load CIFAR-10
#
# The same splits as before (49,000 training, 1,000 validation, 1,000 test images), kept as 8-bit images
# because the features are computed from them. If the data is missing, the next cell says how to get it.

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
train_images = X_train_all[:num_training]  # (N, 32, 32, 3) uint8
val_images = X_train_all[num_training : num_training + num_validation]
test_images = X_test_all[:num_test]
y_train = y_train_all[:num_training]
y_val = y_train_all[num_training : num_training + num_validation]
y_test = y_test_all[:num_test]
num_classes = len(CLASSES)
print(f"train {train_images.shape}, validation {val_images.shape}, test {test_images.shape}")

# %% [markdown]
# ## Extract the features
#
# `hog_feature` gives 144 numbers per image (16 cells x 9 orientation bins) and `color_histogram_hsv`
# 10 (hue bins), so every image becomes a row of 154 features. `extract_features` computes them for many
# images at once.

# %%
import time

from cs231n.features import color_histogram_hsv, extract_features, hog_feature

num_color_bins = 10  # hue bins of the colour histogram
feature_fns = [hog_feature, lambda img: color_histogram_hsv(img, nbin=num_color_bins)]
start = time.perf_counter()
X_train_feats = extract_features(train_images, feature_fns, verbose=True)  # (N, 154) float64
X_val_feats = extract_features(val_images, feature_fns)
X_test_feats = extract_features(test_images, feature_fns)
print(f"features of {num_training + num_validation + num_test} images in {time.perf_counter() - start:.1f} s: "
      f"{X_train_feats.shape[1]} per image")

# %% [markdown]
# HOG values and histogram counts live on different scales. Each feature is centred by its mean over the
# training images and divided by its standard deviation there, so that all of them count alike; the
# validation and test features are transformed with the *training* statistics. Then, for the SVM, a
# column of ones for the bias. Float32 halves the memory and the time of training.

# %%
mean_feat = np.mean(X_train_feats, axis=0, keepdims=True)  # (1, 154)
std_feat = np.std(X_train_feats, axis=0, keepdims=True)  # (1, 154)
std_feat[std_feat == 0] = 1.0  # a feature constant over the training images stays 0 instead of dividing by 0


def normalized(features):
    """(N, F) features -> (N, F + 1) float32: standardized with the training statistics, a 1 appended."""
    return np.hstack([(features - mean_feat) / std_feat, np.ones((features.shape[0], 1))]).astype(np.float32)


X_train_feats, X_val_feats, X_test_feats = (normalized(f) for f in (X_train_feats, X_val_feats, X_test_feats))
print("X_train_feats", X_train_feats.shape, X_train_feats.dtype)

# %% [markdown]
# ## A linear SVM on the features
#
# The `LinearSVM` you wrote, trained as in the SVM notebook: `search_iters` steps at the learning rate,
# then half as many at a tenth of it. The features are on another scale than the pixels, so the good
# learning rates and strengths are elsewhere too. Choose the values to try:

# %% answer id=svm_search_grid
learning_rates = []
regularization_strengths = []
### BEGIN SOLUTION
learning_rates = [1e-3, 3e-3, 1e-2]
regularization_strengths = [1e-3, 1e-2, 1e-1]
### END SOLUTION

# %% [markdown]
# In quick mode only two values of each are tried, with few steps.

# %%
import itertools

from tqdm.auto import tqdm

from cs231n.classifiers import LinearSVM

svm_search_iters = 100 if QUICK else 1500
if QUICK:
    learning_rates, regularization_strengths = learning_rates[:2], regularization_strengths[:2]
print(f"{len(learning_rates)} learning rates x {len(regularization_strengths)} regularization strengths, "
      f"{svm_search_iters} + {svm_search_iters // 2} steps each")

# %% [markdown]
# Store `svm_results[(learning_rate, reg)] = (training accuracy, validation accuracy)`, the training
# accuracy on the first 10,000 training images, and keep the SVM with the best validation accuracy in
# `best_svm`. Train each with `seed=0` and its decayed steps with `seed=1`: the grader trains the same
# settings with these seeds and compares.

# %% answer id=svm_search_loop
svm_results = {}
best_svm, best_svm_val = None, -1.0
### BEGIN SOLUTION
for learning_rate, reg in tqdm(list(itertools.product(learning_rates, regularization_strengths)), desc="settings"):
    svm = LinearSVM()
    svm.train(X_train_feats, y_train, learning_rate=learning_rate, reg=reg, num_iters=svm_search_iters, seed=0)
    svm.train(X_train_feats, y_train, learning_rate=learning_rate / 10, reg=reg, num_iters=svm_search_iters // 2,
              seed=1)
    train_accuracy = float(np.mean(svm.predict(X_train_feats[:10000]) == y_train[:10000]))
    val_accuracy = float(np.mean(svm.predict(X_val_feats) == y_val))
    svm_results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
    if val_accuracy > best_svm_val:
        best_svm, best_svm_val = svm, val_accuracy
### END SOLUTION

for learning_rate, reg in sorted(svm_results):
    train_accuracy, val_accuracy = svm_results[(learning_rate, reg)]
    print(f"lr {learning_rate:.1e} reg {reg:.1e}: train accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")
print(f"best validation accuracy of the SVM search: {best_svm_val:.3f}")

# %% test id=test_features_svm_search points=2
# Visible test: every setting of the grid has a (training, validation) accuracy, and best_svm is the best of
# them. The last line printed is what the grader reads: it trains these settings again and compares.
from cs231n.report import search_report

results_line = search_report("features_svm_search", svm_results, learning_rates, regularization_strengths)
assert isinstance(best_svm, LinearSVM), "keep the LinearSVM with the best validation accuracy in best_svm"
assert abs(float(np.mean(best_svm.predict(X_val_feats) == y_val)) - max(v for _, v in svm_results.values())) < 1e-9, (
    "best_svm's validation accuracy must be the best of svm_results")
print("SVM search: visible tests pass")
print(results_line)

# %%
from cs231n.vis_utils import show_search

show_search(svm_results, "Linear SVM on features: validation accuracy")
plt.show()
svm_test_accuracy = float(np.mean(best_svm.predict(X_test_feats) == y_test))
print(f"linear SVM on features: best validation accuracy {best_svm_val:.3f}, test accuracy {svm_test_accuracy:.3f}")

# %% [markdown]
# ## What the SVM gets wrong
#
# Each column shows test images the SVM assigned to that class although they belong to another.

# %%
predicted = best_svm.predict(X_test_feats)
examples_per_class = 3 if QUICK else 8  # 80 small axes take matplotlib half a second
figure, axes = plt.subplots(examples_per_class, num_classes, figsize=(num_classes * 1.2, examples_per_class * 1.2))
for column, class_name in enumerate(CLASSES):
    wrong = np.flatnonzero((predicted == column) & (y_test != column))[:examples_per_class]
    for row in range(examples_per_class):
        axes[row, column].axis("off")
        if row < len(wrong):
            axes[row, column].imshow(test_images[wrong[row]])
    axes[0, column].set_title(class_name, fontsize=9)
plt.suptitle("test images the SVM put in the wrong class (column: predicted class)")
plt.show()

# %% [markdown]
# **Inline question 1**
#
# Describe the mistakes you see. Do they make sense, given what HOG and the hue histogram describe?

# %% [markdown] answer id=inline_question_1 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# Many mistakes are understandable from the features. HOG sees only the layout of edges, so animals of a
# similar silhouette (cat, dog, deer, horse) are confused, and so are objects whose edges happen to line up
# alike; the hue histogram sees only which colours appear, so a blue background makes planes and ships
# look alike, and green or brown backgrounds pull images towards the animal classes (frog, deer, bird).
# Neither feature knows where a colour is or what texture an object has, so images with unusual poses,
# colours or backgrounds land in the class whose typical image has the same edge directions and colours.
# ### END SOLUTION

# %% [markdown]
# ## A two-layer network on the features
#
# The network of the last notebook, with its own biases: the column of ones is dropped. A network on
# these features should do far better than the SVM.

# %%
from cs231n.classifiers.neural_net import TwoLayerNet

X_train_net, X_val_net, X_test_net = X_train_feats[:, :-1], X_val_feats[:, :-1], X_test_feats[:, :-1]
print("X_train_net", X_train_net.shape)

# %% [markdown]
# Its good learning rates are far larger than on pixels: a standardized feature is of order 1 and there are
# 154 of them, where a pixel minus the mean image is of order 50 and there are 3,072, so a step of the same
# size moves the scores far less. Choose the values to try:

# %% answer id=net_search_grid
net_learning_rates = []
net_regularization_strengths = []
### BEGIN SOLUTION
net_learning_rates = [0.1, 0.3, 1.0]
net_regularization_strengths = [1e-4, 1e-3, 1e-2]
### END SOLUTION

# %% [markdown]
# In quick mode only two values of each are tried, with a smaller network and few steps.

# %%
net_hidden_size = 100 if QUICK else 500
net_search_iters = 200 if QUICK else 2000
if QUICK:
    net_learning_rates, net_regularization_strengths = net_learning_rates[:2], net_regularization_strengths[:2]
print(f"{len(net_learning_rates)} learning rates x {len(net_regularization_strengths)} regularization strengths, "
      f"{net_hidden_size} hidden units, {net_search_iters} steps each")

# %% [markdown]
# Store `net_results[(learning_rate, reg)] = (training accuracy, validation accuracy)` as above and keep
# the network with the best validation accuracy in `best_net`. Build each network with
# `TwoLayerNet(X_train_net.shape[1], net_hidden_size, num_classes, seed=0)` and train it with
# `batch_size=200`, `learning_rate_decay=0.95` and `seed=1`.

# %% answer id=net_search_loop
net_results = {}
best_net, best_net_val = None, -1.0
### BEGIN SOLUTION
for learning_rate, reg in tqdm(list(itertools.product(net_learning_rates, net_regularization_strengths)), desc="settings"):
    candidate = TwoLayerNet(X_train_net.shape[1], net_hidden_size, num_classes, seed=0)
    candidate.train(X_train_net, y_train, X_val_net, y_val, learning_rate=learning_rate, learning_rate_decay=0.95,
                    reg=reg, num_iters=net_search_iters, batch_size=200, seed=1)
    train_accuracy = float(np.mean(candidate.predict(X_train_net[:10000]) == y_train[:10000]))
    val_accuracy = float(np.mean(candidate.predict(X_val_net) == y_val))
    net_results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
    if val_accuracy > best_net_val:
        best_net, best_net_val = candidate, val_accuracy
### END SOLUTION

for learning_rate, reg in sorted(net_results):
    train_accuracy, val_accuracy = net_results[(learning_rate, reg)]
    print(f"lr {learning_rate:.1e} reg {reg:.1e}: train accuracy {train_accuracy:.3f}, validation accuracy {val_accuracy:.3f}")
print(f"best validation accuracy of the network search: {best_net_val:.3f}")

# %% test id=test_features_net_search points=2
# Visible test: as for the SVM search. The last line printed is what the grader reads.
from cs231n.report import search_report

results_line = search_report("features_net_search", net_results, net_learning_rates, net_regularization_strengths)
assert isinstance(best_net, TwoLayerNet), "keep the TwoLayerNet with the best validation accuracy in best_net"
assert abs(float(np.mean(best_net.predict(X_val_net) == y_val)) - max(v for _, v in net_results.values())) < 1e-9, (
    "best_net's validation accuracy must be the best of net_results")
print("network search: visible tests pass")
print(results_line)

# %%
show_search(net_results, "Two-layer net on features: validation accuracy")
plt.show()
net_test_accuracy = float(np.mean(best_net.predict(X_test_net) == y_test))
print(f"two-layer net on features: best validation accuracy {best_net_val:.3f}, test accuracy {net_test_accuracy:.3f}")

# %% [markdown]
# **Inline question 2**
#
# The same network does much better on these 154 features than on the 3,072 pixels. Why can fewer numbers
# per image give a better classifier? What could a network learn from the pixels that these features
# cannot give it?

# %% [markdown] answer id=inline_question_2 points=2
# **Your answer:**
# ### BEGIN SOLUTION
# The features already encode what helps to tell the classes apart (edge orientations pooled over cells,
# which tolerate small shifts, and the colours present wherever they are) and drop much that does not
# (exact positions, brightness), so the classifier has fewer, more informative inputs and fewer
# parameters to fit from the same 49,000 images: it overfits less and generalizes better. But the
# features are fixed by hand: they throw away information (fine texture, where colours are, shapes at
# other scales) for good. A network on pixels could in principle learn features suited to these classes,
# which is what convolutional networks do with far more capacity and data than a two-layer net has here.
# ### END SOLUTION
