"""Unpacking: members that could escape the destination are refused, foreign archives are explained."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from fetch_harness import fetch_env, folder_files, leftovers, run_fetch

from cifar10_fetch.install import UnsafeArchive, member_parts

FOLDER = "cifar-10-batches-py"


def _regular(name: str, payload: bytes) -> tuple:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info, io.BytesIO(payload)


def build_tar(path: Path, files: dict, extra=(), mode: str = "w:gz") -> str:
    """A tar of the CIFAR files under cifar-10-batches-py/, then ``extra`` (TarInfo, data) members; its sha256."""
    with tarfile.open(path, mode) as tar:
        for name, payload in files.items():
            tar.addfile(*_regular(f"{FOLDER}/{name}", payload))
        for info, data in extra:
            tar.addfile(info, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _link(name: str, target: str, kind: bytes) -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _device(name: str) -> tuple:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info, None


# Each entry builds fresh members (their data streams are consumed when a tar is written).
UNSAFE_MEMBERS = {
    "parent": (lambda: [_regular(f"{FOLDER}/../../escaped.txt", b"owned")], "climbs out of the destination with '..'"),
    "absolute": (lambda: [_regular("/tmp/cifar-fetch-escaped.txt", b"owned")], "has an absolute path"),
    "symlink": (lambda: [_link(f"{FOLDER}/link", "/etc/passwd", tarfile.SYMTYPE)], "is a link"),
    "hardlink": (lambda: [_link(f"{FOLDER}/hard", f"{FOLDER}/readme.html", tarfile.LNKTYPE)], "is a link"),
    "device": (lambda: [_device(f"{FOLDER}/null")], "is a device or special file"),
    "duplicate": (lambda: [_regular(f"{FOLDER}/readme.html", b"second copy")], "appears twice"),
    "backslash": (lambda: [_regular(f"{FOLDER}/..\\..\\escaped.txt", b"owned")], "contains '\\' or ':'"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE_MEMBERS))
def test_archive_with_an_escaping_or_special_member_is_refused_whole(case, archive, tmp_path, target):
    members, reason = UNSAFE_MEMBERS[case]
    bad = tmp_path / "bad.tar.gz"
    digest = build_tar(bad, archive.files, extra=members())
    result = run_fetch(env=fetch_env(target, str(bad), sha256=digest))
    assert result.returncode == 1
    assert f"Refusing to unpack {bad}" in result.stderr
    assert reason in result.stderr
    assert not target.exists() and not leftovers(target.parent)
    assert not (tmp_path / "escaped.txt").exists() and not (target.parent / "escaped.txt").exists()
    assert not Path("/tmp/cifar-fetch-escaped.txt").exists()


def test_refused_archive_leaves_an_existing_copy_untouched(archive, other_archive, tmp_path, target):
    assert run_fetch(env=fetch_env(target, str(archive.path), md5=archive.md5)).returncode == 0
    bad = tmp_path / "bad.tar.gz"
    digest = build_tar(bad, other_archive.files, extra=UNSAFE_MEMBERS["parent"][0]())
    result = run_fetch("--force", env=fetch_env(target, str(bad), sha256=digest))
    assert result.returncode == 1 and "Refusing to unpack" in result.stderr
    assert folder_files(target) == archive.files


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cifar-10-batches-py/data_batch_1", ("cifar-10-batches-py", "data_batch_1")),
        ("./cifar-10-batches-py//./test_batch", ("cifar-10-batches-py", "test_batch")),
        ("cifar-10-batches-py/", ("cifar-10-batches-py",)),
    ],
)
def test_member_names_are_normalised_to_their_parts(name, expected):
    assert member_parts(Path("a.tar.gz"), name) == expected


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/x", "C:/x", "c:\\x", "a/b:stream", "\\\\server\\x"])
def test_member_names_that_could_escape_are_refused(name):
    with pytest.raises(UnsafeArchive, match=r"Refusing to unpack a\.tar\.gz: member"):
        member_parts(Path("a.tar.gz"), name)


def _zip(path: Path, files: dict) -> str:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, payload in files.items():
            bundle.writestr(f"{FOLDER}/{name}", payload)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_file_is_reported_as_unsupported(archive, tmp_path, target):
    path = tmp_path / "cifar.zip"
    result = run_fetch(env=fetch_env(target, str(path), sha256=_zip(path, archive.files)))
    assert result.returncode == 1
    assert f"Unsupported archive {path}: it is not a tar archive Python can read" in result.stderr
    assert "Expected a .tar.gz laid out like the canonical cifar-10-python.tar.gz" in result.stderr
    assert not target.exists() and not leftovers(target.parent)


def test_archive_without_the_test_batch_is_unsupported(archive, tmp_path, target):
    path = tmp_path / "partial.tar.gz"
    files = {name: data for name, data in archive.files.items() if name != "test_batch"}
    result = run_fetch(env=fetch_env(target, str(path), sha256=build_tar(path, files)))
    assert result.returncode == 1
    assert "it has no cifar-10-batches-py/test_batch" in result.stderr
    assert not target.exists() and not leftovers(target.parent)


def test_archive_with_files_outside_the_top_folder_is_unsupported(archive, tmp_path, target):
    path = tmp_path / "flat.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in archive.files.items():
            tar.addfile(*_regular(name, payload))
    result = run_fetch(env=fetch_env(target, str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    assert result.returncode == 1
    assert "member 'batches.meta' is not under cifar-10-batches-py/" in result.stderr


def test_plain_tar_and_bzip2_archives_are_accepted(archive, tmp_path, target):
    path = tmp_path / "cifar.tar.bz2"
    digest = build_tar(path, archive.files, mode="w:bz2")
    result = run_fetch(env=fetch_env(target, f"file://{path}", sha256=digest))
    assert result.returncode == 0, result.stderr
    assert folder_files(target) == archive.files


def test_truncated_archive_whose_checksum_was_given_is_reported_as_damaged(archive, tmp_path, target):
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(archive.body[: len(archive.body) // 2])
    result = run_fetch(env=fetch_env(target, str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    assert result.returncode == 1
    assert f"Unsupported archive {path}: it is damaged" in result.stderr
    assert not target.exists() and not leftovers(target.parent)
