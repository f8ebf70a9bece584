"""The grading data: the part of CIFAR-10 the notebooks read in quick mode, written once per grading run.

In their grading setting (quick mode) the notebooks use the first 5,500 training images (5,000 to train,
500 to validate; kNN the first 500) and the first 500 test images, but load the whole archive to take
them: 60,000 images read, converted and dropped in every notebook of every submission. Grading gives them
a folder in the original format that holds just those images, in the same order, so every array a
notebook (or the grader's own repetition of its computations) builds is the same, at a fraction of the
cost. The folder is made once per grading run from the instructor's data and reused while its source is
unchanged.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np

from cs231n.data_utils import TEST_BATCH, TRAIN_BATCHES, load_CIFAR_batch

# What quick mode reads: svm.ipynb and softmax.ipynb take 5,000 training and 500 validation images and 500
# test images (kNN takes fewer of each). Keep in step with the notebooks' set-up cells; the tests compare
# what a notebook computes from the full data and from this subset.
QUICK_TRAINING_IMAGES = 5500
QUICK_TEST_IMAGES = 500
MARKER = "grading-data.json"


def _source_stamp(data_dir: Path) -> dict:
    """What identifies the source data: each batch file's size and modification time."""
    return {name: [(data_dir / name).stat().st_size, (data_dir / name).stat().st_mtime_ns]
            for name in (*TRAIN_BATCHES, TEST_BATCH, "batches.meta") if (data_dir / name).is_file()}


def _write_batch(path: Path, images: np.ndarray, labels: np.ndarray, label: str) -> None:
    """One batch file in the original layout: ``data`` uint8 (N, 3072) channel-planar, ``labels`` a list."""
    planar = images.transpose(0, 3, 1, 2).reshape(images.shape[0], 3 * 32 * 32)  # (N, 32, 32, 3) -> (N, 3072)
    batch = {"batch_label": label, "labels": [int(v) for v in labels], "data": np.ascontiguousarray(planar)}
    path.write_bytes(pickle.dumps(batch, protocol=2))


def grading_subset(data_dir: Path, target: Path) -> Path:
    """The quick-mode part of the ``cifar-10-batches-py`` folder ``data_dir``, written to ``target``.

    Training images are taken in file order until :data:`QUICK_TRAINING_IMAGES` and written to
    ``data_batch_1`` (the other training files hold none), so ``load_CIFAR10`` returns the first images of
    the full set, in order; ``test_batch`` holds the first :data:`QUICK_TEST_IMAGES`. Every file is
    readable by the grading uids. An existing ``target`` made from the same source is reused.

    Returns
    -------
    Path
        ``target``.
    """
    data_dir, target = Path(data_dir), Path(target)
    stamp = {"source": str(data_dir.resolve()), "files": _source_stamp(data_dir),
             "training": QUICK_TRAINING_IMAGES, "test": QUICK_TEST_IMAGES}
    try:
        if json.loads((target / MARKER).read_text(encoding="utf-8")) == stamp:
            return target
    except (OSError, ValueError):
        pass
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    images, labels, wanted = [], [], QUICK_TRAINING_IMAGES
    for name in TRAIN_BATCHES:
        if wanted <= 0:
            break
        batch_images, batch_labels = load_CIFAR_batch(data_dir / name, dtype=np.uint8)
        images.append(batch_images[:wanted])
        labels.append(batch_labels[:wanted])
        wanted -= len(images[-1])
    empty = np.empty((0, 32, 32, 3), dtype=np.uint8)
    for index, name in enumerate(TRAIN_BATCHES):
        if index == 0:
            _write_batch(partial / name, np.concatenate(images) if images else empty,
                         np.concatenate(labels) if labels else np.empty(0, dtype=np.int64), "grading subset")
        else:
            _write_batch(partial / name, empty, np.empty(0, dtype=np.int64), "grading subset (empty)")
    test_images, test_labels = load_CIFAR_batch(data_dir / TEST_BATCH, dtype=np.uint8)
    _write_batch(partial / TEST_BATCH, test_images[:QUICK_TEST_IMAGES], test_labels[:QUICK_TEST_IMAGES],
                 "grading subset of the test batch")
    if (data_dir / "batches.meta").is_file():
        shutil.copy2(data_dir / "batches.meta", partial / "batches.meta")
    (partial / MARKER).write_text(json.dumps(stamp), encoding="utf-8")
    for path in [partial, *partial.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
