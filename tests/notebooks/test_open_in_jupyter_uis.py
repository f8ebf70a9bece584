"""The released notebooks open and run in the real Jupyter front ends: Notebook 7 and JupyterLab 4.

A bundle is built from the student release (``assignment1/``) with the reference classifiers, a Jupyter
server is started on it (``python -m notebook`` or ``python -m jupyterlab``, which is what ``jupyter
notebook`` and ``jupyter lab`` run), and headless Chromium opens ``assignment1/knn.ipynb`` like a student:
the notebook renders, its kernel starts, and the setup cell and the data-loading cell run with Shift+Enter
and print what they should, without an error.

Nothing may leave the machine. The page's requests go through a route guard (as in the demo's browser
test), and the server runs under an audit hook that refuses, and records, any DNS lookup of or
connection to another host: JupyterLab's news feed and update check are fetched by the *server*, out of
the page's sight. They are turned off the proper way (``LabApp.news_url=None``, ``NeverCheckForUpdate``
and the ``fetchNews``/``checkForUpdates`` user settings), and the guards prove that they stay off.

The metadata that VS Code and both front ends read to pick the kernel is checked without a browser.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
from bench.notebook_bundle import NOTEBOOKS, REPO_ROOT, kernel_env, make_bundle

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the metadata test below needs no browser, so only the browser test skips
    sync_playwright = None

RELEASE_DIR = REPO_ROOT / "assignment1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TITLE = "k-Nearest Neighbor (kNN) on CIFAR-10"
SERVER_START_SECONDS = 60
# Kernel start and the first run import numpy and matplotlib: seconds alone, much longer on the 2 cores of
# CI while other tests run beside this one.
KERNEL_TIMEOUT_MS = 60_000
PAGE_TIMEOUT_MS = 30_000
RUN_PROMPT = re.compile(r"^\s*\[\d+\]:\s*$")  # "[3]:" once run; "[ ]:" before and "[*]:" while running
# Both front ends render an exception's traceback, like anything a cell writes to stderr, with this MIME type.
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ERROR_TEXT = re.compile(r"Traceback|\w+Error\b")

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: the browser tests need "
                                    "Debian's chromium package (`make browser` installs it where apt-get and root "
                                    "are available)")
needs_playwright = pytest.mark.skipif(sync_playwright is None, reason="the Python package playwright is not "
                                      "installed (pip install -r requirements.txt)")


@dataclass(frozen=True)
class FrontEnd:
    """One Jupyter front end: the module that starts its server, its notebook URL, name and major version.

    ``known_page_errors`` are uncaught page errors of the front end itself that do not affect the notebook;
    any other page error fails the test.
    """

    module: str
    notebook_url: str
    app_name: str
    major_version: str
    known_page_errors: tuple[str, ...] = ()


FRONT_ENDS = {
    # Notebook 7.6.5 throws this on every page load, with or without this project's settings or extensions:
    # its keyboard-shortcut settings handler reads the schema of a plugin it has not loaded yet, right
    # after the page fetches the settings of @jupyterlab/notebook-extension:panel. Nothing visible breaks.
    "notebook7": FrontEnd("notebook", "/notebooks/assignment1/knn.ipynb", "Jupyter Notebook", "7",
                          known_page_errors=("Cannot read properties of undefined (reading 'schema')",)),
    "jupyterlab4": FrontEnd("jupyterlab", "/lab/tree/assignment1/knn.ipynb", "JupyterLab", "4"),
}

# The server runs under this launcher. Its audit hook refuses, and appends to a log, every DNS lookup of
# and connection to a host that is not this machine; then the front end's module runs as ``python -m``
# would run it. Kernels are separate processes and are not hooked: the notebook cells run here need no
# network, and their outputs are checked anyway.
SERVER_LAUNCHER = r'''
import ipaddress, runpy, sys

log_path, module = sys.argv[1], sys.argv[2]
del sys.argv[1:3]


def _is_local(host):
    if host in (None, "", b"", "localhost", b"localhost"):
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _guard(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname"):
        host = args[0]
    elif event in ("socket.connect", "socket.sendto") and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if not _is_local(host):
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{event} {host!r}\n")
        raise ConnectionRefusedError(f"refused by the test: {host!r} is not this machine")


sys.addaudithook(_guard)
runpy.run_module(module, run_name="__main__", alter_sys=True)
'''

# Lab user settings: never fetch the news and never check for updates. With ``fetchNews`` left at its
# default ("ask") a toast asks the student, and ``checkForUpdates`` (default true) makes the server ask
# pypi.org for the newest JupyterLab as soon as news are answered.
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


@dataclass
class JupyterServer:
    """A running Jupyter server: what it serves, where, its log and its record of refused requests."""

    front_end: FrontEnd
    root: Path
    url: str
    token: str
    log_path: Path
    refused_path: Path

    def get(self, path: str) -> dict:
        """GET ``path`` of the REST API with the token; the decoded JSON."""
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def refused(self) -> list[str]:
        if not self.refused_path.exists():
            return []
        return self.refused_path.read_text(encoding="utf-8").splitlines()


def server_command(front_end: FrontEnd, root: Path, state: Path, token: str, refused_path: Path) -> list[str]:
    """The command line of a local-only server for ``front_end`` serving ``root``; its state under ``state``."""
    settings, workspaces = state / "lab-settings", state / "lab-workspaces"
    command = [
        sys.executable, "-c", SERVER_LAUNCHER, str(refused_path), front_end.module,
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",  # the system picks a free port; the server writes it to its runtime file
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        # Both apps load each other's server extension, so the Lab settings apply under Notebook 7 too.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={workspaces}",
        f"--JupyterNotebookApp.user_settings_dir={settings}",
        f"--JupyterNotebookApp.workspaces_dir={workspaces}",
    ]
    if os.geteuid() == 0:  # containers and CI often run as root, which the server refuses without this
        command.append("--allow-root")
    return command


def server_env(cifar10_dir: Path, state: Path) -> dict[str, str]:
    """The kernel environment (kernels inherit the server's), with every Jupyter and IPython folder in ``state``.

    Nothing is read from or written to the home directory: no user configuration changes the run, and no
    runtime file, notebook-trust database, lab setting or IPython history is left behind.
    """
    env = kernel_env(cifar10_dir, quick=True)
    folders = {
        "JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython", "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
    }
    for name, folder in folders.items():
        (state / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(state / folder)
    return env


def wait_until_ready(process: subprocess.Popen, runtime: Path, token: str, log_path: Path) -> str:
    """The server's URL once ``/api/status`` answers; fails when the process dies or the deadline passes."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Jupyter server exited with {process.returncode}:\n{log_path.read_text()}")
        if url is None:
            info_files = list(runtime.glob(f"jpserver-{process.pid}.json"))
            if info_files:
                try:
                    url = f"http://127.0.0.1:{json.loads(info_files[0].read_text())['port']}"
                except (ValueError, KeyError):  # the file is being written
                    pass
        if url is not None:
            request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.2)
    pytest.fail(f"the Jupyter server did not answer within {SERVER_START_SECONDS} s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and every process it started (its kernels), gently first, then by force."""
    import psutil  # a dependency of ipykernel, so present wherever the server runs

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        child.kill()
    psutil.wait_procs(alive, timeout=5)


@pytest.fixture
def jupyter_server(request, tmp_path, small_cifar_dir):
    """A Jupyter server of the front end ``request.param`` on a release bundle with the reference solutions.

    After the test the server and its kernels are stopped, and the test fails if the server tried to
    reach another host.
    """
    front_end = FRONT_ENDS[request.param]
    root = make_bundle(tmp_path / "bundle", notebooks_dir=RELEASE_DIR, reference=True).parent
    state = tmp_path / "jupyter"
    env = server_env(small_cifar_dir, state)
    settings_file = state / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(json.dumps(NOTIFICATION_SETTINGS), encoding="utf-8")
    token = secrets.token_hex(24)
    log_path, refused_path = tmp_path / "server.log", tmp_path / "refused-requests.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(server_command(front_end, root, state, token, refused_path), cwd=root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = wait_until_ready(process, state / "runtime", token, log_path)
        server = JupyterServer(front_end, root, url, token, log_path, refused_path)
        yield server
    finally:
        stop(process)
    assert server.refused() == [], "the Jupyter server tried to reach other hosts (refused)"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, jupyter_server):
    """A fresh page whose page errors (but the front end's known ones) and any request off the server's
    origin fail the test."""
    known_errors = jupyter_server.front_end.known_page_errors
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    problems = []

    def guard(route):
        url = route.request.url
        if url.startswith((jupyter_server.url + "/", "data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"request off the machine: {url}")
            route.abort()

    def check_websocket(websocket):
        if not websocket.url.startswith(jupyter_server.url.replace("http://", "ws://", 1) + "/"):
            problems.append(f"websocket off the machine: {websocket.url}")

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.on("websocket", check_websocket)
    page.on("pageerror", lambda error: None if error.message in known_errors else problems.append(
        f"page error: {error.message}"))
    yield page
    context.close()
    assert problems == [], "the page reported problems"


def kernel_state(server: JupyterServer, path: str) -> tuple[str | None, int]:
    """``(execution_state, connections)`` of the kernel of the session on ``path``; ``(None, 0)`` if none."""
    for session in server.get("/api/sessions"):
        if session.get("path") == path and session.get("kernel"):
            kernel = session["kernel"]
            return kernel.get("execution_state"), kernel.get("connections", 0)
    return None, 0


def wait_for_idle_kernel(page, server: JupyterServer, path: str) -> None:
    """Wait until the server has an idle kernel for ``path`` with the page connected to it, then until the
    page shows it idle (the page's indicator alone reads "idle" before any kernel exists)."""
    deadline = time.monotonic() + KERNEL_TIMEOUT_MS / 1000
    state = (None, 0)
    while time.monotonic() < deadline:
        state = kernel_state(server, path)
        if state[0] == "idle" and state[1] > 0:
            break
        # Not time.sleep: the route guard's handler runs only while Playwright has control, so sleeping
        # here would hold the page's requests (the one that starts the kernel among them) until timeout.
        page.wait_for_timeout(200)
    else:
        pytest.fail(f"no idle kernel for {path} with the page connected: {state}\n{server.log_tail()}")
    expect(page.locator(".jp-Notebook-ExecutionIndicator").first).to_have_attribute("data-status", "idle")


def code_cell(page, text: str):
    """The code cell whose source contains ``text``."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea-editor", has_text=text))


def run_like_a_student(page, cell) -> None:
    """Click into ``cell``, press Shift+Enter, and wait until it has run (its prompt shows a number)."""
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(RUN_PROMPT, timeout=KERNEL_TIMEOUT_MS)


def assert_no_error_shown(page, cells) -> None:
    """No error output in ``cells``, no error dialog and no error notification on the page.

    Other stderr output is allowed: on a machine where matplotlib never ran, its first import tells on
    stderr that it builds its font cache.
    """
    for cell in cells:
        errors = [text for text in cell.locator(STDERR_OUTPUT).all_inner_texts() if ERROR_TEXT.search(text)]
        assert errors == [], "the cell shows an error:\n" + "\n".join(errors)
    dialogs = page.locator(".jp-Dialog")
    assert dialogs.count() == 0, f"the page shows a dialog: {dialogs.all_inner_texts()}"
    toasts = page.locator(".Toastify__toast--error")
    assert toasts.count() == 0, f"the page shows an error notification: {toasts.all_inner_texts()}"
    # JupyterLab asks whether to fetch the news unless the user settings answer it: their "never" reached
    # the front end.
    news_prompt = page.locator(".Toastify__toast", has_text="official Jupyter news")
    assert news_prompt.count() == 0, "the page asks about the news: the notification settings were not applied"


@pytest.mark.slow
@needs_chromium
@needs_playwright
@pytest.mark.parametrize("jupyter_server", list(FRONT_ENDS), indirect=True)
def test_release_notebook_opens_and_runs_in_the_front_end(jupyter_server, page, small_cifar_dir):
    """knn.ipynb of the release renders, gets an idle kernel, and runs its setup and loading cells.

    The expected lines are computed here from the same small data set the kernel reads through
    ``CIFAR10_DIR``, so the test also proves that the environment reaches the kernel.
    """
    from cs231n.data_utils import load_CIFAR10

    server, front_end = jupyter_server, jupyter_server.front_end
    X_train, _, X_test, _ = load_CIFAR10(small_cifar_dir, dtype=np.uint8)
    training_line = f"Training data: {X_train.shape} {X_train.dtype}"
    test_line = f"Test data: {X_test.shape} {X_test.dtype}"  # the page's text has its spaces collapsed
    setup_line = f"cs231n package from {server.root.resolve() / 'cs231n'} (quick mode: small data and searches)"

    page.goto(f"{server.url}{front_end.notebook_url}?token={server.token}")

    # The page is the front end named in the test: a newer major version should be a conscious update.
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    assert config["appName"] == front_end.app_name
    assert config["appVersion"].split(".")[0] == front_end.major_version, config["appVersion"]

    title = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown h1", has_text=TITLE)
    expect(title).to_be_visible(timeout=KERNEL_TIMEOUT_MS)  # the first page load is slow on a busy machine
    wait_for_idle_kernel(page, server, "assignment1/knn.ipynb")

    setup = code_cell(page, "def find_bundle_root")
    loading = code_cell(page, "load_CIFAR10(default_cifar10_dir(), dtype=np.uint8)")
    expect(setup).to_have_count(1)
    expect(loading).to_have_count(1)

    run_like_a_student(page, setup)
    assert_no_error_shown(page, [setup])
    expect(setup.locator(".jp-OutputArea-output")).to_contain_text(setup_line)

    run_like_a_student(page, loading)
    assert_no_error_shown(page, [setup, loading])
    printed = loading.locator(".jp-OutputArea-output")
    expect(printed).to_contain_text(training_line)
    expect(printed).to_contain_text(test_line)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_notebook_names_the_python3_kernel_the_front_ends_pick(name):
    """The metadata VS Code, Notebook 7 and JupyterLab read to choose a kernel, on a valid notebook.

    ``kernelspec.name`` must be a kernel installed beside Jupyter (``python3``, which ipykernel provides),
    or the front ends ask the student to pick one.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    notebook = nbformat.read(RELEASE_DIR / f"{name}.ipynb", as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    kernelspec = notebook.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3" and kernelspec.get("language") == "python", kernelspec
    assert kernelspec.get("display_name"), "the front ends show display_name in the kernel picker"
    assert notebook.metadata.get("language_info", {}).get("name") == "python"
    assert KernelSpecManager().get_kernel_spec("python3").language == "python"


def test_server_guard_refuses_and_records_a_lookup_off_the_machine(tmp_path):
    """The server's audit hook is not vacuous: a lookup of another host is refused and recorded, while a
    lookup of this machine goes through."""
    (tmp_path / "reach_out.py").write_text(
        "import socket\n"
        "socket.getaddrinfo('127.0.0.1', 80)\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "except ConnectionRefusedError:\n"
        "    print('refused')\n",
        encoding="utf-8")
    refused_path = tmp_path / "refused.log"
    result = subprocess.run([sys.executable, "-c", SERVER_LAUNCHER, str(refused_path), "reach_out"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"
    assert refused_path.read_text(encoding="utf-8").splitlines() == ["socket.getaddrinfo 'pypi.org'"]
