"""Feedback pages, the grades CSV and formgrader on a tiny graded course: pending answers, offline maths.

The course has the real ``solutions/nbgrader_config.py`` (loaded as a sub-configuration, with the tiny
course as root) and three notebooks of four cells: a text with formulas, two written questions and a test
cell. ``nbgrader generate_assignment`` builds its gradebook; one student's notebooks are the release with
the first question answered, scored by :mod:`instructor.grade.score` and written out by
``python -m instructor.feedback.pages``, as after a grading run. No sandbox and no kernel are needed.

The browser tests use Debian's chromium through Playwright and let no request leave the machine: a
feedback page is opened from ``file://``, and formgrader is reached as section 4 of
``instructor/README.md`` says, from JupyterLab's menu to a score typed in the submission page.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from instructor.course import ASSIGNMENT, NOTEBOOKS, tool_env
from instructor.feedback import pages as feedback
from instructor.grade import score as record
from instructor.grade.store import CSV_NAME, GradingStore
from instructor.nbgrader_course import generate_assignment
from instructor.course import REPO_ROOT as REPO

STUDENT = "s1"
INTRO = ("The hinge loss is $L_i = \\sum_{j \\neq y_i} \\max(0, s_j - s_{y_i} + \\Delta)$ and $x^2$ grows.\n\n"
         "$$\\frac{\\partial L}{\\partial W}$$")
ANSWER = "**Your answer:** the loss grows like $x^2$ when $x > 1$."
FORMULAS = 5  # three in INTRO, two in ANSWER: what a page of one notebook must render
# Points of the cells of each notebook: the answered question, the one left as released, the test cell.
ANSWERED, UNANSWERED, TEST = ("inline_question_1", 1), ("inline_question_2", 2), ("test_arithmetic", 3)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT_MS = 30_000
SERVER_START_SECONDS = 60

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # only the browser tests need it
    sync_playwright = None
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: the browser tests need "
                                    "Debian's chromium package (`make browser` installs it where apt-get and root "
                                    "are available)")
needs_playwright = pytest.mark.skipif(sync_playwright is None, reason="the Python package playwright is not "
                                      "installed (pip install -r requirements.txt)")
# Lab user settings: no news prompt and no update check (both would ask a server off this machine).
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def _cell_metadata(grade_id: str, points: float | None = None, solution: bool = False, locked: bool = False) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": points is not None, "locked": locked,
            "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def build_course(folder: Path) -> Path:
    """Release the tiny course with nbgrader, then score and write out one student's submission."""
    # A source course like solutions/ (the real configuration, tiny notebooks), and a grading folder made
    # from it as grading makes one: its generated nbgrader_config.py is what formgrader reads.
    source_course = folder / "source-course"
    source = source_course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy2(REPO / "solutions" / "nbgrader_config.py", source_course / "nbgrader_config.py")
    course = folder / "course"
    store = GradingStore(course, source_course).open()
    for name in NOTEBOOKS:
        notebook = new_notebook(cells=[
            new_markdown_cell(INTRO, metadata=_cell_metadata("intro", locked=True)),
            new_markdown_cell("YOUR ANSWER HERE", metadata=_cell_metadata(ANSWERED[0], ANSWERED[1], solution=True)),
            new_markdown_cell("YOUR ANSWER HERE", metadata=_cell_metadata(UNANSWERED[0], UNANSWERED[1], solution=True)),
            new_code_cell("assert 1 + 1 == 2", metadata=_cell_metadata(TEST[0], TEST[1], locked=True)),
        ])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, source / f"{name}.ipynb")
    generate_assignment(course)

    autograded = course / "autograded" / STUDENT / ASSIGNMENT
    autograded.mkdir(parents=True)
    model = record.course_model(store.db_url)
    scores = {}
    for name in NOTEBOOKS:
        notebook = nbformat.read(course / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4)
        answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWERED[0])
        answer.source = ANSWER
        nbformat.write(notebook, autograded / f"{name}.ipynb")
        scores[name] = record.score_notebook(autograded / f"{name}.ipynb", model[name], {}, None)
    shutil.copytree(autograded, course / "submitted" / STUDENT / ASSIGNMENT)
    record.record(store.db_url, STUDENT, None, scores)
    store.result_path(STUDENT).parent.mkdir(parents=True)
    store.result_path(STUDENT).write_text(json.dumps(
        {"student": STUDENT, "sha256": "", "source": f"{STUDENT}.zip", "timestamp": "", "status": "graded",
         "notebooks": {name: "graded" for name in NOTEBOOKS}, "notes": [], "verdicts": {}}))
    assert feedback.main(["--out", str(course), "--jobs", "1"]) == 0
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return build_course(tmp_path_factory.mktemp("tiny-course"))


def csv_row(course: Path) -> dict[str, str]:
    with open(course / CSV_NAME, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["student_id"] for row in rows] == [STUDENT]
    return rows[0]


def pages(course: Path) -> Path:
    return course / "feedback" / STUDENT / ASSIGNMENT


# ------------------------------------------------------------------------------------------- pending, CSV

def test_the_csv_says_pending_for_an_answered_question_and_0_for_an_empty_one(course):
    row = csv_row(course)
    for name in NOTEBOOKS:
        assert row[f"{name}:{ANSWERED[0]}"] == "pending"
        assert row[f"{name}:{UNANSWERED[0]}"] == "0"
        assert row[f"{name}:{TEST[0]}"] == f"{TEST[1]:g}"
    assert float(row["pending_points"]) == len(NOTEBOOKS) * ANSWERED[1]
    assert float(row["score"]) == len(NOTEBOOKS) * TEST[1]  # pending points are not in the score
    assert float(row["max_score"]) == len(NOTEBOOKS) * (ANSWERED[1] + UNANSWERED[1] + TEST[1])
    assert row["needs_manual_grading"] == "yes"


def test_the_csv_has_its_own_name_and_is_ignored_by_git(course):
    assert CSV_NAME != "grades.csv"  # `nbgrader export` writes grades.csv in the course folder
    assert not (course / "grades.csv").exists()
    for name in (CSV_NAME, "grades.csv"):
        ignored = subprocess.run(["git", "check-ignore", "-q", f"grading/{name}"], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"grading/{name} is not ignored by git"


def test_the_index_page_counts_pending_points_apart_from_the_score(course):
    text = (pages(course) / "index.html").read_text(encoding="utf-8")
    total = len(NOTEBOOKS) * TEST[1]
    maximum = len(NOTEBOOKS) * (ANSWERED[1] + UNANSWERED[1] + TEST[1])
    assert f"Score: {total} / {maximum}, {len(NOTEBOOKS) * ANSWERED[1]} points pending" in text
    for name in NOTEBOOKS:
        assert f'<a href="{name}.html">{name}</a></td><td>{TEST[1]} / {ANSWERED[1] + UNANSWERED[1] + TEST[1]}, ' \
               f'{ANSWERED[1]} point pending' in text


def test_a_notebook_page_shows_pending_for_the_answer_and_0_with_no_response_for_the_empty_one(course):
    text = (pages(course) / "knn.html").read_text(encoding="utf-8")
    assert re.search(r"<h4>knn \(Score: 3\.0 / 6\.0, 1\.0 point pending\)</h4>", text)
    assert "Written response</a> (Score: pending / 1.0)" in text
    assert "Written response</a> (Score: 0.0 / 2.0)" in text
    assert re.findall(r"Score: (\S+ / \S+) <a href=\"#top\">", text) == ["pending / 1.0", "0.0 / 2.0", "3.0 / 3.0"]
    assert "No response." in text


def test_feedback_pages_load_only_files_that_lie_beside_them(course):
    folder = pages(course)
    for page in folder.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        sources = re.findall(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)", text)
        assert not [s for s in sources if re.match(r"[a-z]+:|//", s, re.I)], page
        for source in sources:
            assert (folder / source).is_file(), f"{page.name} loads {source}, which is not beside it"
    assert "mathjax/tex-svg-full.js" in (folder / "knn.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ in a browser

@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


def guarded_context(browser, allowed: tuple[str, ...]):
    """A browser context whose requests outside ``allowed`` (URL prefixes) are refused, and their list."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    refused: list[str] = []

    def guard(route):
        if route.request.url.startswith(allowed + ("data:", "blob:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context, refused


@pytest.mark.slow
@needs_chromium
@needs_playwright
def test_a_feedback_page_renders_its_maths_from_the_file_system_with_no_network(course, browser):
    page_path = pages(course) / "knn.html"
    context, refused = guarded_context(browser, ("file://",))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(error.message))
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    page.goto(page_path.as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                           timeout=PAGE_TIMEOUT_MS)
    page.evaluate("() => MathJax.startup.promise")
    assert page.locator("mjx-container[jax='SVG'] svg").count() == FORMULAS
    assert page.locator("mjx-merror").count() == 0
    assert page.locator("mjx-container[display='true']").count() == 1
    assert (page_path.parent / "mathjax" / "tex-svg-full.js").as_uri() in loaded
    context.close()
    assert refused == [], "the page asked for something off this machine"
    assert errors == []


@pytest.fixture
def jupyterlab(course, tmp_path):
    """JupyterLab on a copy of the course, on 127.0.0.1 only: ``(url, token, course copy)``.

    The copy lets the test grade without changing what the other tests read. Every Jupyter folder is in
    ``tmp_path``, so no user setting changes the run.
    """
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    GradingStore(copy, course.parent / "source-course").open()  # the copy is a grading folder of its own
    state = tmp_path / "jupyter"
    folders = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
               "IPYTHONDIR": "ipython", "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
               "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces"}
    for folder in folders.values():
        (state / folder).mkdir(parents=True)
    settings = state / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps(NOTIFICATION_SETTINGS), encoding="utf-8")
    env = tool_env({name: str(state / folder) for name, folder in folders.items()})
    token = secrets.token_hex(24)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={copy}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={state / 'lab-settings'}",
               f"--LabApp.workspaces_dir={state / 'lab-workspaces'}"]
    if os.geteuid() == 0:  # containers and CI often run as root, which the server refuses without this
        command.append("--allow-root")
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=copy, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                api_get(url, token, "/formgrader/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_SECONDS} s:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield url, token, copy
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def api_get(url: str, token: str, path: str):
    request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
@needs_chromium
@needs_playwright
def test_formgrader_as_the_guide_says_renders_maths_offline_and_a_typed_score_ends_pending(jupyterlab, browser):
    """Section 4 of the instructor's guide, step by step in the real interface, with no network."""
    url, token, course = jupyterlab
    context, refused = guarded_context(browser, (url + "/",))
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(error.message))
    page.goto(f"{url}/lab?token={token}")

    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel:visible", has_text=re.compile(r"^Formgrader$")).click()
    formgrader = page.frame_locator("iframe[src*='/formgrader']")
    sidebar = formgrader.locator(".nav-stacked")
    expect(sidebar.get_by_role("link")).to_have_text(["Manage Assignments", "Manual Grading", "Manage Students"])

    # Where the Autograde button is that the guide warns about.
    formgrader.get_by_role("row", name=re.compile(ASSIGNMENT)).get_by_role("link", name="1", exact=True).click()
    expect(formgrader.get_by_role("heading", name="Manage Submissions")).to_be_visible()
    expect(formgrader.get_by_role("columnheader", name="Autograde")).to_be_visible()

    sidebar.get_by_role("link", name="Manual Grading").click()
    formgrader.get_by_role("link", name=ASSIGNMENT, exact=True).click()
    expect(formgrader.get_by_role("columnheader", name="Needs Manual Grade?")).to_be_visible()
    knn = formgrader.get_by_role("row").filter(has=formgrader.get_by_role("link", name="knn", exact=True))
    expect(knn.locator(".needs-manual-grade .glyphicon-ok")).to_be_visible()
    knn.get_by_role("link", name="knn", exact=True).click()
    expect(formgrader.get_by_role("button", name="Show All Names")).to_be_visible()
    formgrader.get_by_role("link", name="Submission #1").click()

    # The submission page: maths typeset by the MathJax that this server serves, nothing from a CDN.
    expect(formgrader.locator("span.MathJax")).to_have_count(FORMULAS)
    expect(formgrader.locator(".MathJax_Error")).to_have_count(0)
    expect(formgrader.get_by_role("link", name="Next →")).to_be_visible()
    expect(formgrader.get_by_role("link", name="← Prev")).to_be_visible()
    answer = formgrader.locator(".nbgrader_cell", has=formgrader.locator(f"input.score#{ANSWERED[0]}"))
    expect(answer.locator(".panel-heading")).to_contain_text("Student's answer")
    expect(answer.get_by_role("button", name="Full credit")).to_be_visible()
    expect(answer.get_by_role("button", name="No credit")).to_be_visible()
    # The question left as released already scored 0 with "No response.": formgrader shows both as hints.
    expect(formgrader.locator(f"input.score#{UNANSWERED[0]}")).to_have_attribute("placeholder", "0")
    expect(formgrader.locator(f"#{UNANSWERED[0]}-comment")).to_have_attribute("placeholder", "No response.")

    formgrader.locator(f"#{ANSWERED[0]}-comment").fill("Right: the square grows faster.")
    formgrader.locator(f"input.score#{ANSWERED[0]}").fill("1")
    formgrader.locator(f"input.score#{ANSWERED[0]}").press("Tab")
    submission = next(s for s in api_get(url, token, f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/knn")
                      if s["student"] == STUDENT)
    deadline = time.monotonic() + 10
    while True:
        grade = next(g for g in api_get(url, token, f"/formgrader/api/grades?submission_id={submission['id']}")
                     if g["name"] == ANSWERED[0])
        if grade["manual_score"] == 1 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)  # not time.sleep: the route guard runs only while Playwright has control
    assert grade["manual_score"] == 1 and not grade["needs_manual_grade"]
    context.close()
    assert refused == [], "a page asked for something off this machine"
    assert errors == []

    assert feedback.main(["--out", str(course), "--student", STUDENT, "--jobs", "1"]) == 0
    row = csv_row(course)
    assert row[f"knn:{ANSWERED[0]}"] == "1" and row[f"svm:{ANSWERED[0]}"] == "pending"
    assert float(row["pending_points"]) == (len(NOTEBOOKS) - 1) * ANSWERED[1]
    text = (pages(course) / "knn.html").read_text(encoding="utf-8")
    assert "Written response</a> (Score: 1.0 / 1.0)" in text and "pending" not in text
    assert "Right: the square grows faster." in text
