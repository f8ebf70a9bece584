"""The students' setup opens the release in Notebook 7 and JupyterLab 4 without nbgrader's instructor tools.

Students install the archive's ``requirements.txt`` (``solutions/student/requirements.txt``), which does
not bring nbgrader: that is what keeps its menu (Formgrader, Create assignment, Assignment List), its
*Create Assignment* panel, its *Validate* button, its server pages and its warning about a missing exchange
folder away from them. The test builds that environment offline (``student_env``: only the distributions
those requirements pull in, linked from the project's environment), serves the release from it on
127.0.0.1 and opens it in Debian's chromium driven by Playwright, like a student: the home page and
``assignment1/knn.ipynb``, whose kernel starts in the student environment and runs the first cells.

Control: the same pages served from the project's own environment, where nbgrader is installed, show each
of those elements, so their absence in the student setup is not an artefact of looking too early.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

import student_env
import test_open_in_jupyter_uis as uis
from bench.notebook_bundle import make_bundle

# The browser and the page (route guard, page errors) are the release notebook's browser test's, applied
# to the server fixture below.
from test_open_in_jupyter_uis import browser, page  # noqa: F401

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

NBGRADER_UI = {
    "the Nbgrader menu": '.lm-MenuBar-itemLabel:text-is("Nbgrader")',
    "the Validate button": ".validate-button",
    "the Create Assignment panel": '.lm-TabBar-tab[data-id^="nbgrader"]',
}
HOME_URLS = {"notebook7": "/tree", "jupyterlab4": "/lab"}
# What nbgrader shows where it is installed: the menu everywhere; on the notebook page the Validate button,
# and in JupyterLab the Create Assignment panel.
EXPECTED_WITH_NBGRADER = {
    "notebook7": {"the Nbgrader menu", "the Validate button"},
    "jupyterlab4": {"the Nbgrader menu", "the Validate button", "the Create Assignment panel"},
}
CASES = [("student", "notebook7"), ("student", "jupyterlab4"), ("instructor", "notebook7"),
         ("instructor", "jupyterlab4")]


@pytest.fixture(scope="module")
def student_python(tmp_path_factory) -> Path:
    distributions = student_env.closure(student_env.read_requirements())
    return student_env.build_env(tmp_path_factory.mktemp("student") / "venv", distributions)


@pytest.fixture
def jupyter_server(request, tmp_path, small_cifar_dir, student_python):
    """A local Jupyter server of ``request.param`` = (environment, front end) on the student release.

    Started like the release notebook's browser test starts its server (same launcher, settings and
    guards), with the environment's Python. Fails the test if the server tried to reach another host.
    """
    environment, front_end_name = request.param
    python = student_python if environment == "student" else Path(sys.executable)
    front_end = uis.FRONT_ENDS[front_end_name]
    root = make_bundle(tmp_path / "bundle", notebooks_dir=uis.RELEASE_DIR, reference=False).parent
    state = tmp_path / "jupyter"
    env = uis.server_env(small_cifar_dir, state)
    settings_file = state / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(json.dumps(uis.NOTIFICATION_SETTINGS), encoding="utf-8")
    token = secrets.token_hex(24)
    log_path, refused_path = tmp_path / "server.log", tmp_path / "refused-requests.log"
    command = uis.server_command(front_end, root, state, token, refused_path)
    command[0] = str(python)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        url = uis.wait_until_ready(process, state / "runtime", token, log_path)
        server = uis.JupyterServer(front_end, root, url, token, log_path, refused_path)
        server.environment, server.front_end_name, server.python, server.process = (
            environment, front_end_name, python, process)
        yield server
    finally:
        uis.stop(process)
    assert server.refused() == [], "the Jupyter server tried to reach other hosts (refused)"


def nbgrader_elements(page) -> set[str]:
    return {name for name, selector in NBGRADER_UI.items() if page.locator(selector).count() > 0}


def status_of(server, path: str) -> int:
    request = urllib.request.Request(f"{server.url}{path}", headers={"Authorization": f"token {server.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def kernel_pythons(server) -> list[str]:
    """The interpreters of the kernels the server started."""
    children = psutil.Process(server.process.pid).children(recursive=True)
    return [child.cmdline()[0] for child in children if "ipykernel_launcher" in " ".join(child.cmdline())]


@pytest.mark.slow
@uis.needs_chromium
@uis.needs_playwright
@pytest.mark.parametrize("jupyter_server", CASES, ids=["-".join(case) for case in CASES], indirect=True)
def test_the_front_ends_show_nbgrader_only_where_it_is_installed(jupyter_server, page):
    server, front_end = jupyter_server, jupyter_server.front_end
    student = server.environment == "student"
    expected = set() if student else EXPECTED_WITH_NBGRADER[server.front_end_name]

    page.goto(f"{server.url}{HOME_URLS[server.front_end_name]}?token={server.token}")
    expect(page.locator(".lm-MenuBar-itemLabel", has_text="Help")).to_be_visible(timeout=uis.KERNEL_TIMEOUT_MS)
    home = nbgrader_elements(page)

    page.goto(f"{server.url}{front_end.notebook_url}?token={server.token}")
    title = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown h1", has_text=uis.TITLE)
    expect(title).to_be_visible(timeout=uis.KERNEL_TIMEOUT_MS)
    uis.wait_for_idle_kernel(page, server, "assignment1/knn.ipynb")
    expect(page.locator(".jp-NotebookPanel-toolbar").first).to_be_visible()
    notebook = nbgrader_elements(page)
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    lab_extensions = {extension["name"] for extension in config.get("federated_extensions", [])}

    assert notebook == expected
    assert ("the Nbgrader menu" in home) is not student
    assert ("@jupyter/nbgrader" in lab_extensions) is not student
    assert (status_of(server, "/formgrader") == 404) is student

    if student:
        assert kernel_pythons(server) and all(p == str(server.python) for p in kernel_pythons(server))
        setup = uis.code_cell(page, "def find_bundle_root")
        loading = uis.code_cell(page, "load_CIFAR10(default_cifar10_dir()")
        uis.run_like_a_student(page, setup)
        uis.run_like_a_student(page, loading)
        uis.assert_no_error_shown(page, [setup, loading])
        expect(setup.locator(".jp-OutputArea-output")).to_contain_text(f"cs231n package from {server.root.resolve()}")
        expect(loading.locator(".jp-OutputArea-output")).to_contain_text("Training data: (")
        log = server.log_path.read_text(encoding="utf-8", errors="replace").lower()
        assert "nbgrader" not in log and "exchange" not in log, server.log_tail()
