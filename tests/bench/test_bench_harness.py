"""The benchmark harness on tiny shapes: statistics, side-by-side pairs, child-process peaks, the table and
the JSON file. Nothing here asserts a speed; the benchmark itself reports speed as ratios."""

from __future__ import annotations

import json
import math
import sys

import pytest

from bench import SECTIONS, run
from bench.__main__ import main
from bench.report import Report, Row, Target, table_lines
from bench.settings import BenchSettings
from cs231n.course import NOTEBOOKS
from bench.timing import Stats, compare, run_child

VERDICTS = {"ok", "MISSED", "info", "FAILED"}


def test_stats_summarize_median_range_and_relative_spread():
    stats = Stats.of([4.0, 1.0, 2.0])
    assert (stats.median, stats.low, stats.high) == (2.0, 1.0, 4.0)
    assert stats.spread == pytest.approx(0.375)  # quartiles 1.5 and 3: (3 - 1.5) / (2 * 2)
    assert stats.as_dict()["runs"] == 3


def test_stats_of_no_measurement_is_refused():
    with pytest.raises(ValueError, match="at least one measurement"):
        Stats.of([])


def test_compare_alternates_the_order_inside_each_pair():
    calls = []
    result = compare(lambda: calls.append("c"), lambda: calls.append("f"), runs=4)
    assert calls == ["f", "c"] + ["f", "c", "c", "f", "f", "c", "c", "f"]  # warm-up, then alternating pairs
    assert len(result.ratio.values) == len(result.candidate.values) == len(result.floor.values) == 4


def test_compare_takes_the_minimum_of_pairs_when_the_budget_is_spent():
    calls = []
    result = compare(lambda: calls.append("c"), lambda: calls.append("f"), runs=3, max_runs=50, warmup=False,
                     budget_seconds=0.0)
    assert len(result.ratio.values) == 3
    assert calls.count("c") == 3


def test_compare_takes_up_to_the_maximum_of_pairs_within_the_budget():
    calls = []
    result = compare(lambda: calls.append("c"), lambda: calls.append("f"), runs=2, max_runs=6, warmup=False,
                     budget_seconds=600.0)
    assert len(result.ratio.values) == 6
    assert calls.count("f") == 6


def test_compare_refuses_a_run_count_below_one():
    with pytest.raises(ValueError, match="runs must be a positive integer, got 0"):
        compare(lambda: None, lambda: None, runs=0)


def test_run_child_sees_the_peak_memory_of_a_grandchild():
    # The child starts a grandchild that touches 300 MB and exits; wait4 must report that peak.
    grandchild = "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    result = run_child([sys.executable, "-c", child], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.peak_rss_bytes >= 300 * 1024 * 1024
    assert not result.timed_out


def test_run_child_kills_a_child_that_outlives_its_timeout():
    result = run_child([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert result.timed_out
    assert result.returncode != 0
    assert result.seconds < 30


def test_verdicts_follow_the_target_kind():
    stats = Stats.of([1.0])
    ratio = lambda value: Stats.of([value])  # noqa: E731
    assert Row("s", "i", stats, "s", ratio(1.05), "floor", Target(1.1)).verdict == "ok"
    assert Row("s", "i", stats, "s", ratio(1.15), "floor", Target(1.1)).verdict == "MISSED"
    assert Row("s", "i", stats, "s", ratio(1.8), "jobs 1", Target(1.7, kind="min")).verdict == "ok"
    assert Row("s", "i", stats, "s", ratio(1.5), "jobs 1", Target(1.7, kind="min")).verdict == "MISSED"
    assert Row("s", "i", stats, "s", ratio(3.0), "floor").verdict == "info"
    with pytest.raises(ValueError, match="kind must be 'max' or 'min'"):
        Target(1.0, kind="below")


def test_table_has_one_line_per_row_and_names_skipped_sections():
    report = Report(command="test")
    report.add(Row("losses", "svm", Stats.of([0.5, 0.7]), "s", Stats.of([1.0, 1.2]), "floor", Target(1.1)))
    report.skip("notebooks", "solutions/source/assignment1/knn.ipynb is absent")
    lines = table_lines(report)
    assert lines[2].startswith("| losses | svm | 600.0 ms |")
    assert "1.10x" in lines[2] and "MISSED" not in lines[2]
    assert lines[-1] == "skipped notebooks: solutions/source/assignment1/knn.ipynb is absent"


def _check_rows(rows):
    assert rows
    for row in rows:
        assert math.isfinite(row["ratio"]["median"]) and row["ratio"]["median"] >= 0, row
        assert row["value"]["runs"] >= 1
        assert row["verdict"] in VERDICTS, row
        if row["failure"]:
            assert row["verdict"] == "FAILED"
        elif row["target"] is None:
            assert row["verdict"] == "info"
        else:
            bound, kind = row["target"]["bound"], row["target"]["kind"]
            met = row["ratio"]["median"] <= bound if kind == "max" else row["ratio"]["median"] >= bound
            assert row["verdict"] == ("ok" if met else "MISSED"), row


def test_quick_run_prints_the_table_and_writes_json_with_a_ratio_and_verdict_per_row(tmp_path, capsys):
    path = tmp_path / "out" / "latest.json"
    assert main(["--quick", "--only", "losses,knn", "--json", str(path)]) == 0
    printed = capsys.readouterr().out
    results = json.loads(path.read_text())
    assert results["_generated"].startswith("Generated by `python -m bench`")
    assert results["data_source"].startswith("generated")
    _check_rows(results["rows"])
    assert {row["section"] for row in results["rows"]} == {"losses", "knn"}
    table = [line for line in printed.splitlines() if line.startswith("| ")]
    assert not any(row["failure"] for row in results["rows"])
    assert len(table) == len(results["rows"]) + 2  # heading and rule, then one line per row
    targeted = [row["item"] for row in results["rows"] if row["target"]]
    assert any(item.startswith("svm vectorized") for item in targeted)
    assert any(item.startswith("compute_distances_no_loops,") for item in targeted)


def test_training_loading_and_fetch_sections_run_on_tiny_generated_data(tmp_path, capsys):
    settings = BenchSettings.quick_smoke(train_iters=2, runs=1, work_dir=tmp_path / "work")
    report = run(settings, ["training", "loading", "fetch"], "test")
    rows = [row.as_dict() for row in report.rows]
    _check_rows(rows)
    sections = {row["section"] for row in rows} | {entry["section"] for entry in report.skipped}
    assert sections == {"training", "loading", "fetch"}
    memory = [row for row in rows if row["unit"] == "B"]
    assert memory and all(row["value"]["median"] > 10e6 for row in memory)  # a Python process with numpy


def test_unknown_section_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "losses,speed"])
    error = capsys.readouterr().err
    assert "unknown section speed" in error
    assert ", ".join(SECTIONS) in error


NOTEBOOK_CODE = """import os, sys
from pathlib import Path
root = Path.cwd()
while not (root / "cs231n" / "data_utils.py").is_file():
    root = root.parent
sys.path.insert(0, str(root))
import numpy as np
from cs231n.data_utils import load_CIFAR10
from cs231n.classifiers.linear_svm import svm_loss_vectorized
X, y, _, _ = load_CIFAR10(os.environ["CIFAR10_DIR"], dtype=np.uint8)
assert os.environ.get("CS231N_QUICK") == "1"
W = np.zeros((3072, 10))
loss, _ = svm_loss_vectorized(W, X.reshape(len(X), -1), y, 0.0)
print(f"training accuracy: {float(np.mean(y == 0)):.3f} loss {loss:.1f}")
{failure}"""


def _write_notebooks(folder, failing=None):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder.mkdir(parents=True)
    for name in NOTEBOOKS:
        code = NOTEBOOK_CODE.replace("{failure}", "raise RuntimeError('broken on purpose')" if name == failing else "")
        kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(new_notebook(cells=[new_code_cell(code)], metadata={"kernelspec": kernelspec}),
                       folder / f"{name}.ipynb")
    return folder


@pytest.mark.slow
def test_notebooks_run_with_real_kernels_on_the_reference_submission(tmp_path, monkeypatch):
    # Generated data even where the rebuilt archive exists: these stand-in notebooks need no real images.
    monkeypatch.setattr("bench.data.SHARED_ARCHIVE", tmp_path / "absent.tar.gz")
    # The stand-in notebooks use the reference classifiers through the copied bundle: the stubs would raise.
    settings = BenchSettings.quick_smoke(work_dir=tmp_path / "work",
                                    notebook_source=_write_notebooks(tmp_path / "source", failing="softmax"))
    report = run(settings, ["notebooks"], "test")
    rows = {row.item.replace(" (quick setting, generated data)", ""): row for row in report.rows}
    assert set(rows) == {f"{name}.ipynb {kind}" for name in NOTEBOOKS
                         for kind in ("wall time", "peak memory")}
    assert rows["knn.ipynb wall time"].note.startswith("training accuracy: ")
    assert rows["knn.ipynb wall time"].verdict == "ok"
    assert rows["softmax.ipynb wall time"].verdict == "FAILED"
    assert "broken on purpose" in rows["softmax.ipynb wall time"].failure
    assert "\x1b[" not in rows["softmax.ipynb wall time"].failure  # terminal colours stripped
    # The kernel imports numpy and holds the data: its peak is far above an idle interpreter's.
    assert rows["svm.ipynb peak memory"].value.median > 50e6
    assert rows["knn.ipynb peak memory"].note.startswith("slowest: cell 0 ")
    _check_rows([row.as_dict() for row in report.rows])


def test_notebooks_section_says_skipped_when_the_notebooks_are_absent(tmp_path):
    settings = BenchSettings.quick_smoke(work_dir=tmp_path / "work", notebook_source=tmp_path / "nowhere")
    report = run(settings, ["notebooks"], "test")
    assert report.rows == []
    assert report.skipped[0]["section"] == "notebooks"
    expected = ", ".join(str(tmp_path / "nowhere" / f"{name}.ipynb") for name in NOTEBOOKS) + " absent"
    assert report.skipped[0]["reason"].endswith(expected)


def test_grading_section_says_skipped_when_the_course_is_absent(tmp_path):
    settings = BenchSettings.quick_smoke(work_dir=tmp_path / "work", notebook_source=tmp_path / "nowhere")
    report = run(settings, ["grading"], "test")
    assert report.rows == []
    assert report.skipped[0]["section"] == "grading"
    assert str(tmp_path / "nowhere" / "hidden_checks.py") in report.skipped[0]["reason"]


@pytest.mark.slow
def test_grading_submissions_are_the_answered_release_with_the_reference_modules(tmp_path, repo_root):
    import zipfile

    from bench.grading import prepare
    from bench.settings import NOTEBOOK_SOURCE

    if not (NOTEBOOK_SOURCE / "hidden_checks.py").is_file():
        pytest.skip(f"the source notebooks are not in {NOTEBOOK_SOURCE} yet")
    course, submissions = prepare(tmp_path / "grading", NOTEBOOK_SOURCE, 2)
    assert (course / "nbgrader_config.py").is_file()
    zips = sorted(submissions.glob("*.zip"))
    assert [path.name for path in zips] == ["student001.zip", "student002.zip"]
    with zipfile.ZipFile(zips[0]) as archive:
        names = set(archive.namelist())
        svm = json.loads(archive.read("assignment1/svm.ipynb"))
        module = archive.read("cs231n/classifiers/linear_svm.py")
    assert {"MANIFEST.sha256", "assignment1/knn.ipynb", "cs231n/classifiers/k_nearest_neighbor.py"} <= names
    assert module == (repo_root / "solutions" / "cs231n" / "classifiers" / "linear_svm.py").read_bytes()
    answers = [cell for cell in svm["cells"] if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
               and cell["cell_type"] == "markdown"]
    assert answers and all("Nearby images" in "".join(cell["source"]) for cell in answers)
    # The release never carries the solutions: the reference is only in the modules.
    assert "### BEGIN SOLUTION" not in json.dumps(svm)


def test_run_child_does_not_count_the_memory_of_the_benchmark_itself():
    # Linux starts a child's peak at its parent's; a benchmark holding 400 MB must not lend them to the child.
    held = bytearray(400 * 1024 * 1024)
    held[::4096] = b"x" * len(held[::4096])
    result = run_child([sys.executable, "-c", "pass"], timeout=60)
    assert result.returncode == 0, result.stderr
    assert 0 < result.peak_rss_bytes < 200 * 1024 * 1024
    del held
