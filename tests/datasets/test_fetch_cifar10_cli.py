"""The command line: help, the bash wrapper, variables, existing folders, standard-library-only runs."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.http_server import Route
from cifar10_fetch import TextProgress
from cifar10_fetch.cli import build_parser
from fetch_harness import DATASETS_DIR, MANIFEST, PYTHON, REPO_ROOT, WRAPPER, fetch_env, folder_files, run_fetch
from instructor.fake_cifar import write_cifar_batches

NEVER_USED_URL = "http://127.0.0.1:9/never-used.tar.gz"


def test_help_documents_every_option_and_every_variable_the_code_reads():
    result = run_fetch("--help", env=fetch_env(Path("unused"), ""))
    assert result.returncode == 0
    options = [flag for action in build_parser()._actions for flag in action.option_strings]
    assert {"--check", "--force", "--timeout", "--retries", "--quiet", "--dir", "--keep-archive"} <= set(options)
    for flag in options:
        assert flag in result.stdout, f"{flag} missing from --help"
    sources = "".join(path.read_text() for path in (DATASETS_DIR / "cifar10_fetch").glob("*.py"))
    variables = set(re.findall(r"\bCIFAR10_[A-Z0-9]+\b", sources))
    assert {"CIFAR10_URL", "CIFAR10_MD5", "CIFAR10_SHA256", "CIFAR10_DIR"} <= variables
    for variable in variables:
        assert re.search(rf"^\s+{variable}\s", result.stdout, re.M), f"{variable} not described in --help"


def test_bash_wrapper_prefers_the_project_venv_and_passes_every_argument(tmp_path):
    bundle = tmp_path / "bundle"
    skip_data = shutil.ignore_patterns("__pycache__", "cifar-10-*", ".cifar10-*")
    shutil.copytree(DATASETS_DIR, bundle / "datasets", ignore=skip_data)
    venv_python = bundle / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\necho "venv python: $*" >&2\nexec "{PYTHON}" "$@"\n')
    venv_python.chmod(0o755)
    env = fetch_env(tmp_path / "nowhere" / "cifar-10-batches-py", "")
    result = subprocess.run(
        ["bash", str(bundle / "datasets" / "get_datasets.sh"), "--check", "--quiet"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert f"venv python: {bundle / 'datasets' / 'fetch_cifar10.py'} --check --quiet" in result.stderr
    assert "does not exist" in result.stderr
    venv_python.unlink()
    without_venv = subprocess.run(["bash", str(bundle / "datasets" / "get_datasets.sh"), "--help"],
                                  env=env, capture_output=True, text=True, timeout=60)
    assert without_venv.returncode == 0 and "CIFAR10_URL" in without_venv.stdout


def test_repository_wrapper_fetches_from_a_local_mirror(archive, target):
    result = subprocess.run(
        ["bash", str(WRAPPER), "--quiet"], env=fetch_env(target, f"file://{archive.path}", md5=archive.md5),
        cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and folder_files(target) == archive.files


def test_runs_on_the_standard_library_alone_with_a_text_progress_bar(archive, target):
    # -S: no site-packages, so neither tqdm nor numpy can be imported.
    env = fetch_env(target, str(archive.path), md5=archive.md5)
    result = subprocess.run(
        [PYTHON, "-S", str(DATASETS_DIR / "fetch_cifar10.py")], env=env, cwd=str(REPO_ROOT),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^unpack  \d+\.\d kB / \d+\.\d kB  100%  .*B/s", result.stderr, re.M), result.stderr
    assert folder_files(target) == archive.files


def test_text_progress_shows_amount_total_rate_and_time_left():
    stream = io.StringIO()
    progress = TextProgress(total=2_000_000, desc="download", stream=stream, log_interval=0.0)
    progress.update(500_000)
    line = stream.getvalue().splitlines()[-1]
    assert re.fullmatch(r"download  500\.0 kB / 2\.0 MB   25%  [\d.]+ [kMG]?B/s  \d+:\d\d left", line), line


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CIFAR10_MD5", "xyz", "CIFAR10_MD5='xyz' is not an md5 checksum: expected 32 hexadecimal digits"),
        ("CIFAR10_SHA256", "ab" * 16, "is not a sha256 checksum: expected 64 hexadecimal digits"),
        ("CIFAR10_URL", "ftp://mirror/cifar.tar.gz", "uses the unsupported scheme 'ftp'"),
        ("CIFAR10_URL", "file://host/cifar.tar.gz", "file:// URLs must be local"),
    ],
)
def test_bad_variables_are_usage_errors_that_name_the_variable(variable, value, message, target):
    env = fetch_env(target, NEVER_USED_URL)
    env[variable] = value
    result = run_fetch(env=env)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("arguments", [["--timeout", "0"], ["--retries", "-1"], ["--backoff", "soon"]])
def test_bad_option_values_are_usage_errors(arguments, target):
    result = run_fetch(*arguments, env=fetch_env(target, NEVER_USED_URL))
    assert result.returncode == 2 and "error: argument" in result.stderr


def test_checksum_may_be_given_as_the_md5sum_file_beside_the_archive(archive, tmp_path, target):
    md5_file = tmp_path / "cifar.tar.gz.md5"
    md5_file.write_text(f"{archive.md5}  cifar-10-python.tar.gz\n")
    result = run_fetch(env=fetch_env(target, str(archive.path), md5=str(md5_file)))
    assert result.returncode == 0, result.stderr
    assert json.loads((target / MANIFEST).read_text())["source"]["md5"] == archive.md5


def test_missing_local_file_is_reported_and_the_next_source_tried(archive, tmp_path, target):
    missing = tmp_path / "nowhere" / "cifar-10-python.tar.gz"
    result = run_fetch(env=fetch_env(target, f"{missing} file://{archive.path}", md5=archive.md5))
    assert result.returncode == 0, result.stderr
    assert f"{missing} failed; trying the next source" in result.stdout
    alone = run_fetch("--force", env=fetch_env(target, str(missing), md5=archive.md5))
    assert alone.returncode == 1 and f"{missing}: there is no file {missing}." in alone.stderr


def test_folder_with_foreign_files_is_never_replaced(archive, target):
    target.mkdir(parents=True)
    (target / "thesis.tex").write_text("years of work")
    result = run_fetch("--force", env=fetch_env(target, str(archive.path), md5=archive.md5))
    assert result.returncode == 1
    assert "holds files that are not part of CIFAR-10 (thesis.tex); refusing to replace it" in result.stderr
    assert sorted(path.name for path in target.iterdir()) == ["thesis.tex"]


def test_destination_that_is_a_file_is_reported(archive, target):
    target.parent.mkdir(parents=True)
    target.write_text("not a folder")
    result = run_fetch(env=fetch_env(target, str(archive.path), md5=archive.md5))
    assert result.returncode == 1 and f"{target} exists but is not a folder" in result.stderr


def test_complete_folder_without_manifest_is_adopted_without_downloading(target):
    write_cifar_batches(target.parent, images_per_batch=20, seed=3)
    before = folder_files(target)
    result = run_fetch(env=fetch_env(target, NEVER_USED_URL))
    assert result.returncode == 0, result.stderr
    assert "every pickle complete); wrote a manifest" in result.stdout
    assert folder_files(target) == before
    manifest = json.loads((target / MANIFEST).read_text())
    assert set(manifest["files"]) == set(before)
    check = run_fetch("--check", env=fetch_env(target, NEVER_USED_URL))
    assert check.returncode == 0 and "sha256 match the manifest" in check.stdout


def test_folder_without_manifest_and_a_truncated_pickle_is_fetched_again(archive, target):
    write_cifar_batches(target.parent, images_per_batch=20, seed=3)
    batch = target / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:-50])
    check = run_fetch("--check", env=fetch_env(target, NEVER_USED_URL))
    assert check.returncode == 1 and "data_batch_2 is not a complete pickle" in check.stderr
    result = run_fetch(env=fetch_env(target, str(archive.path), md5=archive.md5))
    assert result.returncode == 0, result.stderr
    assert "data_batch_2 is not a complete pickle" in result.stdout
    assert folder_files(target) == archive.files


def test_check_of_a_missing_copy_fails_and_says_how_to_fetch(target):
    result = run_fetch("--check", env=fetch_env(target, NEVER_USED_URL))
    assert result.returncode == 1
    assert f"{target} does not exist" in result.stderr and "bash datasets/get_datasets.sh" in result.stderr


def test_dir_option_overrides_cifar10_dir(archive, tmp_path, target):
    elsewhere = tmp_path / "elsewhere" / "cifar"
    result = run_fetch("--dir", str(elsewhere), env=fetch_env(target, str(archive.path), md5=archive.md5))
    assert result.returncode == 0, result.stderr
    assert folder_files(elsewhere) == archive.files and not target.exists()


def test_default_destination_is_next_to_the_script_and_git_ignores_everything_left_there(server, archive, tmp_path):
    bundle = tmp_path / "bundle"
    skip_data = shutil.ignore_patterns("__pycache__", "cifar-10-*", ".cifar10-*")
    shutil.copytree(DATASETS_DIR, bundle / "datasets", ignore=skip_data)
    shutil.copy(REPO_ROOT / ".gitignore", bundle / ".gitignore")
    subprocess.run(["git", "init", "-q", str(bundle)], check=True)
    sources = sorted(str(path.relative_to(bundle)) for path in bundle.rglob("*") if path.is_file() and ".git" not in
                     path.relative_to(bundle).parts)
    script = bundle / "datasets" / "fetch_cifar10.py"
    env = fetch_env(Path("unused"), f"file://{archive.path}", md5=archive.md5)
    del env["CIFAR10_DIR"]
    done = subprocess.run([PYTHON, str(script), "--keep-archive"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert folder_files(bundle / "datasets" / "cifar-10-batches-py") == archive.files
    # Then a forced fetch cut short: a partial download and its state file stay beside the copy.
    server.routes["/c.tar.gz"] = Route(archive.body, drop_at=1000)
    env["CIFAR10_URL"] = server.url("/c.tar.gz")
    cut = subprocess.run([PYTHON, str(script), "--force", "--retries", "0"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert cut.returncode == 1 and (bundle / "datasets" / "cifar-10-python.tar.gz.part").is_file()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=str(bundle),
                            capture_output=True, text=True, check=True).stdout
    assert sorted(line[3:] for line in status.splitlines()) == sources
