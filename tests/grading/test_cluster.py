"""Grading on a Dask cluster: a real scheduler and two real workers on 127.0.0.1, and the pieces alone.

The cluster (``bench.cluster.LocalDaskCluster``: ``dask scheduler`` and ``dask worker --nthreads 1
--no-nanny`` processes of this environment) grades small batches of the samples of ``samples.py`` (svm-only
submissions, the fast ones); the workers claim their grading uids from 62700 (62700, 62716, ...) and the
local run they are compared with uses 62790-62791, ranges no other test uses. The tests run in file order on
one cluster: a batch scored as locally, a worker killed mid-batch, the scheduler killed mid-batch and the same
command run again, and a client whose course differs from the workers'. The first tests need no cluster.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import types
from datetime import datetime, timezone
from pathlib import Path

import psutil
import pytest
from distributed import Client
from distributed.scheduler import KilledWorker
from nbgrader.api import Gradebook

import samples
from bench.cluster import LocalDaskCluster
from bench.grading import cell_scores
from instructor import autograde, intake
from cs231n.course import NOTEBOOKS
from instructor.course import REPO_ROOT as REPO
from instructor.grade import cluster, course_digest, sandbox, score
from instructor.grade.cluster_worker import MACHINE_FIELDS, WorkerProblem, WorkerSettings
from instructor.grade.config import GradingConfig
from instructor.grade.result import Status
from instructor.grade.store import GradingStore

WORKER_UID_BASE = 62700
LOCAL_UID_BASE = 62790
SANDBOX_PROBLEM = sandbox.Sandbox(uid_base=LOCAL_UID_BASE).problem()


def on_a_cluster(test):
    """Marks a test that grades on a real cluster: slow, and skipped where no grading sandbox can start."""
    skip = pytest.mark.skipif(SANDBOX_PROBLEM is not None, reason=f"no grading sandbox here: {SANDBOX_PROBLEM}")
    return pytest.mark.slow(skip(test))


BATCH = ("harmless_warning", "honest_wrong", "vectorized_bug")
KILL_BATCH = ("cheat_monkeypatches", "cheat_rewrites_assert", "cheat_special_cases", "missing_module")
LOST_BATCH = ("cheat_edits_tests", "cheat_reads_reference")
WAIT_SECONDS = 240  # a whole batch on a loaded 2-core machine, at most


def config_for(course: Path, work: Path, data: Path | None = None) -> GradingConfig:
    """The grading settings of every run here; a cluster's client needs no data (``data`` None)."""
    return GradingConfig(
        course_dir=course, repo_root=REPO, work_dir=work, data_dir=data or work / "no-data-here", cell_timeout=20,
        submission_timeout=180, hidden_timeout=8,
        sandbox=sandbox.Sandbox(sandbox.Limits(memory_bytes=3 << 30, processes=128), uid_base=LOCAL_UID_BASE),
    )


def write_batch(folder: Path, release: dict[str, str], students) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    built = samples.build(release)
    for student in students:
        samples.write_zip(built[student], folder / f"{student}.zip")
    return folder


def gradebook_students(out: Path) -> list[str]:
    with Gradebook(GradingStore(out).db_url) as gradebook:
        return sorted(s.student.id for s in gradebook.find_assignment("assignment1").submissions)


def outcome(result) -> tuple:
    """What grading decided, without where or how fast: status, notes, notebooks, which verdicts passed."""
    passed = {name: check.passed for name, check in result.verdicts.items()}
    return result.status, result.notes, result.notebooks, passed


class Batch(threading.Thread):
    """``grade_all`` on the cluster in a thread of its own, so that a test can break the cluster meanwhile."""

    def __init__(self, submissions: Path, course: Path, out: Path, work: Path, address: str):
        super().__init__(daemon=True)
        self.args = (submissions, config_for(course, work), GradingStore(out, course),
                     autograde.RunOptions(jobs=1, write_feedback=False, progress=False, scheduler=address))
        self.out, self.summary, self.error = out, None, None

    def run(self) -> None:
        try:
            self.summary = autograde.grade_all(*self.args)
        except Exception as error:  # the test asserts on it
            self.error = error

    def wait_for_a_result(self, students) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not any((self.out / "results" / f"{s}.json").is_file() for s in students):
            assert self.is_alive() and time.monotonic() < deadline, f"no result came: {self.error}"
            time.sleep(0.1)

    def finish(self) -> None:
        self.join(WAIT_SECONDS)
        assert not self.is_alive(), f"the batch did not finish in {WAIT_SECONDS} s"


# -- the pieces, without a cluster ---------------------------------------------------------------------------

def test_workers_take_budgets_caps_and_the_unsafe_flag_from_the_client_and_every_path_and_uid_of_their_own(tmp_path):
    client = GradingConfig(course_dir=tmp_path / "course", repo_root=tmp_path / "repo", work_dir=tmp_path / "work",
                           data_dir=tmp_path / "data", cell_timeout=7, submission_timeout=70, hidden_timeout=3,
                           sandbox=sandbox.Sandbox(sandbox.Limits(memory_bytes=1 << 30, processes=9), uid_base=61000,
                                                   unsafe=True))
    settings = WorkerSettings.of(client)
    assert not {name for name, _ in settings.values} & set(MACHINE_FIELDS)
    worker = settings.config(Path("/worker/scratch"), Path("/worker/data"), uid_base=63000)
    assert (worker.cell_timeout, worker.submission_timeout, worker.hidden_timeout) == (7, 70, 3)
    assert worker.sandbox.limits == client.sandbox.limits and worker.sandbox.unsafe
    assert (worker.course_dir, worker.repo_root) == (autograde.COURSE_DIR, REPO)
    assert (worker.work_dir, worker.data_dir) == (Path("/worker/scratch"), Path("/worker/data"))
    assert worker.sandbox.uid_base == 63000


def test_a_copy_of_the_course_has_the_same_digests_and_an_edited_hidden_check_changes_only_the_course_part(
        grading_course, tmp_path):
    original = course_digest.digests(autograde.COURSE_DIR, REPO)
    assert course_digest.digests(grading_course, REPO) == original
    edited = tmp_path / "course"
    shutil.copytree(grading_course, edited)
    hidden = edited / "source" / "assignment1" / "hidden_checks.py"
    hidden.write_text(hidden.read_text() + "\n# one more line\n")
    changed = course_digest.digests(edited, REPO)
    assert [part for part in original if changed[part] != original[part]] == [
        "course (nbgrader configuration, source notebooks, hidden checks)"]


def failed_future(error: BaseException):
    """A stand-in for a Dask future whose task raised ``error``."""
    def result():
        raise error

    return types.SimpleNamespace(key="grade-x", result=result)


def test_a_submission_whose_workers_died_or_whose_task_failed_is_a_grading_error_of_its_own_that_a_rerun_retries(
        tmp_path):
    submission = intake.Submission("student_a", tmp_path / "student_a.zip", "0" * 64, datetime.now(timezone.utc))
    cell = score.GradedCell("svm", "test_svm_loss_naive", "code", 2.0, False, True, None)
    model = {"svm": [cell]}
    killed = KilledWorker("grade-x", types.SimpleNamespace(address="tcp://10.1.2.3:4567"), 3)
    for error, reason in [
        (killed, "grading error: the Dask workers grading this submission died 4 times (the last at "
                 "tcp://10.1.2.3:4567); a re-run tries it again"),
        (MemoryError("no memory"), "grading error on a Dask worker (MemoryError: no memory); a re-run tries it again"),
    ]:
        graded = cluster._outcome(failed_future(error), submission, model)
        assert graded.result.status is Status.ERROR and graded.result.notes == [reason]
        assert graded.result.notebooks == {name: "not graded" for name in NOTEBOOKS}
        assert [(s.cell.name, s.auto_score) for s in graded.scores["svm"]] == [("test_svm_loss_naive", 0.0)]
        assert graded.notebooks == {}
    for passed_on in (cluster.concurrent.futures.CancelledError("grade-x"), WorkerProblem("no data here")):
        with pytest.raises(type(passed_on)):  # the scheduler went away; the worker cannot grade at all
            cluster._outcome(failed_future(passed_on), submission, model)


@pytest.mark.parametrize("option", [["--data", "/somewhere"], ["--uid-base", "61000"]])
def test_options_for_grading_here_are_refused_with_a_scheduler(tmp_path, capsys, option):
    code = autograde.main([str(tmp_path), "--scheduler", "tcp://127.0.0.1:8786", *option])
    assert code == 2
    assert "with --scheduler each worker reads its own data" in capsys.readouterr().err


def test_a_scheduler_address_that_is_not_one_is_refused_before_anything_is_graded(tmp_path, capsys):
    code = autograde.main([str(tmp_path), "--scheduler", "127.0.0.1:8786", "--out", str(tmp_path / "out")])
    assert code == 1
    error = capsys.readouterr().err
    assert "--scheduler takes a Dask scheduler's address such as tcp://HOST:8786, got '127.0.0.1:8786'" in error


def test_an_unreachable_scheduler_is_named_with_the_way_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    unreachable = r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*start it with `dask scheduler`"
    with pytest.raises(RuntimeError, match=unreachable):
        with cluster._connection("tcp://127.0.0.1:9"):
            pass


# -- on a real cluster -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dask_cluster(grading_data, tmp_path_factory):
    """A scheduler and two workers (``one``, ``two``) on 127.0.0.1, grading with the small CIFAR-10."""
    folder = tmp_path_factory.mktemp("dask")
    with LocalDaskCluster(folder, {"CIFAR10_DIR": str(grading_data), "CS231N_UID_BASE": str(WORKER_UID_BASE)}) as local:
        local.start_scheduler()
        local.add_worker("one")
        local.add_worker("two")
        local.wait_for_workers(2)
        yield local


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The cluster runs' grading folder and the client's work folder (the template course, built once)."""
    return {"out": tmp_path_factory.mktemp("cluster-grading"), "work": tmp_path_factory.mktemp("client-work")}


def uid_bases(out: Path, students) -> set[int]:
    found = set()
    for student in students:
        match = re.search(r"grading uids from (\d+)", GradingStore(out).result(student).sandbox or "")
        found.add(int(match.group(1)) if match else None)
    return found


@on_a_cluster
def test_a_batch_graded_by_two_workers_scores_as_a_local_run_cell_by_cell(
        dask_cluster, folders, grading_course, grading_data, release_notebooks, tmp_path_factory):
    submissions = write_batch(tmp_path_factory.mktemp("batch"), release_notebooks, BATCH)
    local_out = tmp_path_factory.mktemp("local-grading")
    autograde.grade_all(submissions, config_for(grading_course, folders["work"], grading_data),
                        GradingStore(local_out, grading_course),
                        autograde.RunOptions(jobs=2, write_feedback=False, progress=False))

    batch = Batch(submissions, grading_course, folders["out"], folders["work"], dask_cluster.address)
    batch.run()
    assert batch.error is None and batch.summary["graded"] == sorted(BATCH)
    local = cell_scores(local_out)  # (student, notebook, cell) -> (automatic score, manual score)
    assert {student for student, _, _ in local} == set(BATCH)
    assert cell_scores(folders["out"]) == local
    for student in BATCH:
        assert outcome(GradingStore(folders["out"]).result(student)) == outcome(GradingStore(local_out).result(student))
    bases = uid_bases(folders["out"], BATCH)
    assert len(bases) == 2 and all(WORKER_UID_BASE <= base < WORKER_UID_BASE + 100 for base in bases), bases
    assert batch.summary["sandbox"].startswith(f"the workers of the Dask cluster at {dask_cluster.address}: bubblewrap")


def busy_worker(local: LocalDaskCluster) -> tuple[str, list[str]]:
    """A worker that has submissions to grade, by name, and their students (waits for one)."""
    with Client(local.address, timeout=30, set_as_default=False) as control:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for name, address in sorted(local.workers.items()):
                keys = control.processing([address])[address]
                if keys:  # grade-<student>-<batch>
                    return name, [key[len("grade-"):].rsplit("-", 1)[0] for key in keys]
            time.sleep(0.05)
    raise AssertionError(f"no worker had a submission to grade in {WAIT_SECONDS} s")


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@on_a_cluster
def test_a_worker_killed_mid_batch_loses_no_submission_and_none_is_recorded_twice(
        dask_cluster, folders, grading_course, release_notebooks, tmp_path_factory):
    submissions = write_batch(tmp_path_factory.mktemp("kill-batch"), release_notebooks, KILL_BATCH)
    batch = Batch(submissions, grading_course, folders["out"], folders["work"], dask_cluster.address)
    batch.start()
    batch.wait_for_a_result(KILL_BATCH)
    victim, grading = busy_worker(dask_cluster)
    children = psutil.Process(dask_cluster.processes[victim].pid).children(recursive=True)
    dask_cluster.kill(victim)
    batch.finish()

    assert batch.error is None and batch.summary["graded"] == sorted(KILL_BATCH)
    assert gradebook_students(folders["out"]) == sorted(BATCH + KILL_BATCH)  # each student once
    for student in KILL_BATCH:  # among them those the killed worker had: graded by the other
        assert GradingStore(folders["out"]).result(student).status is not Status.ERROR, student
    assert grading and set(grading) <= set(KILL_BATCH)
    deadline = time.monotonic() + 20  # what dies with its parent takes a moment
    while (alive := [p.pid for p in children if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive == [], "processes of the killed worker outlived it"


@on_a_cluster
def test_a_lost_scheduler_stops_the_batch_with_what_was_recorded_and_the_same_command_grades_the_rest(
        dask_cluster, folders, grading_course, release_notebooks, tmp_path_factory):
    for name in sorted(dask_cluster.workers)[1:]:  # one worker: the second submission starts after the first
        dask_cluster.kill(name)
    submissions = write_batch(tmp_path_factory.mktemp("lost-batch"), release_notebooks, LOST_BATCH)
    address = dask_cluster.address
    batch = Batch(submissions, grading_course, folders["out"], folders["work"], address)
    batch.start()
    batch.wait_for_a_result(LOST_BATCH)
    dask_cluster.kill("scheduler")
    batch.finish()
    assert isinstance(batch.error, RuntimeError)
    assert str(batch.error) == (f"the Dask scheduler at {address} went away; 1 of 2 submissions were recorded; "
                                "run the same command again to grade the rest")
    first = [s for s in LOST_BATCH if (folders["out"] / "results" / f"{s}.json").is_file()]
    for name in list(dask_cluster.processes):  # the worker of the lost scheduler, still grading
        dask_cluster.kill(name)

    dask_cluster.start_scheduler()
    dask_cluster.add_worker("three")
    dask_cluster.wait_for_workers(1)
    again = Batch(submissions, grading_course, folders["out"], folders["work"], dask_cluster.address)
    again.run()
    assert again.error is None
    assert again.summary["skipped"] == first and again.summary["graded"] == sorted(set(LOST_BATCH) - set(first))
    assert gradebook_students(folders["out"]) == sorted(BATCH + KILL_BATCH + LOST_BATCH)


@on_a_cluster
def test_a_worker_whose_course_differs_from_the_clients_refuses_and_says_how_to_fix_it(
        dask_cluster, folders, grading_course, release_notebooks, tmp_path_factory):
    course = tmp_path_factory.mktemp("other-course")
    shutil.copytree(grading_course, course, dirs_exist_ok=True)
    hidden = course / "source" / "assignment1" / "hidden_checks.py"
    hidden.write_text(hidden.read_text() + "\n# the client's course has one more line\n")
    submissions = write_batch(tmp_path_factory.mktemp("other-batch"), release_notebooks, ["honest_wrong"])
    out = tmp_path_factory.mktemp("other-grading")
    batch = Batch(submissions, course, out, tmp_path_factory.mktemp("other-work"), dask_cluster.address)
    batch.run()
    assert isinstance(batch.error, RuntimeError)
    assert re.fullmatch(
        r"nothing was graded, because not every worker can grade:\n  the worker at tcp://127\.0\.0\.1:\d+ grades with "
        r"another course \(nbgrader configuration, source notebooks, hidden checks\) than the client \(its checkout: "
        + re.escape(str(REPO)) + r"\); check out the client's commit there, run `make venv`, and restart the worker",
        str(batch.error)), str(batch.error)
    assert not (out / "results").exists()

