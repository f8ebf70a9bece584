"""One real batch: nbgrader, real kernels, bubblewrap sandboxes, two parallel slots, the samples of samples.py.

The batch is graded once for the module (``make test`` runs each file on one worker: ``--dist loadfile``);
each test asserts one property of its outcome. Expected scores come from the gradebook's own cell
definitions (points per cell), so they hold for the real course. Beside honest submissions and cheats, the
batch holds attacks on the grading machine (``attack_*``): each must earn nothing it did not earn, and the
honest submissions around it must be graded exactly as they are without it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import sysconfig
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import samples
from leftovers import files_named
from instructor import autograde
from instructor import demo
from instructor.grade import sandbox
from cs231n.course import NOTEBOOKS
from instructor.course import CHECKED_ANSWERS
from instructor.grade.config import GradingConfig
from instructor.grade.store import CSV_NAME, GradingStore
from instructor.course import REPO_ROOT as REPO

JOBS = 2
GRADING_UID_BASE = 62100  # apart from the uids of other tests and of a real grading run (62000)
MEMORY_CAP = 3 << 30


SANDBOX_PROBLEM = sandbox.Sandbox(uid_base=GRADING_UID_BASE).problem()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(SANDBOX_PROBLEM is not None, reason=f"no grading sandbox here: {SANDBOX_PROBLEM}")]
CHEATS = [
    "cheat_edits_tests", "cheat_deletes_tests", "cheat_adds_cell", "cheat_rewrites_assert", "cheat_monkeypatches",
    "cheat_reads_reference", "cheat_copies_solutions", "cheat_special_cases",
    "attack_explores", "attack_plants_links", "attack_prints_a_lot",
]
HONEST = ["reference", "stubs", "vectorized_bug", "harmless_warning", "honest_wrong"]


def config_for(course: Path, out: Path, data: Path, submission_timeout: float = 180) -> GradingConfig:
    return GradingConfig(
        course_dir=course, repo_root=REPO, work_dir=out / "work", data_dir=data,
        cell_timeout=20, submission_timeout=submission_timeout, hidden_timeout=8,
        sandbox=sandbox.Sandbox(sandbox.Limits(memory_bytes=MEMORY_CAP, processes=128), uid_base=GRADING_UID_BASE),
    )


def run_batch(course: Path, out: Path, data: Path, submissions: Path, force: bool = False,
              submission_timeout: float = 180) -> dict:
    return autograde.grade_all(
        submissions, config_for(course, out, data, submission_timeout), GradingStore(out, course),
        autograde.RunOptions(jobs=JOBS, force=force, progress=False),
    )


def load_result(out: Path, student: str) -> dict:
    """The recorded result of ``student`` as its JSON form (absent: an empty dict)."""
    result = GradingStore(out).result(student)
    return result.to_json() if result else {}


def tree_digest(folder: Path) -> dict[str, str]:
    """Path -> sha256 of every file below ``folder`` (links not followed)."""
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


class Services:
    """Services on the grading machine that student code must never reach: TCP on loopback, a file-system
    Unix socket and an abstract one. Each records every connection it accepts; the loops end when closed."""

    def __init__(self, folder: Path):
        self.accepted: list[str] = []
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.unix_path = str(folder / "service.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.abstract_name = f"\0cs231n-grading-test-{uuid.uuid4().hex}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind(self.abstract_name)
        self.open = True
        self.threads = []
        for label, server in (("tcp", self.tcp), ("unix", self.unix), ("abstract", self.abstract)):
            server.listen()
            server.settimeout(1.0)
            thread = threading.Thread(target=self._serve, args=(label, server), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, label: str, server: socket.socket) -> None:
        for _ in range(3600):  # at most an hour of one-second waits
            if not self.open:
                return
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            self.accepted.append(label)
            connection.close()

    def close(self) -> None:
        self.open = False
        for thread in self.threads:
            thread.join(timeout=5)
        for server in (self.tcp, self.unix, self.abstract):
            server.close()


@pytest.fixture(scope="module")
def attack_world(grading_course, tmp_path_factory):
    """The grading machine as an attacker finds it: demo outputs in the checkout, a second copy of the
    course elsewhere, a root-only file, and services on loopback and on Unix sockets."""
    world = Path(tempfile.mkdtemp(prefix="cs231n-attack-world-"))
    os.chmod(world, 0o755)
    copy = world / "course-copy"
    shutil.copytree(REPO / "solutions", copy / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    for folder, dirs, files in os.walk(world):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    demo = REPO / "dist" / f"demo-copy-{uuid.uuid4().hex[:8]}"
    shutil.copytree(REPO / "solutions" / "cs231n", demo / "course" / "cs231n")
    secret_dir = world / "root-only"
    secret_dir.mkdir(mode=0o700)
    secret = secret_dir / "credentials"
    secret.write_text(f"root-only secret {uuid.uuid4().hex}\n")
    os.chmod(secret, 0o600)
    services = Services(world)
    yield {"world": world, "copy": copy, "demo": demo, "secret": secret, "services": services,
           "stash": f"stash-{uuid.uuid4().hex}.py"}
    services.close()
    shutil.rmtree(world, ignore_errors=True)
    shutil.rmtree(demo, ignore_errors=True)


def targets_for(world: dict, course: Path, out: Path, submissions: Path) -> samples.Targets:
    services = world["services"]
    return samples.Targets(
        repo=str(REPO), course=str(course), grading=str(out), submissions=str(submissions), course_copy=str(world["copy"]),
        secret=str(world["secret"]), venv_site=sysconfig.get_paths()["purelib"], tcp_port=services.tcp.getsockname()[1],
        unix_socket=services.unix_path, abstract_socket=services.abstract_name, stash=world["stash"],
    )


def cell_scores(out: Path) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """(notebook, cell) -> (score, max score) of every student, from the gradebook."""
    scores: dict[str, dict] = {}
    with Gradebook(GradingStore(out).db_url) as gradebook:
        for submission in gradebook.find_assignment("assignment1").submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores.setdefault(submission.student.id, {})[(notebook.name, grade.name)] = (grade.score, grade.max_score)
    return scores


def dump(out: Path) -> list[str]:
    with sqlite3.connect(out / "gradebook.db") as db:
        return list(db.iterdump())


def autograded_cells(scores: dict) -> dict:
    return {key: value for key, value in scores.items() if not key[1].startswith("inline_question")}


def uid_processes() -> list[int]:
    uids = range(GRADING_UID_BASE, GRADING_UID_BASE + JOBS)
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid in uids:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def batch(grading_course, release_notebooks, grading_data, tmp_path_factory, attack_world):
    course = tmp_path_factory.mktemp("batch-course")
    shutil.copytree(grading_course, course, dirs_exist_ok=True)
    out = tmp_path_factory.mktemp("batch-grading")
    submissions = tmp_path_factory.mktemp("submissions")
    targets = targets_for(attack_world, course, out, submissions)
    paths = samples.write(submissions, release_notebooks, targets)
    protected = {"solutions": tree_digest(REPO / "solutions"), "venv": set(os.listdir(targets.venv_site)),
                 "secret": attack_world["secret"].read_bytes()}
    summary = run_batch(course, out, grading_data, submissions)
    return {
        "course": course, "out": out, "data": grading_data, "submissions": submissions, "paths": paths,
        "summary": summary, "scores": cell_scores(out), "results": {s: load_result(out, s) for s in paths},
        "targets": targets, "protected": protected, "world": attack_world, "release": release_notebooks,
    }


@pytest.fixture(scope="module")
def later_batch(batch, tmp_path_factory):
    """A later run over the same course: a submission that looks for what ``attack_stash_writer`` left."""
    submissions = tmp_path_factory.mktemp("later-submissions")
    samples.write_zip(samples.stash_reader(batch["release"], batch["targets"]), submissions / "attack_stash_reader.zip")
    run_batch(batch["course"], batch["out"], batch["data"], submissions)
    return {"scores": cell_scores(batch["out"]), "result": load_result(batch["out"], "attack_stash_reader")}


@pytest.fixture(scope="module")
def pipe_batch(grading_course, release_notebooks, grading_data, tmp_path_factory):
    """Named pipes at the graded notebooks' paths, in a batch of their own with a short budget, beside the
    reference submission."""
    course = tmp_path_factory.mktemp("pipe-course")
    shutil.copytree(grading_course, course, dirs_exist_ok=True)
    out = tmp_path_factory.mktemp("pipe-grading")
    submissions = tmp_path_factory.mktemp("pipe-submissions")
    samples.write_zip(samples.pipe_planter(release_notebooks, "attack_named_pipes"), submissions / "attack_named_pipes.zip")
    samples.write_zip(samples.build(release_notebooks)["honest_wrong"], submissions / "honest_wrong.zip")
    summary = run_batch(course, out, grading_data, submissions, submission_timeout=45)
    return {"summary": summary, "scores": cell_scores(out), "course": course, "out": out,
            "results": {s: load_result(out, s) for s in ("attack_named_pipes", "honest_wrong")}}


@pytest.fixture(scope="module")
def rerun(batch):
    """The same command again over the same folder: it must change nothing."""
    out = batch["out"]
    before = dump(out), (out / CSV_NAME).read_bytes()
    summary = run_batch(batch["course"], out, batch["data"], batch["submissions"])
    return {"summary": summary, "before": before, "after": (dump(out), (out / CSV_NAME).read_bytes())}


@pytest.fixture(scope="module")
def resumed(batch, rerun):
    """A run that stopped before recording two students (their records gone): the next run grades only them."""
    out = batch["out"]
    for student in ("corrupt_zip", "not_json"):
        (out / "results" / f"{student}.json").unlink()
    summary = run_batch(batch["course"], out, batch["data"], batch["submissions"])
    return {"summary": summary, "scores": cell_scores(out)}


def test_the_batch_completes_and_the_gradebook_holds_every_submission_exactly_once(batch):
    students = sorted(batch["paths"])
    assert batch["summary"]["graded"] == students
    with sqlite3.connect(batch["out"] / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Gradebook(GradingStore(batch["out"]).db_url) as gradebook:
        assignment = gradebook.find_assignment("assignment1")
        cells = sum(len(notebook.grade_cells) for notebook in assignment.notebooks)
        submissions = [s.student.id for s in assignment.submissions]
        grades = {s.student.id: sum(len(n.grades) for n in s.notebooks) for s in assignment.submissions}
    assert sorted(submissions) == students  # each student once
    assert grades == {student: cells for student in students}


def test_the_reference_gets_every_autograded_point(batch):
    scores = autograded_cells(batch["scores"]["reference"])
    assert scores and all(score == maximum for score, maximum in scores.values()), scores
    assert batch["results"]["reference"]["status"] == "graded"
    assert batch["results"]["reference"]["notes"] == []


def test_the_reference_earns_the_points_of_its_computed_answers_and_the_stubs_none(batch):
    """The cross-validation, best k and the searches: graded test cells, confirmed by the grader's own runs."""
    reference, stubs = batch["scores"]["reference"], batch["scores"]["stubs"]
    for answer, notebook in CHECKED_ANSWERS.items():
        score, maximum = reference[(notebook, f"test_{answer}")]
        assert maximum > 0 and score == maximum, answer
        assert batch["results"]["reference"]["verdicts"][answer]["passed"], answer
        assert stubs[(notebook, f"test_{answer}")][0] == 0, answer
        assert batch["results"]["stubs"]["verdicts"][answer] == {
            "passed": False, "message": f"{answer}: its test cell printed no results line (did the test pass in the notebook?)",
            "slowdown": None}


def test_forged_computed_answers_earn_none_of_their_points_though_the_kernel_tests_pass(batch):
    """A best k that is not the argmax (its check switched off in the kernel), a results line rewritten on its
    way out, made-up accuracies: each capped to 0 by the grader, everything else earned as by the reference."""
    forged, reference = batch["scores"]["forged_results"], batch["scores"]["reference"]
    lost = {key for key, (score, maximum) in autograded_cells(forged).items() if score < maximum}
    assert lost == {("knn", "test_best_k"), ("svm", "test_svm_search"), ("softmax", "test_softmax_search"),
                    ("two_layer_net", "test_two_layer_net_search"), ("features", "test_features_net_search")}
    assert all(forged[key] == reference[key] for key in autograded_cells(forged) if key not in lost)
    notes = batch["results"]["forged_results"]["notes"]
    for notebook, cell, reason in [
        ("knn", "test_best_k", "(best_k: best_k = "),
        ("svm", "test_svm_search", "(svm_search: results[(4e-07, 1000)] = (0.990, 0.990), but training that setting"),
        ("softmax", "test_softmax_search", "(softmax_search: results[(4e-06, 250)] = (0.500, 0.450), but training"),
        ("two_layer_net", "test_two_layer_net_search",
         "(two_layer_net_search: results[(0.0005, 0.05)] = (0.990, 0.990), but training that setting as the notebook "
         "says (TwoLayerNet(D, 50, C, seed=0)"),
        ("features", "test_features_net_search",
         "(features_net_search: results[(0.1, 0.0001)] = (0.990, 0.990), but training that setting"),
    ]:
        assert any(note.startswith(f"{notebook}: {cell}: capped to 0 by the trusted check {reason}") for note in notes), notes
        graded = batch["out"] / "autograded" / "forged_results" / "assignment1" / f"{notebook}.ipynb"
        test_cell = next(c for c in json.loads(graded.read_text())["cells"]
                         if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell)
        printed = "".join("".join(o.get("text", "")) for o in test_cell["outputs"] if o.get("output_type") == "stream")
        assert "visible tests pass" in printed and not any(o.get("output_type") == "error" for o in test_cell["outputs"])


def test_the_untouched_stubs_score_zero_and_grade_without_a_crash(batch):
    scores = autograded_cells(batch["scores"]["stubs"])
    assert all(score == 0 for score, _ in scores.values()), scores
    assert batch["results"]["stubs"]["notebooks"] == {name: "graded" for name in NOTEBOOKS}


def test_unanswered_inline_questions_score_zero_without_manual_grading(batch):
    with Gradebook(GradingStore(batch["out"]).db_url) as gradebook:
        submission = gradebook.find_submission("assignment1", "stubs")
        answers = [g for n in submission.notebooks for g in n.grades if g.name.startswith("inline_question")]
        # The stubs left every answer as released: no response, 0 points, nothing to grade by hand.
        assert answers and all(g.auto_score == 0 and not g.needs_manual_grade for g in answers)


def test_answered_inline_questions_wait_for_manual_grading(batch):
    with Gradebook(GradingStore(batch["out"]).db_url) as gradebook:
        submission = gradebook.find_submission("assignment1", "reference")
        answers = [g for n in submission.notebooks for g in n.grades if g.name.startswith("inline_question")]
        assert answers and all(g.auto_score is None and g.needs_manual_grade for g in answers)


def test_one_bug_in_the_vectorized_svm_gradient_loses_exactly_its_points(batch):
    reference = batch["scores"]["reference"]
    bugged = batch["scores"]["vectorized_bug"]
    lost = {cell for key, (score, maximum) in bugged.items() if key[0] == "svm" for cell in [key[1]]
            if score < maximum and not cell.startswith("inline_question")}
    # LinearSVM trains with the student's svm_loss_vectorized, so training inherits the bug, and so does the
    # search, whose results the grader's training of the same settings does not confirm.
    assert lost == {"test_svm_loss_vectorized", "hidden_svm_loss_vectorized",
                    "test_linear_classifier_train", "hidden_linear_classifier_train", "test_svm_search"}
    for key, (score, _) in bugged.items():
        if key[0] == "svm" and key[1] not in lost and not key[1].startswith("inline_question"):
            assert score == reference[key][0]


def test_a_harmless_warning_on_stderr_costs_nothing(batch):
    scores = {k: v for k, v in autograded_cells(batch["scores"]["harmless_warning"]).items() if k[0] == "svm"}
    assert all(score == maximum for score, maximum in scores.values()), scores


def test_the_honest_but_unfinished_submission_scores_what_it_earned(batch):
    scores = batch["scores"]["honest_wrong"]
    assert scores[("svm", "test_svm_loss_vectorized")][0] == 0
    assert scores[("svm", "hidden_svm_loss_vectorized")][0] == 0
    assert scores[("svm", "hidden_svm_loss_naive")][0] == scores[("svm", "hidden_svm_loss_naive")][1]


@pytest.mark.parametrize("cheat", CHEATS)
def test_a_cheat_earns_no_point_that_its_honest_twin_does_not(batch, cheat):
    honest = batch["scores"]["honest_wrong"]
    cheated = batch["scores"][cheat]
    assert cheated[("svm", "test_svm_loss_vectorized")][0] == 0
    assert cheated[("svm", "hidden_svm_loss_vectorized")][0] == 0
    for key, (score, maximum) in autograded_cells(cheated).items():
        assert score <= honest[key][0], f"{cheat} got {score} on {key}, the honest submission {honest[key][0]}"
        assert maximum == honest[key][1]  # points come from the gradebook, not the submitted notebook


@pytest.mark.parametrize("cheat", ["cheat_rewrites_assert", "cheat_monkeypatches", "cheat_reads_reference"])
def test_kernel_tampering_earns_nothing_and_the_notes_say_which_check_capped_it(batch, cheat):
    notes = " ".join(batch["results"][cheat]["notes"])
    assert batch["scores"][cheat][("svm", "hidden_svm_loss_vectorized")][0] == 0
    assert batch["scores"][cheat][("svm", "test_svm_loss_vectorized")][0] == 0
    assert "svm_loss_vectorized: " in notes  # the trusted verdict's reason


def test_the_grading_template_holds_no_student_module_that_nbgrader_could_inject(batch):
    source = batch["out"] / "work" / "template" / "source" / "assignment1"
    assert (source / "cs231n" / "data_utils.py").is_file() and (source / "hidden_checks.py").is_file()
    for module in samples.MODULES:
        assert not (source / "cs231n" / "classifiers" / f"{module}.py").exists(), module
    assert not (batch["out"] / "work" / "template" / "release").exists()


def test_only_answer_cells_come_from_the_submission(batch):
    """Deleted tests are back, gutted tests are the course's, an added cell is gone: the scores are the twin's."""
    honest = batch["scores"]["honest_wrong"]
    autograded = batch["out"] / "autograded"
    for cheat in ("cheat_deletes_tests", "cheat_edits_tests", "cheat_adds_cell"):
        text = (autograded / cheat / "assignment1" / "svm.ipynb").read_text()
        assert '"grade_id": "test_svm_loss_vectorized"' in text
        assert "tests? what tests?" not in text and "added by the student" not in text
        differing = {k: (v, honest.get(k)) for k, v in batch["scores"][cheat].items() if honest.get(k) != v}
        assert not differing, (cheat, differing, batch["results"][cheat]["notes"])
        assert not any("differs from the course" in note for note in batch["results"][cheat]["notes"])


@pytest.mark.parametrize("student, reason", [
    ("infinite_loop", "stopped responding"),
    ("os_exit", "the kernel died"),
])
def test_a_hang_or_a_dead_kernel_costs_only_the_rest_of_that_notebook(batch, student, reason):
    result = batch["results"][student]
    log = batch["out"] / "logs" / f"{student}.log"
    log_tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.is_file() else "(no log)"
    assert any(reason in note for note in result["notes"]), "\n".join(result["notes"]) + "\n--- log:\n" + log_tail
    assert result["notebooks"]["svm"] == "graded"
    scores = batch["scores"][student]
    assert scores[("svm", "test_svm_loss_naive")][0] == 0 and scores[("svm", "hidden_svm_loss_naive")][0] == 0
    verdicts = result["verdicts"]
    assert not verdicts["svm_loss_naive"]["passed"]
    assert verdicts["svm_loss_vectorized"]["passed"] and verdicts["compute_distances_no_loops"]["passed"]


@pytest.mark.parametrize("student, message", [
    ("memory_bomb", "svm_loss_naive: raised MemoryError: Unable to allocate 30.0 GiB"),
    ("fork_bomb", "svm_loss_naive: raised RuntimeError: no more processes"),
])
def test_memory_and_fork_bombs_fail_their_function_and_leave_nothing_running(batch, student, message):
    result = batch["results"][student]
    assert any(note.startswith(message) for note in result["notes"]), result["notes"]
    scores = batch["scores"][student]
    assert scores[("svm", "hidden_svm_loss_naive")][0] == 0
    assert scores[("svm", "hidden_svm_loss_vectorized")][0] == scores[("svm", "hidden_svm_loss_vectorized")][1]
    assert uid_processes() == []


def test_a_corrupt_zip_scores_zero_with_its_reason_in_the_csv_and_feedback(batch):
    result = batch["results"]["corrupt_zip"]
    assert result["status"] == "not gradable"
    assert result["notes"][0].startswith("submission not gradable: ")
    assert all(score == 0 for score, _ in batch["scores"]["corrupt_zip"].values())
    rows = {row["student_id"]: row for row in csv.DictReader(open(batch["out"] / CSV_NAME))}
    assert rows["corrupt_zip"]["status"] == "not gradable" and "not gradable" in rows["corrupt_zip"]["notes"]
    summary = (batch["out"] / "feedback" / "corrupt_zip" / "assignment1" / "index.html").read_text()
    assert "submission not gradable" in summary


def test_a_zip_with_traversal_paths_writes_nothing_outside_and_is_graded(batch):
    assert not Path("/tmp/escaped_absolute.py").exists()
    for root in (batch["course"], batch["out"], batch["submissions"], batch["course"].parent):
        assert not list(root.rglob("escaped_by_traversal.py"))
    result = batch["results"]["path_traversal"]
    assert any("skipped unsafe archive entry '../../escaped_by_traversal.py'" in note for note in result["notes"])
    svm = {k: v for k, v in autograded_cells(batch["scores"]["path_traversal"]).items() if k[0] == "svm"}
    assert all(score == maximum for score, maximum in svm.values())


def test_a_notebook_that_is_not_json_scores_zero_with_a_reason(batch):
    result = batch["results"]["not_json"]
    assert result["notebooks"]["svm"] == "missing"
    assert any(note.startswith("svm.ipynb is not a valid notebook (NotJSONError") for note in result["notes"])
    assert all(score == 0 for (nb, _), (score, _) in batch["scores"]["not_json"].items() if nb == "svm")


def test_a_missing_module_is_graded_as_the_stub(batch):
    result = batch["results"]["missing_module"]
    assert "cs231n/classifiers/linear_svm.py was not submitted: graded as the unmodified stub" in result["notes"]
    scores = batch["scores"]["missing_module"]
    assert scores[("svm", "hidden_svm_loss_naive")][0] == 0 and scores[("svm", "hidden_svm_loss_vectorized")][0] == 0


def test_feedback_never_shows_hidden_tests_their_tracebacks_or_the_reference(batch):
    pages = list((batch["out"] / "feedback").rglob("*.html"))
    assert len(pages) >= len(batch["paths"]) - 2  # the unreadable zips get an index page only
    hidden_source = (batch["course"] / "source" / "assignment1" / "hidden_checks.py").read_text()
    secret_lines = {line.strip() for line in hidden_source.splitlines() if len(line.strip()) > 30}
    stub = (REPO / "cs231n" / "classifiers" / "linear_svm.py").read_text()
    reference = (REPO / "solutions" / "cs231n" / "classifiers" / "linear_svm.py").read_text()
    secret_lines |= {line.strip() for line in reference.splitlines() if len(line.strip()) > 30 and line.strip() not in stub}
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "hidden_checks" not in text, page
        assert not any(line in text for line in secret_lines), page
    stubs_svm = (batch["out"] / "feedback" / "stubs" / "assignment1" / "svm.html").read_text()
    assert "hidden tests: failed" in stubs_svm


def test_the_csv_has_one_row_per_student_matching_the_gradebook(batch):
    rows = list(csv.DictReader(open(batch["out"] / CSV_NAME)))
    assert sorted(row["student_id"] for row in rows) == sorted(batch["paths"])
    for row in rows:
        scores = batch["scores"][row["student_id"]]
        assert float(row["score"]) == pytest.approx(sum(score or 0 for score, _ in scores.values()))
        assert float(row["max_score"]) == pytest.approx(sum(maximum for _, maximum in scores.values()))


def test_running_again_changes_nothing(rerun, batch):
    assert rerun["summary"]["graded"] == []
    assert rerun["summary"]["skipped"] == sorted(batch["paths"])
    assert rerun["after"] == rerun["before"]


def test_an_interrupted_run_resumes_with_only_the_unrecorded_submissions(resumed, batch):
    assert resumed["summary"]["graded"] == ["corrupt_zip", "not_json"]
    assert resumed["scores"] == batch["scores"]


def test_inline_questions_are_graded_by_hand_in_formgrader_and_reach_the_csv(resumed, batch, tmp_path):
    """The README's manual-grading steps against a real Jupyter server with nbgrader's formgrader."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    course = batch["out"]  # the grading folder is the nbgrader course formgrader opens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "cs231n-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}", "--allow-root"],
        cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"),
    )

    def call(path, method="GET", body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", method=method, data=json.dumps(body).encode() if body else None,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.read().decode()

    try:
        for _ in range(150):  # up to 30 s for the server to listen
            try:
                call("/formgrader/api/status")
                break
            except OSError:
                time.sleep(0.2)
        submissions = json.loads(call("/formgrader/api/submitted_notebooks/assignment1/knn"))
        reference = next(s for s in submissions if s["student"] == "reference")
        assert reference["needs_manual_grade"]
        page = call(f"/formgrader/submissions/{reference['id']}/?index=0")
        assert demo.ANSWER in page
        grades = json.loads(call(f"/formgrader/api/grades?submission_id={reference['id']}"))
        question = next(g for g in grades if g["name"] == "inline_question_1")
        updated = json.loads(call(f"/formgrader/api/grade/{question['id']}", "PUT", {"manual_score": 1.5}))
        assert updated["manual_score"] == 1.5 and not updated["needs_manual_grade"]
    finally:
        server.terminate()
        server.wait(timeout=30)

    from instructor.feedback.pages import main as refresh

    assert refresh(["--out", str(course), "--student", "reference", "--jobs", "1"]) == 0
    row = next(r for r in csv.DictReader(open(course / CSV_NAME)) if r["student_id"] == "reference")
    assert float(row["knn:inline_question_1"]) == 1.5
    page = (course / "feedback" / "reference" / "assignment1" / "knn.html").read_text()
    assert "1.5" in page


# ------------------------------------------------------------------------------------- attacks on the grader

def svm_autograded_text(batch, student: str) -> str:
    """What the graded svm notebook printed, each cell's stream outputs joined as written (the kernel may
    flush one print in two parts)."""
    notebook = json.loads((batch["out"] / "autograded" / student / "assignment1" / "svm.ipynb").read_text())
    printed = []
    for cell in notebook["cells"]:
        streams = [output for output in cell.get("outputs", []) if output.get("output_type") == "stream"]
        printed.append("".join("".join(output["text"]) for output in streams))
    return "\n".join(printed)


def test_student_code_finds_no_reference_no_other_submission_and_no_instructor_file(batch):
    """It walked the checkout (demo outputs included), the course, the submissions folder, a second copy of
    the course and every folder it could see, and printed whatever it found into its own feedback."""
    text = svm_autograded_text(batch, "attack_explores")
    assert "instructor material found: 0" in text, text[:3000]
    assert "INSTRUCTOR FILE" not in text
    assert batch["scores"]["attack_explores"][("svm", "hidden_svm_loss_vectorized")][0] == 0


def test_student_code_reaches_no_service_of_the_grading_machine(batch):
    assert "host services reached: []" in svm_autograded_text(batch, "attack_explores")
    assert batch["world"]["services"].accepted == []


def test_nothing_of_the_grader_is_changed_and_no_secret_leaks_into_what_it_writes(batch):
    """Writes at the grader's paths and links at every path the grading driver writes or reads (to a
    root-only file, the grader's site-packages, solutions/) change nothing and show nothing."""
    assert "host files written: []" in svm_autograded_text(batch, "attack_explores")
    protected = batch["protected"]
    assert tree_digest(REPO / "solutions") == protected["solutions"]
    assert set(os.listdir(batch["targets"].venv_site)) == protected["venv"]
    assert batch["world"]["secret"].read_bytes() == protected["secret"]
    secret = protected["secret"].strip()
    for path in [*batch["course"].rglob("*"), *batch["out"].rglob("*")]:
        if path.is_file() and not path.is_symlink():
            assert secret not in path.read_bytes(), path
    for student in ("attack_plants_links", "attack_explores"):
        assert batch["results"][student]["status"] != "grading error", batch["results"][student]["notes"]


def test_no_link_a_submission_planted_is_followed_into_the_course(batch):
    for path in (batch["out"] / "autograded").rglob("*"):
        assert not path.is_symlink(), path
        assert stat.S_ISREG(path.lstat().st_mode) or path.is_dir(), path


def test_vectorized_functions_that_loop_lose_their_points_with_the_reason(batch):
    verdicts = batch["results"]["attack_vectorized_loops"]["verdicts"]
    for name in ("svm_loss_vectorized", "softmax_loss_vectorized", "compute_distances_no_loops"):
        assert not verdicts[name]["passed"] and "as slow as the reference" in verdicts[name]["message"], verdicts[name]
        assert verdicts[name]["slowdown"] > 5
    for name in ("svm_loss_naive", "softmax_loss_naive", "compute_distances_one_loop", "linear_classifier_train"):
        assert verdicts[name]["passed"], verdicts[name]
    scores = batch["scores"]["attack_vectorized_loops"]
    assert scores[("svm", "test_svm_loss_vectorized")][0] == scores[("svm", "hidden_svm_loss_vectorized")][0] == 0
    assert scores[("svm", "hidden_svm_loss_naive")][0] == scores[("svm", "hidden_svm_loss_naive")][1]
    notes = " ".join(batch["results"]["attack_vectorized_loops"]["notes"])
    assert "a vectorized version must not loop over the examples" in notes


def test_keeping_the_machine_busy_while_the_reference_is_timed_does_not_hide_a_loop(batch):
    verdict = batch["results"]["attack_busy_while_timed"]["verdicts"]["svm_loss_vectorized"]
    if sandbox.Sandbox().cgroups is None:
        pytest.skip("no cgroup can be created here: timing falls back to the wall clock, which this attack skews")
    assert not verdict["passed"] and verdict["slowdown"] > 5, verdict
    assert batch["scores"]["attack_busy_while_timed"][("svm", "hidden_svm_loss_vectorized")][0] == 0


def test_the_reference_is_timed_at_about_its_own_speed(batch):
    verdicts = batch["results"]["reference"]["verdicts"]
    for name in ("svm_loss_vectorized", "softmax_loss_vectorized", "compute_distances_no_loops"):
        assert verdicts[name]["passed"] and verdicts[name]["slowdown"] < 5, verdicts[name]


def test_what_one_submission_leaves_in_tmp_is_gone_for_the_next(later_batch, batch):
    assert later_batch["scores"]["attack_stash_reader"][("svm", "hidden_svm_loss_vectorized")][0] == 0
    assert "found a stash" not in svm_autograded_text(batch, "attack_stash_reader")
    stash = batch["targets"].stash
    for folder in (Path(tempfile.gettempdir()), Path("/dev/shm"), batch["course"], batch["out"], batch["submissions"]):
        assert not files_named(folder, stash), folder
    # The writer's own work is correct and earned its points.
    writer = batch["scores"]["attack_stash_writer"]
    assert writer[("svm", "hidden_svm_loss_vectorized")][0] == writer[("svm", "hidden_svm_loss_vectorized")][1]


def test_a_reply_that_lies_about_its_size_or_is_an_npz_bomb_fails_only_its_function(batch):
    result = batch["results"]["attack_lies_to_the_grader"]
    assert result["status"] != "grading error"
    verdicts = result["verdicts"]
    for name in ("svm_loss_naive", "svm_loss_vectorized"):
        assert not verdicts[name]["passed"] and "not its outputs" in verdicts[name]["message"], verdicts[name]
    assert verdicts["linear_classifier_predict"]["passed"] and verdicts["softmax_loss_naive"]["passed"]
    scores = batch["scores"]["attack_lies_to_the_grader"]
    assert scores[("svm", "hidden_svm_loss_naive")][0] == 0 and scores[("svm", "hidden_svm_loss_vectorized")][0] == 0


def test_memory_held_by_many_children_is_capped_for_the_submission_as_a_whole(batch):
    result = batch["results"]["attack_memory_children"]
    assert result["status"] != "grading error"
    if sandbox.Sandbox().cgroups is None:
        pytest.skip("no cgroup can be created here: memory is capped per process only")
    assert result["peak_memory_mb"] is not None and result["peak_memory_mb"] <= MEMORY_CAP / 2**20
    assert any("memory cap" in note for note in result["notes"]), result["notes"]


def test_100_mb_of_output_is_cut_to_a_marked_megabyte(batch):
    notebook = batch["out"] / "autograded" / "attack_prints_a_lot" / "assignment1" / "svm.ipynb"
    page = batch["out"] / "feedback" / "attack_prints_a_lot" / "assignment1" / "svm.html"
    assert notebook.stat().st_size < 4 << 20 and page.stat().st_size < 4 << 20
    assert "[output truncated]" in notebook.read_text() and "[output truncated]" in page.read_text()


def test_a_zip_bomb_is_refused_without_being_inflated(batch):
    result = batch["results"]["attack_zip_bomb"]
    assert result["status"] == "not gradable"
    assert "svm.ipynb" in result["notes"][0] and "re-run collectSubmission.sh" in result["notes"][0]


def test_named_pipes_where_the_notebooks_are_written_cost_only_their_own_submission(pipe_batch):
    assert sorted(pipe_batch["summary"]["graded"]) == ["attack_named_pipes", "honest_wrong"]
    honest, piped = pipe_batch["scores"]["honest_wrong"], pipe_batch["scores"]["attack_named_pipes"]
    assert honest[("svm", "hidden_svm_loss_naive")][0] == honest[("svm", "hidden_svm_loss_naive")][1]
    for key, (score, _) in autograded_cells(piped).items():
        assert score <= honest[key][0], key


def test_no_grading_process_or_control_group_outlives_its_submission(batch, later_batch):
    assert uid_processes() == []
    for folder in sandbox.cgroup.run_folders():  # this process's groups (other tests may grade meanwhile)
        leftover = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
        assert leftover == [], leftover
