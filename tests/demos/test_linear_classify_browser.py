"""The linear-classify web demo end to end in headless Chromium, served from 127.0.0.1 and from file://.

Numbers on the page are read from the ``data-value`` attributes (full precision) beside the rounded text,
and compared with the NumPy reference; region colours are read from real screenshots.
"""

from __future__ import annotations

import functools
import http.server
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from linear_classify_reference import (GOLDEN_DATA_LOSS, INITIAL_B, INITIAL_W, LOSS_TYPES, POINTS_X, POINTS_Y,
                                       reference)
from instructor.course import REPO_ROOT

DEMO_DIR = REPO_ROOT / "demos" / "linear-classify"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: the browser tests need Debian's "
                       "chromium package (`make browser` installs it where apt-get and root are available)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed "
                               "(pip install -r requirements.txt)")
expect = sync_api.expect


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is the base class's
        pass


@pytest.fixture(scope="module")
def server_url():
    """The demo folder served over HTTP on 127.0.0.1 (an ephemeral port) for the module's tests."""
    handler = functools.partial(QuietHandler, directory=str(DEMO_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page whose console errors, page errors and any request off the machine fail the test."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, device_scale_factor=1)
    problems = []

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "file://", "data:")):
            route.continue_()
        else:
            problems.append(f"request off the machine: {url}")
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.problems = problems
    yield page
    context.close()
    assert problems == [], "the page reported problems"


# ---- reading the page -------------------------------------------------------------------------------

def open_demo(page, url, fragment=""):
    page.goto(url + fragment)
    expect(page.locator("#points-table tbody tr").first).to_be_visible()


SNAPSHOT_JS = """() => {
    const value = (el) => Number(el.dataset.value);
    const cell = (name, part) => value(document.querySelector(`#param-grid td[data-param='${name}'] .${part}`));
    const grid = (part) => ({W: [0, 1, 2].map(k => [cell(`W${k}0`, part), cell(`W${k}1`, part)]),
                             b: [0, 1, 2].map(k => cell(`b${k}`, part))});
    const rows = Array.from(document.querySelectorAll('#points-table tbody tr'));
    return {
        params: grid('value'), grads: grid('grad'),
        rows: rows.map(r => ({
            x: value(r.querySelector('.x')), y: value(r.querySelector('.y')),
            label: Number(r.querySelector('.label').textContent),
            scores: [0, 1, 2].map(k => value(r.querySelector('.s' + k))),
            loss: value(r.querySelector('.loss-value')),
            zero: r.querySelector('.zero-mark').textContent.trim() !== '' && r.classList.contains('zero-loss')})),
        summary: Object.fromEntries(['data-loss', 'reg-loss', 'total-loss'].map(
            id => [id, value(document.getElementById(id))])),
        iteration: Number(document.getElementById('iteration').textContent),
    };
}"""


def snapshot(page):
    """Everything the page shows, read in one round trip.

    Returns a dict: W (3, 2), b (3,), dW (3, 2), db (3,) of float64; X (N, 2), labels (N,), scores (N, 3),
    losses (N,), zero (N,) of bool; summary {data-loss, reg-loss, total-loss}; iteration.
    """
    raw = page.evaluate(SNAPSHOT_JS)
    rows = raw["rows"]
    return {
        "W": np.array(raw["params"]["W"]), "b": np.array(raw["params"]["b"]),
        "dW": np.array(raw["grads"]["W"]), "db": np.array(raw["grads"]["b"]),
        "X": np.array([[row["x"], row["y"]] for row in rows]).reshape(-1, 2),
        "y": np.array([row["label"] for row in rows], dtype=int),
        "scores": np.array([row["scores"] for row in rows]).reshape(-1, 3),
        "losses": np.array([row["loss"] for row in rows]),
        "zero": np.array([row["zero"] for row in rows], dtype=bool),
        "summary": raw["summary"],
        "iteration": raw["iteration"],
    }


def parameters(page):
    """(W (3, 2), b (3,)) as the grid shows them."""
    shown = snapshot(page)
    return shown["W"], shown["b"]


def summary(page):
    return snapshot(page)["summary"]


def iteration(page):
    return snapshot(page)["iteration"]


def assert_page_matches_reference(page, loss_type, reg=0.1):
    """Every number on the page equals the NumPy reference for the page's own parameters and points."""
    shown = snapshot(page)
    ref = reference(shown["W"], shown["b"], shown["X"], shown["y"], loss_type, reg)
    np.testing.assert_allclose(shown["scores"], ref["scores"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(shown["losses"], ref["losses"], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(shown["zero"], ref["losses"] == 0)
    totals = shown["summary"]
    assert totals["data-loss"] == pytest.approx(ref["data_loss"], rel=1e-12)
    assert totals["reg-loss"] == pytest.approx(ref["reg_loss"], rel=1e-12)
    assert totals["total-loss"] == pytest.approx(ref["total"], rel=1e-12)
    np.testing.assert_allclose(shown["dW"], ref["dW"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(shown["db"], ref["db"], rtol=1e-12, atol=1e-12)
    return ref


def plane_geometry(page):
    """Page coordinates of the plane's top-left content pixel, its CSS size and the half-width it shows."""
    return page.eval_on_selector("#plane", """c => {
        const r = c.getBoundingClientRect();
        return {left: r.left + c.clientLeft, top: r.top + c.clientTop, size: c.clientWidth,
                extent: Number(c.dataset.extent)};
    }""")


def world_to_page(geometry, x, y):
    scale = geometry["size"] / (2 * geometry["extent"])
    return geometry["left"] + (x + geometry["extent"]) * scale, geometry["top"] + (geometry["extent"] - y) * scale


# ---- tests ------------------------------------------------------------------------------------------

def test_served_page_shows_nine_points_and_the_golden_losses(page, server_url):
    open_demo(page, server_url)
    expect(page.locator("#points-table tbody tr")).to_have_count(9)
    assert page.inner_text("#data-loss") == "2.7667"
    assert page.inner_text("#reg-loss") == "3.5000"
    assert page.inner_text("#total-loss") == "6.2667"
    W, b = parameters(page)
    np.testing.assert_array_equal(W, INITIAL_W)
    np.testing.assert_array_equal(b, INITIAL_B)
    shown = snapshot(page)
    np.testing.assert_array_equal(shown["X"], POINTS_X)
    np.testing.assert_array_equal(shown["y"], POINTS_Y)
    ref = assert_page_matches_reference(page, "ww")
    assert shown["zero"].sum() == (ref["losses"] == 0).sum() >= 1  # the initial set has a zero-loss point
    assert page.inner_text("#iteration") == "0"
    assert "Weston" in page.inner_text("#formula-title")
    # The whole state is in the address as soon as the page opens.
    assert "W=1,2,2,-4,3,-1" in page.url and "loss=ww" in page.url and "pts=0.5,0.4,0;" in page.url


def test_switching_the_loss_type_updates_every_row_and_the_formula(page, server_url):
    open_demo(page, server_url)
    previous = snapshot(page)["losses"]
    for loss_type in ["softmax", "ova", "structured", "ww"]:
        page.select_option("#loss-type", loss_type)
        ref = assert_page_matches_reference(page, loss_type)
        assert page.inner_text("#data-loss") == f"{GOLDEN_DATA_LOSS[loss_type]:.4f}"
        assert page.inner_text("#reg-loss") == "3.5000"
        visible = page.eval_on_selector_all("#formula [data-loss]", "els => els.filter(e => !e.hidden)"
                                            ".map(e => e.dataset.loss)")
        assert visible == [loss_type]
        assert f"loss={loss_type}" in page.url
        current = snapshot(page)["losses"]
        if loss_type == "softmax":
            # Softmax losses are never 0 and differ from every hinge loss here: each row must have changed.
            assert np.all(current != previous)
        np.testing.assert_allclose(current, ref["losses"])
        previous = current


def test_single_update_steps_against_the_gradient_and_lowers_the_total_loss(page, server_url):
    open_demo(page, server_url)
    before = snapshot(page)
    page.click("#single-step")
    expect(page.locator("#iteration")).to_have_text("1")
    after = snapshot(page)
    np.testing.assert_allclose(after["W"], before["W"] - 0.1 * before["dW"], rtol=1e-15)
    np.testing.assert_allclose(after["b"], before["b"] - 0.1 * before["db"], rtol=1e-15)
    assert after["summary"]["total-loss"] < before["summary"]["total-loss"]
    assert_page_matches_reference(page, "ww")


@pytest.mark.parametrize(("param", "button", "delta"), [("W10", "nudge-up", 0.1), ("b2", "nudge-down", -0.1)])
def test_a_nudge_changes_exactly_one_parameter(page, server_url, param, button, delta):
    open_demo(page, server_url)
    W, b = parameters(page)
    before = np.concatenate([W.ravel(), b])  # (9,): W row-major, then b
    page.click(f"#param-grid td[data-param='{param}'] button.{button}")
    W_after, b_after = parameters(page)
    after = np.concatenate([W_after.ravel(), b_after])
    changed = np.flatnonzero(after != before)
    index = int(param[1]) * 2 + int(param[2]) if param[0] == "W" else 6 + int(param[1])
    assert changed.tolist() == [index]
    assert after[index] - before[index] == pytest.approx(delta, abs=1e-12)
    assert_page_matches_reference(page, "ww")
    assert iteration(page) == 0


def test_start_increases_the_iteration_counter_and_stop_freezes_it(page, server_url):
    open_demo(page, server_url)
    first_total = summary(page)["total-loss"]
    page.click("#run")
    expect(page.locator("#run")).to_have_text("Stop repeated update")
    page.wait_for_function("Number(document.getElementById('iteration').textContent) >= 10",
                           timeout=TIMEOUT_MS)
    page.click("#run")
    expect(page.locator("#run")).to_have_text("Start repeated update")
    frozen = iteration(page)
    page.wait_for_timeout(400)
    assert iteration(page) == frozen >= 10
    assert summary(page)["total-loss"] < first_total
    assert_page_matches_reference(page, "ww")
    # Stopping writes the final state to the address at once.
    assert f"iter={frozen}&" in page.url


def test_randomize_with_a_seed_in_the_address_reloads_identically(page, server_url):
    open_demo(page, server_url, "#seed=42")
    page.click("#randomize")
    W, b = parameters(page)
    assert not np.array_equal(W, INITIAL_W)
    assert np.all(np.abs(W) <= 3) and np.all(np.abs(b) <= 1)
    assert page.input_value("#seed") == "43"
    page.click("#single-step")
    page.select_option("#loss-type", "softmax")
    state = snapshot(page)
    address = page.url
    assert "seed=43" in address and "iter=1&" in address

    page.reload()
    expect(page.locator("#points-table tbody tr")).to_have_count(9)
    reloaded = snapshot(page)
    assert reloaded.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(reloaded[key], state[key], err_msg=key)
    assert reloaded["summary"] == state["summary"] and reloaded["iteration"] == 1
    assert page.input_value("#loss-type") == "softmax"
    assert page.url == address

    # The same seed gives the same draw in a fresh page; the next click draws from the next seed.
    open_demo(page, server_url, "#seed=42")
    page.click("#randomize")
    np.testing.assert_array_equal(parameters(page)[0], W)
    page.click("#randomize")
    assert not np.array_equal(parameters(page)[0], W)


def read_plane_pixels(page):
    """RGB of the plane's CSS pixels from a real screenshot: uint8 (size, size, 3)."""
    from matplotlib import image

    geometry = plane_geometry(page)
    png = page.screenshot(clip={"x": geometry["left"], "y": geometry["top"], "width": geometry["size"],
                                "height": geometry["size"]})
    pixels = image.imread(io.BytesIO(png), format="png")  # float32 (size, size, 3 or 4) in [0, 1]
    return np.round(pixels[..., :3] * 255).astype(np.int16), geometry


@pytest.mark.parametrize("fragment", ["", "#seed=7"])
def test_region_colours_are_the_argmax_class_of_the_reference_scores(page, server_url, fragment):
    open_demo(page, server_url, fragment)
    if fragment:
        page.click("#randomize")
    W, b = parameters(page)
    region_rgb = np.array(page.evaluate("LinearClassifyView.REGION_RGB"))  # (3, 3)
    pixels, geometry = read_plane_pixels(page)
    size, extent = geometry["size"], geometry["extent"]
    checked, classes_seen = 0, set()
    samples = np.arange(10, size, 23)
    for row in samples:
        for col in samples:
            # The centre of CSS pixel (col, row) on the plane, y pointing up.
            x = (col + 0.5) / size * 2 * extent - extent
            y = extent - (row + 0.5) / size * 2 * extent
            scores = W @ np.array([x, y]) + b
            top_two = np.sort(scores)[-2:]
            if top_two[1] - top_two[0] < 0.05:
                continue  # on a boundary between regions: either colour would be right
            colour = pixels[row, col]
            if np.min(np.abs(region_rgb - colour).max(axis=1)) > 2:
                continue  # covered by an axis, a line, an arrow, a label or a point
            expected = int(np.argmax(scores))
            assert np.abs(colour - region_rgb[expected]).max() <= 2, (
                f"pixel ({col}, {row}) at ({x:.3f}, {y:.3f}) is coloured {colour.tolist()}, "
                f"the region colour of class {expected} is {region_rgb[expected].tolist()}")
            checked += 1
            classes_seen.add(expected)
    assert checked >= 0.7 * len(samples) ** 2, f"only {checked} sampled pixels showed a region colour"
    assert classes_seen == {int(np.argmax(W @ np.array([x, y]) + b)) for x in np.linspace(-extent, extent, 60)
                            for y in np.linspace(-extent, extent, 60)}


def test_clicking_adds_a_point_and_dragging_moves_it(page, server_url):
    open_demo(page, server_url)
    geometry = plane_geometry(page)
    page.check("input[name='add-class'][value='2']")
    page.mouse.click(*world_to_page(geometry, -0.9, 0.9))
    expect(page.locator("#points-table tbody tr")).to_have_count(10)
    added = snapshot(page)
    assert added["y"][-1] == 2
    np.testing.assert_allclose(added["X"][-1], [-0.9, 0.9], atol=0.01)
    assert_page_matches_reference(page, "ww")
    assert summary(page)["data-loss"] != pytest.approx(GOLDEN_DATA_LOSS["ww"], abs=1e-3)
    assert page.url.endswith(f";{added['X'][-1][0]},{added['X'][-1][1]},2")

    page.mouse.move(*world_to_page(geometry, -0.9, 0.9))
    page.mouse.down()
    for x, y in np.linspace([-0.9, 0.9], [0.6, -0.8], 8):
        page.mouse.move(*world_to_page(geometry, x, y))
    page.mouse.up()
    dragged = snapshot(page)
    assert len(dragged["y"]) == 10 and dragged["y"][-1] == 2
    np.testing.assert_allclose(dragged["X"][-1], [0.6, -0.8], atol=0.01)
    np.testing.assert_array_equal(dragged["X"][:9], POINTS_X)
    assert not np.allclose(dragged["scores"][-1], added["scores"][-1])
    assert_page_matches_reference(page, "ww")
    assert page.url.endswith(f";{dragged['X'][-1][0]},{dragged['X'][-1][1]},2")


def test_points_are_removed_from_the_table_and_by_right_click(page, server_url):
    open_demo(page, server_url)
    page.click("#points-table tbody tr:nth-child(2) button.remove")
    expect(page.locator("#points-table tbody tr")).to_have_count(8)
    np.testing.assert_array_equal(snapshot(page)["X"], np.delete(POINTS_X, 1, axis=0))
    assert_page_matches_reference(page, "ww")
    geometry = plane_geometry(page)
    page.mouse.click(*world_to_page(geometry, *POINTS_X[8]), button="right")
    expect(page.locator("#points-table tbody tr")).to_have_count(7)
    np.testing.assert_array_equal(snapshot(page)["X"], np.delete(POINTS_X, [1, 8], axis=0))
    assert_page_matches_reference(page, "ww")
    page.click("#reset-points")
    expect(page.locator("#points-table tbody tr")).to_have_count(9)
    assert page.inner_text("#data-loss") == "2.7667"


def test_a_damaged_address_opens_with_defaults_and_says_what_was_wrong(page, server_url):
    open_demo(page, server_url, "#W=1,2,3&loss=hinge&reg=0.5")
    expect(page.locator("#notice")).to_be_visible()
    notice = page.inner_text("#notice-text")
    assert "W needs 6 comma-separated numbers; got 3." in notice
    assert 'unknown loss type "hinge"' in notice
    W, _ = parameters(page)
    np.testing.assert_array_equal(W, INITIAL_W)
    assert page.input_value("#reg") == "0.5"
    assert_page_matches_reference(page, "ww", reg=0.5)


def test_pasting_a_shared_address_into_an_open_page_loads_that_configuration(page, server_url):
    open_demo(page, server_url)
    page.click("#single-step")
    shared = "#loss=ova&reg=0&step=0.2&seed=11&iter=7&W=0.5,-1,1,1,-2,0.25&b=0.1,0.2,0.3&pts=0.1,0.2,1;-0.5,0.5,2"
    page.evaluate("fragment => { window.location.hash = fragment; }", shared)
    expect(page.locator("#points-table tbody tr")).to_have_count(2)
    shown = snapshot(page)
    np.testing.assert_array_equal(shown["W"], [[0.5, -1], [1, 1], [-2, 0.25]])
    np.testing.assert_array_equal(shown["b"], [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(shown["X"], [[0.1, 0.2], [-0.5, 0.5]])
    assert shown["iteration"] == 7
    assert (page.input_value("#loss-type"), page.input_value("#step-size"), page.input_value("#seed")) == (
        "ova", "0.2", "11")
    assert_page_matches_reference(page, "ova", reg=0.0)
    assert page.url.endswith(shared)


def test_controls_change_step_size_and_regularization(page, server_url):
    open_demo(page, server_url)
    page.fill("#reg", "0.25")
    assert_page_matches_reference(page, "ww", reg=0.25)
    page.fill("#step-size", "0.5")
    before = snapshot(page)
    page.click("#single-step")
    after = snapshot(page)
    np.testing.assert_allclose(after["W"], before["W"] - 0.5 * before["dW"], rtol=1e-15)
    np.testing.assert_allclose(after["b"], before["b"] - 0.5 * before["db"], rtol=1e-15)
    assert "reg=0.25&step=0.5&" in page.url
    page.fill("#step-size", "-1")
    assert page.eval_on_selector("#step-size", "e => e.validationMessage") != ""
    assert "step=0.5&" in page.url  # an invalid entry changes nothing


def test_page_opened_from_the_file_system_works_and_keeps_its_state(page):
    open_demo(page, (DEMO_DIR / "index.html").as_uri(), "#seed=3")
    expect(page.locator("#points-table tbody tr")).to_have_count(9)
    assert page.inner_text("#total-loss") == "6.2667"
    page.click("#randomize")
    page.click("#single-step")
    W, b = parameters(page)
    page.reload()
    expect(page.locator("#iteration")).to_have_text("1")
    np.testing.assert_array_equal(parameters(page)[0], W)
    np.testing.assert_array_equal(parameters(page)[1], b)
    assert_page_matches_reference(page, "ww")


def test_repeated_updates_keep_lowering_the_loss_for_every_loss_type(page, server_url):
    for loss_type in LOSS_TYPES:
        open_demo(page, server_url, f"#loss={loss_type}")
        totals = []
        for _ in range(5):
            totals.append(summary(page)["total-loss"])
            page.click("#single-step")
        totals.append(summary(page)["total-loss"])
        assert all(later < earlier for earlier, later in zip(totals, totals[1:])), (loss_type, totals)
        assert_page_matches_reference(page, loss_type)
