"""Check the hidden tests out of process, where code in the student's process cannot change the verdict.

Inside the notebook kernel a submission can rewrite ``assert``, monkeypatch numpy or the test helpers, or
load the reference from disk, and nbgrader would record the points. So the grader also runs the student's
functions on the hidden inputs in a separate confined process that only saves the returned arrays
(``runtime/run_hidden.py``), loads them here with ``allow_pickle=False``, computes the reference outputs
itself and compares with ``hidden_checks.compare``. The reference is hidden from the confined process, and
the comparison runs in this process, which never imports student code.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import numbers
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from . import isolation
from .course import GRADED_FUNCTIONS, reference_dir, source_dir
from .worker import HIDDEN_CHECKS, RUNTIME, Settings, kernel_env, trusted_package_files

# Per function: a correct implementation needs milliseconds on the hidden inputs.
DEFAULT_NAME_TIMEOUT = 30.0
STARTUP_SLACK = 30.0


@dataclasses.dataclass(frozen=True)
class Check:
    """The verdict on one function: ``passed`` and a message that never shows reference values."""

    passed: bool
    message: str


def load_hidden_checks(course_dir: Path, repo_root: Path):
    """Import the instructor's ``hidden_checks.py`` under a private module name (trusted code only)."""
    path = source_dir(course_dir) / HIDDEN_CHECKS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; the hidden tests cannot be checked without it")
    os.environ.setdefault("CS231N_REFERENCE_DIR", str(reference_dir(repo_root)))
    spec = importlib.util.spec_from_file_location("_cs231n_grader_hidden_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scalar_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "array"


class Reference:
    """Hidden inputs and the reference's outputs on them, computed once per run (thread-safe).

    Parameters
    ----------
    hidden_checks : module
        The instructor's hidden checks (``NAMES``, ``cases``, ``run``, ``compare``, and the reference).
    reference_modules : object
        What ``hidden_checks.run`` takes to run the reference implementation.
    """

    def __init__(self, hidden_checks, reference_modules):
        self.hidden_checks = hidden_checks
        self.reference_modules = reference_modules
        self._lock = threading.Lock()
        self._cases: dict[str, list[dict]] = {}
        self._expected: dict[str, list[dict[str, np.ndarray]]] = {}

    def cases(self, name: str) -> list[dict]:
        with self._lock:
            if name not in self._cases:
                self._cases[name] = list(self.hidden_checks.cases(name))
                self._expected[name] = [
                    {key: np.asarray(value) for key, value in self.hidden_checks.run(name, self.reference_modules, case).items()}
                    for case in self._cases[name]
                ]
            return self._cases[name]

    def expected(self, name: str) -> list[dict[str, np.ndarray]]:
        self.cases(name)
        return self._expected[name]

    def write_cases(self, name: str, folder: Path) -> None:
        """Save the inputs of ``name`` as ``NAME.npz`` plus ``NAME.json`` (the scalar types)."""
        arrays, kinds = {}, []
        for index, case in enumerate(self.cases(name)):
            kinds.append({key: _scalar_kind(value) for key, value in case.items()})
            for key, value in case.items():
                arrays[f"{index}:{key}"] = np.asarray(value)
        np.savez(folder / f"{name}.npz", **arrays)
        (folder / f"{name}.json").write_text(json.dumps(kinds), encoding="utf-8")


def _load_outputs(path: Path, count: int) -> list[dict[str, np.ndarray]]:
    """Read the arrays the student's process saved; refuse pickles and non-numeric data."""
    outputs = [dict() for _ in range(count)]
    with np.load(path, allow_pickle=False) as stored:
        for key in stored.files:
            index, _, name = key.partition(":")
            if not index.isdigit() or int(index) >= count:
                raise ValueError(f"unexpected output {key!r}")
            value = stored[key]
            if value.dtype.kind not in "biuf":
                raise ValueError(f"output {name!r} is not numeric (dtype {value.dtype})")
            outputs[int(index)][name] = value
    return outputs


def compare_outputs(reference: Reference, name: str, got: list[dict[str, np.ndarray]]) -> Check:
    expected = reference.expected(name)
    for index, (want, have) in enumerate(zip(expected, got)):
        for key, value in want.items():
            if key not in have:
                return Check(False, f"{name}: hidden case {index + 1} returned no {key}")
            if have[key].shape != value.shape:
                return Check(False, f"{name}: hidden case {index + 1}: {key} has shape {have[key].shape}, expected {value.shape}")
        try:
            passed, message = reference.hidden_checks.compare(name, want, have)
        except Exception as error:  # malformed output that compare could not handle
            return Check(False, f"{name}: hidden case {index + 1}: output could not be compared ({type(error).__name__})")
        if not passed:
            return Check(False, f"{name}: hidden case {index + 1}: {message}")
    return Check(True, f"{name}: passed the hidden checks")


def _bundle(settings: Settings, submitted: Path, folder: Path) -> None:
    """The trusted package with the student's modules on top, and the hidden checks' runner."""
    for relative in trusted_package_files(settings.repo_root):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(settings.repo_root / relative, folder / relative)
    student_classifiers = submitted / "cs231n" / "classifiers"
    for path in sorted(student_classifiers.glob("*.py")):
        shutil.copy2(path, folder / "cs231n" / "classifiers" / path.name)
    shutil.copy2(source_dir(settings.course_dir) / HIDDEN_CHECKS, folder / HIDDEN_CHECKS)


def check_submission(
    settings: Settings,
    reference: Reference,
    submitted: Path,
    scratch: Path,
    slot: int,
    names: list[str] | None = None,
    name_timeout: float = DEFAULT_NAME_TIMEOUT,
) -> dict[str, Check]:
    """Verdict on every graded function of one submission.

    A function that hangs or kills its process fails alone: the runner starts again for the functions
    after it. A package that does not import, or whose import never finishes, fails every function.

    Parameters
    ----------
    settings : Settings
        The run's settings (paths to hide, limits, uids).
    reference : Reference
        Hidden inputs and expected outputs.
    submitted : Path
        The student's intake folder (its ``cs231n/classifiers/*.py`` are used).
    scratch : Path
        Empty folder for the confined runs (created; the caller deletes it).
    slot : int
        Parallel slot, which picks the unprivileged uid.
    names : list of str, optional
        Functions to check (default: all graded functions).
    name_timeout : float
        Wall-clock seconds each function may take on all its hidden cases.
    """
    names = list(names or GRADED_FUNCTIONS)
    bundle, cases_dir = scratch / "bundle", scratch / "cases"
    bundle.mkdir(parents=True)
    cases_dir.mkdir()
    _bundle(settings, submitted, bundle)
    for name in names:
        reference.write_cases(name, cases_dir)
    runner = scratch / "run_hidden.py"
    shutil.copy2(RUNTIME / "run_hidden.py", runner)
    home = scratch / "home"
    home.mkdir()
    verdicts: dict[str, Check] = {}
    remaining = list(names)
    attempt = 0
    uid = settings.uid(slot)
    while remaining:
        attempt += 1
        out_dir = scratch / f"out-{attempt}"
        out_dir.mkdir()
        spec_path = scratch / f"spec-{attempt}.json"
        spec_path.write_text(json.dumps({
            "bundle": str(bundle), "cases_dir": str(cases_dir), "out_dir": str(out_dir), "names": remaining,
        }), encoding="utf-8")
        isolation.prepare_tree(scratch, uid)
        watch = _Watchdog(out_dir, remaining, name_timeout)
        env = kernel_env(home, settings, bundle)
        env.pop("CS231N_REFERENCE_DIR")  # nothing to find: the reference is hidden from this process
        outcome = isolation.run_confined(
            [sys.executable, "-I", str(runner), str(spec_path)],
            env=env, cwd=scratch, visible=scratch, hide=settings.hidden_paths(),
            expose=isolation.interpreter_paths(), limits=settings.limits,
            timeout=name_timeout * len(remaining) + STARTUP_SLACK, log_path=scratch / "run_hidden.log",
            uid=uid, mode=settings.mode, poll=watch,
        )
        if (out_dir / "import.error").is_file():
            message = (out_dir / "import.error").read_text(encoding="utf-8", errors="replace")[:300]
            return verdicts | {n: Check(False, f"{n}: the classifier package failed to import: {message}") for n in remaining}
        if not (out_dir / "imported").is_file():
            why = "did not finish importing in time" if (outcome.timed_out or watch.fired) else "killed its process on import"
            return verdicts | {n: Check(False, f"{n}: the classifier package {why}") for n in remaining}
        still, culprit = [], None
        for name in remaining:
            if (out_dir / f"{name}.done").is_file():
                verdicts[name] = _judge(reference, name, out_dir)
            elif culprit is None and (out_dir / f"{name}.started").is_file():
                # The runner died or was killed inside this function; the ones after it get a new runner.
                culprit = name
                why = "ran over its time limit" if (outcome.timed_out or watch.fired) else "killed its process (crash, os._exit or memory limit)"
                verdicts[name] = Check(False, f"{name}: {why} on the hidden inputs")
            else:
                still.append(name)
        if still == remaining:  # no progress at all: never loop
            return verdicts | {n: Check(False, f"{n}: the hidden checks could not run") for n in still}
        remaining = still
    return verdicts


class _Watchdog:
    """Kill the runner when one function has been running longer than its budget."""

    def __init__(self, out_dir: Path, names: list[str], budget: float):
        self.out_dir, self.names, self.budget = out_dir, names, budget
        self.fired = False
        self._current, self._since = None, time.monotonic()

    def __call__(self) -> bool:
        running = None
        for name in self.names:
            if (self.out_dir / f"{name}.started").exists() and not (self.out_dir / f"{name}.done").exists():
                running = name
        if running != self._current:
            self._current, self._since = running, time.monotonic()
        if running is not None and time.monotonic() - self._since > self.budget:
            self.fired = True
        return self.fired


def _judge(reference: Reference, name: str, out_dir: Path) -> Check:
    error = out_dir / f"{name}.error"
    if error.is_file():
        return Check(False, f"{name}: raised {error.read_text(encoding='utf-8', errors='replace')[:300]}")
    try:
        got = _load_outputs(out_dir / f"{name}.npz", len(reference.cases(name)))
    except (OSError, ValueError) as problem:
        return Check(False, f"{name}: its outputs could not be read ({problem})")
    return compare_outputs(reference, name, got)
