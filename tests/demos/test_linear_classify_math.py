"""The linear-classify demo's maths and address modules, run in Node and checked against NumPy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from linear_classify_reference import (GOLDEN_DATA_LOSS, INITIAL_B, INITIAL_W, LOSS_TYPES, POINTS_X, POINTS_Y,
                                      distance_to_kink, reference)
from instructor.course import REPO_ROOT

DEMO_DIR = REPO_ROOT / "demos" / "linear-classify"
DRIVER = Path(__file__).with_name("linear_classify_node_driver.js")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH: install Node.js (18 or newer) "
                                "to test the web demo's JavaScript maths")


# ---- talking to Node --------------------------------------------------------------------------------

def run_node(calls):
    """Run the calls in one Node process; returns one {"ok": value} or {"error": {...}} per call."""
    request = json.dumps({"demo_dir": str(DEMO_DIR), "calls": calls})
    completed = subprocess.run([NODE, str(DRIVER)], input=request, capture_output=True, text=True,
                               timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    answers = json.loads(completed.stdout)
    assert len(answers) == len(calls)
    return answers


def js_params(W, b):
    return {"W": np.asarray(W, dtype=float).tolist(), "b": np.asarray(b, dtype=float).tolist()}


def js_points(X, y):
    return [{"x": float(px), "y": float(py), "label": int(label)} for (px, py), label in zip(X, y)]


def evaluate_call(W, b, X, y, loss_type, reg):
    return {"module": "math", "fn": "evaluate", "args": [js_params(W, b), js_points(X, y), loss_type, reg]}


def ok(answer):
    assert "ok" in answer, answer
    return answer["ok"]


def random_case(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 16))
    return {
        "W": rng.uniform(-3, 3, (3, 2)),
        "b": rng.uniform(-1, 1, 3),
        "X": rng.uniform(-1.2, 1.2, (n, 2)),
        "y": rng.integers(0, 3, n),
        "loss_type": LOSS_TYPES[seed % 4],
        "reg": [0.0, 0.1, 0.5, 2.3][(seed // 4) % 4],
    }


def assert_matches_reference(js, ref):
    np.testing.assert_allclose([row["scores"] for row in js["rows"]], ref["scores"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([row["loss"] for row in js["rows"]], ref["losses"], rtol=1e-12, atol=1e-12)
    for key, ref_key in [("dataLoss", "data_loss"), ("regLoss", "reg_loss"), ("total", "total"),
                         ("dW", "dW"), ("db", "db")]:
        np.testing.assert_allclose(js[key], ref[ref_key], rtol=1e-12, atol=1e-12, err_msg=key)


# ---- tests ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_initial_configuration_gives_the_golden_losses(loss_type):
    js = ok(run_node([evaluate_call(INITIAL_W, INITIAL_B, POINTS_X, POINTS_Y, loss_type, 0.1)])[0])
    ref = reference(INITIAL_W, INITIAL_B, POINTS_X, POINTS_Y, loss_type, 0.1)
    assert round(js["dataLoss"], 4) == GOLDEN_DATA_LOSS[loss_type]
    assert round(ref["data_loss"], 4) == GOLDEN_DATA_LOSS[loss_type]
    assert js["regLoss"] == pytest.approx(3.5, abs=1e-12)
    assert js["total"] == pytest.approx(GOLDEN_DATA_LOSS[loss_type] + 3.5, abs=5e-5)
    assert_matches_reference(js, ref)


def test_module_defaults_are_the_documented_initial_configuration():
    math_defaults = ok(run_node([{"module": "state", "fn": "defaultState", "args": []}])[0])
    assert math_defaults["params"] == js_params(INITIAL_W, INITIAL_B)
    assert math_defaults["points"] == js_points(POINTS_X, POINTS_Y)
    assert (math_defaults["lossType"], math_defaults["reg"], math_defaults["stepSize"]) == ("ww", 0.1, 0.1)
    assert math_defaults["iteration"] == 0


def test_losses_and_gradients_match_numpy_on_random_configurations():
    cases = [random_case(seed) for seed in range(64)]  # every loss type with every regularization strength
    for seed, (case, answer) in enumerate(zip(cases, run_node([evaluate_call(**case) for case in cases]))):
        try:
            assert_matches_reference(ok(answer), reference(**case))
        except AssertionError as error:
            raise AssertionError(f"random case {seed} ({case['loss_type']}, reg {case['reg']})") from error


def centred_differences(case, totals, h):
    """Gradient (dW (3, 2), db (3,)) from the totals at params +h / -h, in the order of perturbations()."""
    flat = (np.array(totals[0::2]) - np.array(totals[1::2])) / (2 * h)  # (9,): W row-major, then b
    return flat[:6].reshape(3, 2), flat[6:]


def perturbations(case, h):
    """Cases with each of the 9 parameters moved by +h then -h (W row-major, then b)."""
    out = []
    for index in range(9):
        for sign in (1, -1):
            W, b = case["W"].copy(), case["b"].copy()
            if index < 6:
                W[index // 2, index % 2] += sign * h
            else:
                b[index - 6] += sign * h
            out.append({**case, "W": W, "b": b})
    return out


def finite_difference_cases():
    """The initial configuration for every loss, then random ones far enough from the hinge corners."""
    cases = [{"W": INITIAL_W, "b": INITIAL_B, "X": POINTS_X, "y": POINTS_Y, "loss_type": loss, "reg": 0.1}
             for loss in LOSS_TYPES]
    cases += [case for case in map(random_case, range(100, 160))
              if distance_to_kink(case["W"], case["b"], case["X"], case["y"], case["loss_type"]) > 1e-3]
    return cases


def test_gradients_equal_finite_differences_of_the_total_loss():
    h = 1e-6
    cases = finite_difference_cases()
    for case in cases[:4]:
        assert distance_to_kink(case["W"], case["b"], case["X"], case["y"], case["loss_type"]) > 1e-3
    assert len(cases) >= 40, "too few random cases away from the hinge corners to mean anything"
    calls = []
    for case in cases:
        calls.append(evaluate_call(**case))
        calls += [evaluate_call(**moved) for moved in perturbations(case, h)]
    answers = [ok(answer) for answer in run_node(calls)]
    checked_regs = set()
    for number, case in enumerate(cases):
        block = answers[number * 19:(number + 1) * 19]
        js, totals = block[0], [answer["total"] for answer in block[1:]]
        dW, db = centred_differences(case, totals, h)
        message = f"case {number}: {case['loss_type']}, reg {case['reg']}"
        np.testing.assert_allclose(js["dW"], dW, rtol=1e-5, atol=1e-6, err_msg=message)
        np.testing.assert_allclose(js["db"], db, rtol=1e-5, atol=1e-6, err_msg=message)
        # The reference must pass the same check, or agreeing with it would prove nothing.
        ref_totals = [reference(**moved)["total"] for moved in perturbations(case, h)]
        ref_dW, ref_db = centred_differences(case, ref_totals, h)
        np.testing.assert_allclose(reference(**case)["dW"], ref_dW, rtol=1e-5, atol=1e-6, err_msg=message)
        np.testing.assert_allclose(reference(**case)["db"], ref_db, rtol=1e-5, atol=1e-6, err_msg=message)
        checked_regs.add(case["reg"])
    assert checked_regs >= {0.0, 0.1, 0.5, 2.3}


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_regularization_adds_exactly_two_lambda_w_to_the_gradient(loss_type):
    # A regularization gradient of lambda * W / 2 (a factor 4 short) is a known slip in copies of this demo.
    calls = [evaluate_call(INITIAL_W, INITIAL_B, POINTS_X, POINTS_Y, loss_type, reg) for reg in (0.0, 0.7)]
    without, with_reg = (ok(answer) for answer in run_node(calls))
    np.testing.assert_allclose(np.subtract(with_reg["dW"], without["dW"]), 2 * 0.7 * INITIAL_W, rtol=1e-12)
    np.testing.assert_allclose(with_reg["db"], without["db"], rtol=1e-12, atol=1e-15)
    assert with_reg["regLoss"] == pytest.approx(0.7 * 35)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_step_moves_against_the_gradient_and_lowers_the_total_loss(loss_type):
    params = js_params(INITIAL_W, INITIAL_B)
    before = ok(run_node([evaluate_call(INITIAL_W, INITIAL_B, POINTS_X, POINTS_Y, loss_type, 0.1)])[0])
    stepped = ok(run_node([{"module": "math", "fn": "step", "args": [params, before, 0.1]}])[0])
    np.testing.assert_allclose(stepped["W"], INITIAL_W - 0.1 * np.array(before["dW"]), rtol=1e-15)
    np.testing.assert_allclose(stepped["b"], INITIAL_B - 0.1 * np.array(before["db"]), rtol=1e-15)
    after = ok(run_node([evaluate_call(stepped["W"], stepped["b"], POINTS_X, POINTS_Y, loss_type, 0.1)])[0])
    assert after["total"] < before["total"]


def mulberry32(seed, count):
    """Independent Python port of the mulberry32 generator (32-bit arithmetic made explicit)."""
    mask = 0xFFFFFFFF
    state = seed & mask
    out = []
    for _ in range(count):
        state = (state + 0x6D2B79F5) & mask
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & mask
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & mask)) & mask
        out.append(((t ^ (t >> 14)) & mask) / 2**32)
    return out


def test_seeded_generator_is_mulberry32_and_reproducible():
    answers = run_node([{"rng": seed, "count": 50} for seed in (0, 1, 42, 4294967295)])
    for seed, answer in zip((0, 1, 42, 4294967295), answers):
        draws = ok(answer)
        assert draws == mulberry32(seed, 50)
        assert all(0 <= value < 1 for value in draws)


def test_random_parameters_depend_only_on_the_seed_and_stay_in_range():
    calls = [{"module": "math", "fn": "randomParams", "args": [seed]} for seed in (7, 7, 8)]
    first, again, other = (ok(answer) for answer in run_node(calls))
    assert first == again
    assert first != other
    W, b = np.array(first["W"]), np.array(first["b"])
    assert W.shape == (3, 2) and b.shape == (3,)
    assert np.all(np.abs(W) <= 3) and np.all(np.abs(b) <= 1)
    # Draws are rounded to 0.001 so that links stay short.
    np.testing.assert_allclose(W * 1000, np.round(W * 1000), atol=1e-9)


BAD_INPUTS = [
    (["hinge", 0.1], "unknown loss type \"hinge\"; expected one of ww, ova, structured, softmax"),
    (["ww", -1], "the regularization strength must be a finite number >= 0; got -1"),
    (["ww", {"$number": "NaN"}], "the regularization strength must be a finite number >= 0; got NaN"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_evaluate_rejects_bad_settings_with_a_clear_message(args, message):
    call = evaluate_call(INITIAL_W, INITIAL_B, POINTS_X, POINTS_Y, *args)
    answer = run_node([call])[0]
    assert answer["error"]["name"] == "RangeError"
    assert message in answer["error"]["message"]


@pytest.mark.parametrize(("params", "points", "message"), [
    ({"W": [[1, 2], [3, 4]], "b": [0, 0, 0]}, None, "W needs 3 rows and b 3 entries"),
    ({"W": [[1, 2], [3, 4], [5]], "b": [0, 0, 0]}, None, r"W[2] must hold 2 numbers"),
    ({"W": [[1, 2], [3, {"$number": "Infinity"}], [5, 6]], "b": [0, 0, 0]}, None,
     "W and b must hold finite numbers; class 1 has W = [3,\"Infinity\"]"),
    (None, [], "points must be a non-empty array"),
    (None, [{"x": 0, "y": 0, "label": 3}], "point 0 has label 3; expected the class 0, 1 or 2"),
    (None, [{"x": 0, "y": {"$number": "NaN"}, "label": 0}], "point 0 needs finite x and y"),
])
def test_evaluate_rejects_malformed_parameters_and_points(params, points, message):
    call = {"module": "math", "fn": "evaluate", "args": [
        params or js_params(INITIAL_W, INITIAL_B), js_points(POINTS_X, POINTS_Y) if points is None else points,
        "ww", 0.1]}
    answer = run_node([call])[0]
    assert "error" in answer, answer
    assert message in answer["error"]["message"]


@pytest.mark.parametrize("seed", [-1, 1.5, 2**32, {"$number": "NaN"}])
def test_random_parameters_reject_seeds_that_are_not_32_bit_integers(seed):
    answer = run_node([{"module": "math", "fn": "randomParams", "args": [seed]}])[0]
    assert "the seed must be an integer from 0 to 4294967295" in answer["error"]["message"]


# ---- the address (state.js) -------------------------------------------------------------------------

def test_state_survives_the_address_round_trip_bit_for_bit():
    rng = np.random.default_rng(5)
    state = {
        "params": js_params(rng.normal(size=(3, 2)), rng.normal(size=3)),
        "points": js_points(rng.uniform(-1.2, 1.2, (12, 2)), rng.integers(0, 3, 12)),
        "lossType": "structured", "reg": 0.037, "stepSize": 1e-7, "seed": 4294967295, "iteration": 1234,
    }
    text = ok(run_node([{"module": "state", "fn": "serialize", "args": [state]}])[0])
    assert text.startswith("loss=structured&reg=0.037&step=1e-7&seed=4294967295&iter=1234&W=")
    parsed = ok(run_node([{"module": "state", "fn": "parse", "args": ["#" + text]}])[0])
    assert parsed["problems"] == []
    assert parsed["state"] == state


def test_missing_address_keys_keep_their_defaults():
    parsed, empty = (ok(answer) for answer in run_node([
        {"module": "state", "fn": "parse", "args": ["#loss=softmax&seed=9"]},
        {"module": "state", "fn": "parse", "args": [""]},
    ]))
    assert parsed["problems"] == [] and empty["problems"] == []
    assert parsed["state"] == {**empty["state"], "lossType": "softmax", "seed": 9}


@pytest.mark.parametrize(("fragment", "problem"), [
    ("W=1,2,3", "W needs 6 comma-separated numbers; got 3."),
    ("b=0,x,0", "b entry 1 must be a number; got \"x\"."),
    ("loss=hinge", "unknown loss type \"hinge\""),
    ("reg=-2", "reg must be a finite number >= 0; got -2."),
    ("pts=0.1,0.2,5", "pts item 0 class must be an integer from 0 to 2; got \"5\"."),
    ("pts=3,0,1", "pts item 0 x is 3, outside the visible square; keep |x| and |y| <= 1.2."),
    ("seed=abc", "seed must be an integer from 0 to 4294967295; got \"abc\"."),
    ("colour=red", "unknown key \"colour\" ignored"),
])
def test_unreadable_address_keys_are_reported_and_fall_back_to_defaults(fragment, problem):
    parsed, default = (ok(answer) for answer in run_node([
        {"module": "state", "fn": "parse", "args": ["#iter=3&" + fragment]},
        {"module": "state", "fn": "defaultState", "args": []},
    ]))
    assert len(parsed["problems"]) == 1 and problem in parsed["problems"][0]
    assert parsed["state"] == {**default, "iteration": 3}
