"""The rebuilt CIFAR-10 archive beside the project, fetched through the mirror setting and loaded."""

from __future__ import annotations

import numpy as np
import pytest

from fetch_harness import fetch_env, leftovers, run_fetch

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def _checksum(archive, suffix: str) -> str:
    checksum_file = archive.with_name(archive.name + suffix)
    if not checksum_file.is_file():
        pytest.skip(f"{checksum_file} is missing: the archive's checksum is needed to fetch it")
    return checksum_file.read_text().split()[0]


def test_rebuilt_archive_fetched_through_cifar10_url_loads_with_load_cifar10(shared_archive, tmp_path):
    from cs231n.data_utils import load_CIFAR10

    target = tmp_path / "cifar-10-batches-py"
    env = fetch_env(target, shared_archive.as_uri(), sha256=_checksum(shared_archive, ".sha256"))
    env["CIFAR10_MD5"] = _checksum(shared_archive, ".md5")
    result = run_fetch("--quiet", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not leftovers(tmp_path)

    X_train, y_train, X_test, y_test = load_CIFAR10(target, dtype=np.uint8)
    assert X_train.shape == (50000, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (10000, 32, 32, 3) and X_test.dtype == np.uint8
    assert y_train.shape == (50000,) and y_test.shape == (10000,) and y_train.dtype == np.int64
    assert np.bincount(y_train, minlength=10).tolist() == [5000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10

    second = run_fetch(env=env, timeout=120)
    assert second.returncode == 0 and "Nothing to download" in second.stdout
    check = run_fetch("--check", "--quiet", env=env, timeout=120)
    assert check.returncode == 0, check.stderr
