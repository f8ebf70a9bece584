"""One real batch: nbgrader, real kernels, two parallel slots, the sample submissions of samples.py.

The batch is graded once for the module (``make test`` runs each file on one worker: ``--dist loadfile``);
each test asserts one property of its outcome. Expected scores
come from the gradebook's own cell definitions (points per cell), so they hold for the real course.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import samples
from solutions.instructor import autograde, feedback, isolation
from solutions.instructor.worker import Settings

REPO = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(isolation.detect_mode() == "none", reason="grading tests need namespaces (unshare)"),
]
CHEATS = [
    "cheat_edits_tests", "cheat_deletes_tests", "cheat_adds_cell", "cheat_rewrites_assert", "cheat_monkeypatches",
    "cheat_reads_reference", "cheat_copies_solutions", "cheat_special_cases",
]
TAMPERING = ["cheat_rewrites_assert", "cheat_monkeypatches", "cheat_reads_reference"]
JOBS = 2
GRADING_UID_BASE = 62100  # apart from the uids of other tests and of a real grading run (62000)


def settings_for(course: Path, data: Path) -> Settings:
    return Settings(
        course_dir=course, repo_root=REPO, work_dir=course / "grading-work", data_dir=data,
        cell_timeout=20, submission_timeout=180, limits=isolation.Limits(memory_bytes=3 << 30, processes=128),
        mode=isolation.detect_mode(), uid_base=GRADING_UID_BASE,
    )


def run_batch(course: Path, data: Path, submissions: Path, force: bool = False) -> dict:
    return autograde.grade_all(
        submissions, settings_for(course, data), jobs=JOBS, force=force, hidden_timeout=8, progress=False
    )


def cell_scores(course: Path) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """(notebook, cell) -> (score, max score) of every student, from the gradebook."""
    scores: dict[str, dict] = {}
    with Gradebook(feedback.db_url(course)) as gradebook:
        for submission in gradebook.find_assignment("assignment1").submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores.setdefault(submission.student.id, {})[(notebook.name, grade.name)] = (grade.score, grade.max_score)
    return scores


def dump(course: Path) -> list[str]:
    with sqlite3.connect(course / "gradebook.db") as db:
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
def batch(grading_course, release_notebooks, grading_data, tmp_path_factory):
    course = tmp_path_factory.mktemp("batch-course")
    shutil.copytree(grading_course, course, dirs_exist_ok=True)
    submissions = tmp_path_factory.mktemp("submissions")
    paths = samples.write(submissions, release_notebooks)
    summary = run_batch(course, grading_data, submissions)
    return {
        "course": course, "data": grading_data, "submissions": submissions, "paths": paths, "summary": summary,
        "scores": cell_scores(course), "results": {s: feedback.load_result(course, s) for s in paths},
    }


@pytest.fixture(scope="module")
def rerun(batch):
    """The same command again over the same folder: it must change nothing."""
    course = batch["course"]
    before = dump(course), (course / "grades.csv").read_bytes()
    summary = run_batch(course, batch["data"], batch["submissions"])
    return {"summary": summary, "before": before, "after": (dump(course), (course / "grades.csv").read_bytes())}


@pytest.fixture(scope="module")
def resumed(batch, rerun):
    """A run that stopped before recording two students (their records gone): the next run grades only them."""
    course = batch["course"]
    for student in ("corrupt_zip", "not_json"):
        (course / "grading-work" / "results" / f"{student}.json").unlink()
    summary = run_batch(course, batch["data"], batch["submissions"])
    return {"summary": summary, "scores": cell_scores(course)}


def test_the_batch_completes_and_the_gradebook_holds_every_submission_exactly_once(batch):
    students = sorted(batch["paths"])
    assert batch["summary"]["graded"] == students
    with sqlite3.connect(batch["course"] / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Gradebook(feedback.db_url(batch["course"])) as gradebook:
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


def test_the_untouched_stubs_score_zero_and_grade_without_a_crash(batch):
    scores = autograded_cells(batch["scores"]["stubs"])
    assert all(score == 0 for score, _ in scores.values()), scores
    assert batch["results"]["stubs"]["notebooks"] == {"knn": "graded", "svm": "graded", "softmax": "graded"}


def test_unanswered_inline_questions_score_zero_without_manual_grading(batch):
    with Gradebook(feedback.db_url(batch["course"])) as gradebook:
        submission = gradebook.find_submission("assignment1", "stubs")
        answers = [g for n in submission.notebooks for g in n.grades if g.name.startswith("inline_question")]
        # The stubs left every answer as released: no response, 0 points, nothing to grade by hand.
        assert answers and all(g.auto_score == 0 and not g.needs_manual_grade for g in answers)


def test_answered_inline_questions_wait_for_manual_grading(batch):
    with Gradebook(feedback.db_url(batch["course"])) as gradebook:
        submission = gradebook.find_submission("assignment1", "reference")
        answers = [g for n in submission.notebooks for g in n.grades if g.name.startswith("inline_question")]
        assert answers and all(g.auto_score is None and g.needs_manual_grade for g in answers)


def test_one_bug_in_the_vectorized_svm_gradient_loses_exactly_its_points(batch):
    reference = batch["scores"]["reference"]
    bugged = batch["scores"]["vectorized_bug"]
    lost = {cell for key, (score, maximum) in bugged.items() if key[0] == "svm" for cell in [key[1]]
            if score < maximum and not cell.startswith("inline_question")}
    # LinearSVM trains with the student's svm_loss_vectorized, so training inherits the bug.
    assert lost == {"test_svm_loss_vectorized", "hidden_svm_loss_vectorized",
                    "test_linear_classifier_train", "hidden_linear_classifier_train"}
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


@pytest.mark.parametrize("cheat", TAMPERING)
def test_kernel_tampering_is_detected_and_named_in_the_notes(batch, cheat):
    notes = " ".join(batch["results"][cheat]["notes"])
    assert "svm: visible tests not counted: the kernel passed hidden tests that fail out of process (" in notes
    assert "svm_loss_vectorized" in notes.split("fail out of process (")[1]


def test_the_grading_template_holds_no_student_module_that_nbgrader_could_inject(batch):
    source = batch["course"] / "grading-work" / "template" / "source" / "assignment1"
    assert (source / "cs231n" / "data_utils.py").is_file() and (source / "hidden_checks.py").is_file()
    for module in samples.MODULES:
        assert not (source / "cs231n" / "classifiers" / f"{module}.py").exists(), module
    assert not (batch["course"] / "grading-work" / "template" / "release").exists()


def test_only_answer_cells_come_from_the_submission(batch):
    """Deleted tests are back, gutted tests are the course's, an added cell is gone: the scores are the twin's."""
    honest = batch["scores"]["honest_wrong"]
    autograded = batch["course"] / "autograded"
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
    log = batch["course"] / "grading-work" / "logs" / f"{student}.log"
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
    rows = {row["student_id"]: row for row in csv.DictReader(open(batch["course"] / "grades.csv"))}
    assert rows["corrupt_zip"]["status"] == "not gradable" and "not gradable" in rows["corrupt_zip"]["notes"]
    summary = (batch["course"] / "feedback" / "corrupt_zip" / "assignment1" / "index.html").read_text()
    assert "submission not gradable" in summary


def test_a_zip_with_traversal_paths_writes_nothing_outside_and_is_graded(batch):
    assert not Path("/tmp/escaped_absolute.py").exists()
    for root in (batch["course"], batch["submissions"], batch["course"].parent):
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


def test_feedback_never_shows_hidden_tests_or_their_tracebacks(batch):
    pages = list((batch["course"] / "feedback").rglob("*.html"))
    assert len(pages) >= len(batch["paths"])
    hidden_source = (batch["course"] / "source" / "assignment1" / "hidden_checks.py").read_text()
    secret_lines = {line.strip() for line in hidden_source.splitlines() if len(line.strip()) > 30}
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "hidden_checks" not in text, page
        assert not any(line in text for line in secret_lines), page
    stubs_svm = (batch["course"] / "feedback" / "stubs" / "assignment1" / "svm.html").read_text()
    assert "hidden tests: failed" in stubs_svm


def test_the_csv_has_one_row_per_student_matching_the_gradebook(batch):
    rows = list(csv.DictReader(open(batch["course"] / "grades.csv")))
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
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    course = batch["course"]
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
        assert "The distances grow with the number of pixels that differ." in page
        grades = json.loads(call(f"/formgrader/api/grades?submission_id={reference['id']}"))
        question = next(g for g in grades if g["name"] == "inline_question_1")
        updated = json.loads(call(f"/formgrader/api/grade/{question['id']}", "PUT", {"manual_score": 1.5}))
        assert updated["manual_score"] == 1.5 and not updated["needs_manual_grade"]
    finally:
        server.terminate()
        server.wait(timeout=30)

    from solutions.instructor.feedback import main as refresh

    assert refresh(["--course", str(course), "--student", "reference", "--jobs", "1"]) == 0
    row = next(r for r in csv.DictReader(open(course / "grades.csv")) if r["student_id"] == "reference")
    assert float(row["knn:inline_question_1"]) == 1.5
    page = (course / "feedback" / "reference" / "assignment1" / "knn.html").read_text()
    assert "1.5" in page
