"""Small CIFAR-10 look-alikes in the original python format, built by the tests.

The canonical archive holds Python 2 pickles (protocol 2) with byte-string keys; when Python 3 reads them
with ``encoding='latin1'`` the keys come back as ``str``. These helpers write the same layout with ``str``
keys ``'batch_label'``, ``'labels'`` and ``'data'`` so that loaders, the fetch script and the notebooks can
be exercised on a few kilobytes instead of 170 MB.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

CLASS_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]
BATCH_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
FOLDER_NAME = "cifar-10-batches-py"


def _batch(images_per_batch: int, rng: np.random.Generator, label: str) -> dict:
    """One batch dict: ``data`` uint8 (N, 3072) channel-planar RGB, ``labels`` list of N ints in [0, 10)."""
    # Cycle through the classes so every class appears, then shuffle: loaders must not rely on order.
    labels = np.arange(images_per_batch) % 10
    rng.shuffle(labels)
    # Class-dependent brightness gives the classifiers something learnable on tiny data.
    base = (labels[:, None] * 20 + 30).astype(np.int16)  # (N, 1)
    noise = rng.integers(-30, 31, size=(images_per_batch, 3072), dtype=np.int16)  # (N, 3072)
    data = np.clip(base + noise, 0, 255).astype(np.uint8)
    return {"batch_label": label, "labels": [int(v) for v in labels], "data": data}


def batch_bytes(images_per_batch: int = 20, seed: int = 0, label: str = "training batch") -> bytes:
    """Pickle one batch the way the original archive does (protocol 2)."""
    rng = np.random.default_rng(seed)
    return pickle.dumps(_batch(images_per_batch, rng, label), protocol=2)


def _files(images_per_batch: int, seed: int) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    files = {}
    for index, name in enumerate(BATCH_FILES):
        label = "testing batch 1 of 1" if name == "test_batch" else f"training batch {index + 1} of 5"
        files[name] = pickle.dumps(_batch(images_per_batch, rng, label), protocol=2)
    meta = {"num_cases_per_batch": images_per_batch, "label_names": CLASS_NAMES, "num_vis": 3072}
    files["batches.meta"] = pickle.dumps(meta, protocol=2)
    files["readme.html"] = b"<meta HTTP-EQUIV='REFRESH' content='0'>\n"
    return files


def write_cifar_batches(directory, images_per_batch: int = 20, seed: int = 0) -> Path:
    """Write a ``cifar-10-batches-py`` folder inside ``directory`` and return its path.

    Parameters
    ----------
    directory : str or Path
        Parent folder; created if needed.
    images_per_batch : int, default 20
        Images in each of the five training batches and in the test batch.
    seed : int, default 0
        Seed of the pixel noise and label order.
    """
    target = Path(directory) / FOLDER_NAME
    target.mkdir(parents=True, exist_ok=True)
    for name, payload in _files(images_per_batch, seed).items():
        (target / name).write_bytes(payload)
    return target


def make_cifar_archive(tar_gz_path, images_per_batch: int = 20, seed: int = 0) -> Path:
    """Build a ``.tar.gz`` laid out like the canonical one (top folder ``cifar-10-batches-py/``)."""
    tar_gz_path = Path(tar_gz_path)
    tar_gz_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_gz_path, "w:gz") as archive:
        folder = tarfile.TarInfo(FOLDER_NAME)
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        archive.addfile(folder)
        for name, payload in _files(images_per_batch, seed).items():
            info = tarfile.TarInfo(f"{FOLDER_NAME}/{name}")
            info.size = len(payload)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(payload))
    return tar_gz_path
