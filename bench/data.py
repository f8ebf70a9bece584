"""The data every section runs on: the rebuilt CIFAR-10 fetched from ``../shared`` when it is there, else
generated data of the same shapes. The source is named in the table's heading and in the JSON file.

The rebuilt archive is installed by the project's own fetch script with its mirror setting
(``CIFAR10_URL=file://...`` plus the archive's sha256), into the gitignored ``bench-results/work``; a second
run finds the unpacked copy and only checks it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from instructor.fake_cifar import write_cifar_batches

from .settings import REPO_ROOT, SHARED_ARCHIVE, BenchSettings
from .timing import run_child

FETCH_SCRIPT = REPO_ROOT / "datasets" / "fetch_cifar10.py"
PIXELS = 3072


def archive_sha256(archive: Path) -> str:
    """The sha256 written beside ``archive`` (first word of ``<archive>.sha256``)."""
    text = archive.with_name(archive.name + ".sha256").read_text(encoding="ascii").split()
    if not text or len(text[0]) != 64:
        raise ValueError(f"{archive}.sha256 does not start with a 64-digit sha256; expected '<hex>  <name>'")
    return text[0].lower()


def fetch_command(env_overrides: dict, *arguments: str):
    """The fetch script's command line and environment with ``env_overrides`` applied."""
    env = dict(os.environ)
    env.update(env_overrides)
    return [sys.executable, str(FETCH_SCRIPT), *arguments], env


@dataclass
class DataSource:
    """Where the benchmark's data comes from.

    Attributes
    ----------
    description : str
        What the table says about the data, e.g. ``"rebuilt CIFAR-10 (../shared)"``.
    cifar_dir : Path or None
        A real ``cifar-10-batches-py`` folder, or None when the data is generated.
    settings : BenchSettings
    """

    description: str
    cifar_dir: Optional[Path]
    settings: BenchSettings
    _float64: Optional[tuple] = None

    @property
    def real(self) -> bool:
        return self.cifar_dir is not None

    def loss_arrays(self, dtype):
        """``(X_dev, y_dev, X_full, y_full)``: X of shapes (dev_rows, dim) and (full_rows, dim) in ``dtype``.

        The float64 arrays are built once and kept until :meth:`release`; float32 is their rounded copy, so
        both dtypes see the same numbers.
        """
        if self._float64 is None:
            self._float64 = self._build_float64()
        X_dev, y_dev, X_full, y_full = self._float64
        if np.dtype(dtype) == np.float64:
            return X_dev, y_dev, X_full, y_full
        return X_dev.astype(dtype), y_dev, X_full.astype(dtype), y_full

    def is_generated(self, folder) -> bool:
        """Whether ``folder`` holds generated (random) images rather than CIFAR-10."""
        return Path(folder).parent.name.startswith("generated-")

    def release(self) -> None:
        """Drop the cached arrays (1.2 GB at the full shape)."""
        self._float64 = None

    def _build_float64(self):
        s = self.settings
        dtype = np.float64
        if self.real:
            from cs231n.data_utils import get_CIFAR10_data

            data = get_CIFAR10_data(num_training=s.full_rows, num_validation=0, num_test=0, num_dev=s.dev_rows,
                                    dtype=dtype, cifar10_dir=self.cifar_dir)
            return data["X_dev"], data["y_dev"], data["X_train"], data["y_train"]
        rng = np.random.default_rng(1)
        # Centred pixel-like values with a bias column, as after the notebooks' preprocessing.
        X_full = rng.integers(-128, 128, size=(s.full_rows, s.dim)).astype(dtype)  # (full_rows, dim)
        X_full[:, -1] = 1
        y_full = rng.integers(0, s.classes, s.full_rows)
        dev = rng.choice(s.full_rows, s.dev_rows, replace=False)
        return X_full[dev], y_full[dev], X_full, y_full

    def knn_arrays(self):
        """``(X_train, y_train, X_test)``: float64 rows of shapes (knn_train, 3072) and (knn_test, 3072)."""
        s = self.settings
        if self.real:
            from cs231n.data_utils import load_CIFAR10

            X_train, y_train, X_test, _ = load_CIFAR10(self.cifar_dir, dtype=np.uint8)
            # The kNN notebook's subsample: the first knn_train / knn_test images, flattened to rows.
            return (X_train[: s.knn_train].reshape(s.knn_train, -1).astype(np.float64), y_train[: s.knn_train],
                    X_test[: s.knn_test].reshape(s.knn_test, -1).astype(np.float64))
        rng = np.random.default_rng(2)
        return (rng.integers(0, 256, size=(s.knn_train, PIXELS)).astype(np.float64),
                rng.integers(0, s.classes, s.knn_train),
                rng.integers(0, 256, size=(s.knn_test, PIXELS)).astype(np.float64))

    def cifar_folder(self, prefer_real: bool = False) -> Path:
        """A ``cifar-10-batches-py`` folder to load: the real one, else a generated one of the full size.

        With ``prefer_real`` the quick setting installs the rebuilt archive too when it is at hand: the
        notebooks assert accuracies that random pixels cannot reach.
        """
        if self.real:
            return self.cifar_dir
        if prefer_real and self.settings.quick:
            installed = install_rebuilt(self.settings)
            if isinstance(installed, Path):
                return installed
        images = 50 if self.settings.quick else 10000
        target = self.settings.work_dir / f"generated-{images}" / "cifar-10-batches-py"
        if not (target / "readme.html").is_file():
            write_cifar_batches(target.parent, images_per_batch=images)
        return target


def install_rebuilt(settings: BenchSettings):
    """Install the rebuilt archive with the fetch script; the folder, or a string saying why it could not."""
    if not SHARED_ARCHIVE.is_file():
        return f"{SHARED_ARCHIVE} is absent"
    if not FETCH_SCRIPT.is_file():
        return f"{FETCH_SCRIPT.name} is absent, so the rebuilt archive cannot be installed"
    target = settings.work_dir / "cifar" / "cifar-10-batches-py"
    command, env = fetch_command({"CIFAR10_URL": SHARED_ARCHIVE.as_uri(), "CIFAR10_SHA256": archive_sha256(SHARED_ARCHIVE),
                                  "CIFAR10_DIR": str(target)})
    print(f"installing the rebuilt CIFAR-10 into {target} with the fetch script", file=sys.stderr)
    result = run_child(command, cwd=str(REPO_ROOT), env=env, timeout=900)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the fetch script failed with exit status {result.returncode}: {last}"
    return target


def resolve(settings: BenchSettings) -> DataSource:
    """Pick the data: generated in the quick setting; else the rebuilt archive through the fetch script."""
    if settings.quick:
        return DataSource("generated (quick setting: tiny shapes, random pixels; the notebooks and grading use the "
                          "rebuilt CIFAR-10 when it is at hand)", None, settings)
    installed = install_rebuilt(settings)
    if not isinstance(installed, Path):
        return DataSource(f"generated (random pixels of CIFAR-10's shapes; {installed})", None, settings)
    return DataSource("rebuilt CIFAR-10 (../shared/datasets, installed by datasets/fetch_cifar10.py)", installed, settings)
