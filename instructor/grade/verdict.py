"""The trusted verdict on each graded function: the student's code answers in a sandbox, the grader judges.

The student's functions run in a bubblewrap sandbox (:mod:`.sandbox`) that holds the trusted ``cs231n``
package with the student's modules and ``graded_calls.py`` (how each function is called), and
nothing else: not the reference, not the hidden checks, not another submission. The grader sends each
hidden case's inputs over a pipe, one case at a time, and reads the outputs back as frames whose names,
dtypes and sizes it checks before reading a byte of them. Expected values are computed here, in the
grader's own process, from the instructor's ``hidden_checks.py`` and the reference; they never enter the
sandbox, not even after the answer.

Vectorized functions are also timed, on large inputs, against the reference answering the same requests
through the same pipe protocol in a trusted process of its own (never sandboxed together with student
code). Where the sandbox has a control group, both sides are measured in CPU time, each by the kernel's
count for its whole control group (every process, exited ones too), around the same round trip: CPU time
is what a submission cannot skew by keeping the machine busy while the reference is timed, as it could
the wall clock. Without a control group (grading as an ordinary user) both sides are timed by the wall
clock. A correct "vectorized" function more than ``SLOWDOWN_LIMIT`` times slower than the reference fails,
with the measured ratio in the note.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from instructor.grade import sandbox
from instructor.course import GRADED_CALLS, GRADED_FUNCTIONS, HIDDEN_CHECKS, reference_dir, source_dir
from instructor.grade.package import STUDENT_MODULES_DIR, build_package
from instructor.grade.result import Check
from instructor.grade.runtime import FOLDER as RUNTIME
from instructor.grade.sandbox import make_readable
from instructor.grade.runtime import frames

# Per function: a correct implementation needs milliseconds on the hidden inputs.
DEFAULT_NAME_TIMEOUT = 30.0
IMPORT_TIMEOUT = 30.0
BUNDLE_TARGET = "/grading/bundle"


def load_hidden_checks(course_dir: Path, repo_root: Path):
    """Import the instructor's ``hidden_checks.py`` under a private module name (trusted code only)."""
    path = source_dir(course_dir) / HIDDEN_CHECKS
    for needed in (path, source_dir(course_dir) / GRADED_CALLS):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed} is missing; the hidden tests cannot be checked without it")
    os.environ.setdefault("CS231N_REFERENCE_DIR", str(reference_dir(repo_root)))
    spec = importlib.util.spec_from_file_location("_cs231n_grader_hidden_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reference:
    """Hidden inputs and the reference's outputs on them, computed once per run (thread-safe).

    Parameters
    ----------
    hidden_checks : module
        The instructor's hidden checks (``NAMES``, ``cases``, ``run``, ``compare``, ``TIMED``,
        ``timing_case``, and the reference).
    reference_modules : object
        What ``hidden_checks.run`` takes to run the reference implementation.
    """

    def __init__(self, hidden_checks, reference_modules):
        self.hidden_checks = hidden_checks
        self.reference_modules = reference_modules
        self._lock = threading.Lock()
        self._cases: dict[str, list[dict]] = {}
        self._expected: dict[str, list[dict[str, np.ndarray]]] = {}
        self._timing: dict[str, list[tuple[dict, dict]]] = {}

    def _outputs(self, name: str, case: dict) -> dict[str, np.ndarray]:
        return {key: np.asarray(value) for key, value in self.hidden_checks.run(name, self.reference_modules, case).items()}

    def cases(self, name: str) -> list[dict]:
        with self._lock:
            if name not in self._cases:
                self._cases[name] = list(self.hidden_checks.cases(name))
                self._expected[name] = [self._outputs(name, case) for case in self._cases[name]]
            return self._cases[name]

    def expected(self, name: str) -> list[dict[str, np.ndarray]]:
        self.cases(name)
        return self._expected[name]

    @property
    def timed(self) -> tuple[str, ...]:
        return tuple(getattr(self.hidden_checks, "TIMED", ()))

    def timing(self, name: str) -> list[tuple[dict, dict[str, np.ndarray]]]:
        """``(case, expected outputs)`` of each timing run of ``name``."""
        with self._lock:
            if name not in self._timing:
                repeats = getattr(self.hidden_checks, "TIMING_REPEATS", 3)
                timing_cases = [self.hidden_checks.timing_case(name, repeat) for repeat in range(repeats)]
                self._timing[name] = [(case, self._outputs(name, case)) for case in timing_cases]
            return self._timing[name]


def compare_outputs(reference: Reference, name: str, index: int, want: dict, have: dict) -> Check | None:
    """None when case ``index`` of ``name`` passes, else the failing verdict."""
    for key, value in want.items():
        if key not in have:
            return Check(False, f"{name}: hidden case {index + 1} returned no {key}")
        if have[key].shape != value.shape:
            return Check(False, f"{name}: hidden case {index + 1}: {key} has shape {have[key].shape}, expected {value.shape}")
    try:
        passed, message = reference.hidden_checks.compare(name, want, have)
    except Exception as error:  # malformed output that compare could not handle
        return Check(False, f"{name}: hidden case {index + 1}: output could not be compared ({type(error).__name__})")
    return None if passed else Check(False, f"{name}: hidden case {index + 1}: {message}")


def build_bundle(folder: Path, repo_root: Path, course_dir: Path, modules: Path) -> Path:
    """What a runner needs: the trusted package with ``modules``' classifiers on top, the calling
    convention and the runner itself. Readable by the grading uids, writable by nobody but the grader."""
    build_package(folder, repo_root, modules)
    shutil.copy2(source_dir(course_dir) / GRADED_CALLS, folder / GRADED_CALLS)
    for script in ("run_hidden.py", "frames.py"):
        shutil.copy2(RUNTIME / script, folder / script)
    make_readable(folder)
    return folder


class Caller:
    """One runner process: send a case, get the outputs, each answer checked before it is read."""

    def __init__(self, box: sandbox.Sandbox, bundle: Path, slot: int, log_path: Path, env: dict[str, str]):
        bind = sandbox.Bind(bundle, BUNDLE_TARGET)
        where = box.inside(bind)
        self.run = box.start([sys.executable, "-I", f"{where}/run_hidden.py", where], binds=[bind], env=env,
                             slot=slot, log_path=log_path)
        self.decoder = frames.Decoder(max_header=4096, max_payload=0)
        self.run.expect_frames(self.decoder)

    def hello(self, deadline: float) -> str | None:
        """None once the package imported, else why not."""
        self.decoder.accept = _accept_keys({"imported", "import_error"})
        frame = self.run.receive(deadline)
        if frame is None:
            return "killed its process on import"
        header, _ = frame
        if header.get("imported") is True:
            return None
        return f"failed to import: {str(header.get('import_error'))[:300]}"

    def call(self, name: str, case: dict, want: dict[str, np.ndarray], deadline: float):
        """``(outputs, None)`` or ``(None, error text)``; raises Timeout, FrameError, or EOFError if it died."""
        scalars = {key: value for key, value in case.items() if not isinstance(value, np.ndarray)}
        arrays = {key: value for key, value in case.items() if isinstance(value, np.ndarray)}
        expected = sum(value.nbytes for value in want.values())
        # Room for a wrong shape to be reported as such, never for more than a few times the right answer.
        self.decoder.max_payload = 4 * expected + (1 << 16)
        self.decoder.accept = _accept_reply(set(want))
        self.run.send(frames.encode({"name": name, "scalars": scalars}, arrays), deadline)
        frame = self.run.receive(deadline)
        if frame is None:
            raise EOFError("the runner ended")
        header, outputs = frame
        if "error" in header:
            return None, str(header["error"])[:300]
        return outputs, None

    def finish(self) -> sandbox.Outcome:
        return self.run.finish(grace=2)  # end of input ends an honest runner at once


def _accept_keys(allowed: set[str]):
    def accept(header):
        if not set(header) - {"arrays"} <= allowed or header.get("arrays"):
            raise frames.FrameError("an unexpected message")
    return accept


def _accept_reply(keys: set[str]):
    def accept(header):
        names = {entry[0] for entry in header.get("arrays", [])}
        if "error" in header:
            if names or not isinstance(header["error"], str):
                raise frames.FrameError("an error reply with data")
        elif header.get("ok") is not True or names != keys or not set(header) <= {"ok", "arrays"}:
            raise frames.FrameError(f"outputs {sorted(names)[:5]} where {sorted(keys)} were expected")
    return accept


class ReferenceTimers:
    """One trusted runner of the reference per slot, started when first needed, for timing side by side.

    It answers through the same pipe protocol as the student's runner, so both timings include the same
    transfer, and its control group counts its CPU time as the student's counts theirs; it runs outside any
    sandbox, as the grader, and never alongside student code.
    """

    def __init__(self, bundle: Path, log_dir: Path, env: dict[str, str]):
        self.bundle, self.log_dir, self.env = bundle, log_dir, env
        self._callers: dict[int, Caller] = {}
        self._lock = threading.Lock()
        self.cpu_seconds = 0.0  # of the runners closed so far (their control groups count it)

    def caller(self, slot: int) -> Caller:
        with self._lock:
            if slot not in self._callers:
                # Unsandboxed (it runs no student code), but counted by a control group like the student's.
                trusted = sandbox.Sandbox(unsafe=True, account=True)
                caller = Caller(trusted, self.bundle, slot, self.log_dir / f"reference-timer-{slot}.log", self.env)
                problem = caller.hello(time.monotonic() + IMPORT_TIMEOUT)
                if problem is not None:
                    caller.finish()
                    raise RuntimeError(f"the reference runner {problem}; see {self.log_dir}")
                self._callers[slot] = caller
            return self._callers[slot]

    def close(self) -> None:
        with self._lock:
            for caller in self._callers.values():
                self.cpu_seconds += caller.finish().cpu_seconds or 0.0
            self._callers.clear()


def _timed_call(caller: Caller, name: str, case: dict, want: dict, deadline: float, cpu: bool):
    """``(seconds, outputs, error)`` of one call: CPU seconds of the caller's whole control group when
    ``cpu``, else wall seconds; either way around the same round trip."""
    before = caller.run.cpu_seconds() if cpu else time.perf_counter()
    outputs, error = caller.call(name, case, want, deadline)
    after = caller.run.cpu_seconds() if cpu else time.perf_counter()
    return after - before, outputs, error


def _time_against_reference(reference: Reference, timers: ReferenceTimers, student: Caller, name: str, slot: int,
                            deadline: float) -> Check:
    """The slowdown of the student's ``name`` against the reference, on different large inputs each time."""
    ours = timers.caller(slot)
    cpu = student.run.cpu_seconds() is not None and ours.run.cpu_seconds() is not None
    mine, theirs = [], []
    for repeat, (case, want) in enumerate(reference.timing(name)):
        # Alternate who goes first, so a drift of the machine's speed hits both alike.
        order = [(student, mine), (ours, theirs)] if repeat % 2 == 0 else [(ours, theirs), (student, mine)]
        for caller, times in order:
            seconds, outputs, error = _timed_call(
                caller, name, case, want, time.monotonic() + 120 if caller is ours else deadline, cpu)
            if caller is ours:
                if error is not None:
                    raise RuntimeError(f"the reference failed its own timing case of {name}: {error}")
            elif error is not None:
                return Check(False, f"{name}: raised {error} on a large input")
            else:
                wrong = compare_outputs(reference, name, repeat, want, outputs)
                if wrong is not None:
                    return Check(False, f"{name}: wrong on a large input ({wrong.message.split(': ', 2)[-1]})")
            times.append(seconds)
    slowdown = min(mine) / max(min(theirs), 1e-6)
    limit = getattr(reference.hidden_checks, "SLOWDOWN_LIMIT", 5.0)
    where = getattr(reference.hidden_checks, "TIMING_NOTE", {}).get(name, "a large input")
    if slowdown > limit:
        return Check(False, f"{name}: correct, but {slowdown:.0f}x as slow as the reference on {where} (at most "
                            f"{limit:g}x earns the vectorized points): a vectorized version must not loop over "
                            "the examples", slowdown)
    return Check(True, f"{name}: passed the hidden checks ({slowdown:.1f}x the reference's time)", slowdown)


def check_submission(
    box: sandbox.Sandbox,
    reference: Reference,
    bundle: Path,
    scratch: Path,
    slot: int,
    env: dict[str, str],
    timers: ReferenceTimers | None = None,
    names: list[str] | None = None,
    name_timeout: float = DEFAULT_NAME_TIMEOUT,
) -> tuple[dict[str, Check], list[sandbox.Outcome]]:
    """Verdict on every graded function of one submission, and how each sandboxed run ended.

    A function that hangs, kills its process or garbles its replies fails alone: a new runner starts for
    the functions after it. A package that does not import, or whose import never finishes, fails every
    function.

    Parameters
    ----------
    box : Sandbox
        The grading run's sandbox.
    reference : Reference
        Hidden inputs and expected outputs.
    bundle : Path
        The runner bundle of this submission (:func:`build_bundle`).
    scratch : Path
        The grader's folder for this submission's logs (never seen by the sandbox).
    slot : int
        Parallel slot, which picks the grading uid.
    env : dict
        The runner's environment.
    timers : ReferenceTimers, optional
        The reference runners to time vectorized functions against (no timing without them).
    names : list of str, optional
        Functions to check (default: all graded functions).
    name_timeout : float
        Wall-clock seconds each function may take on all its cases and timing runs.
    """
    names = list(names or GRADED_FUNCTIONS)
    verdicts: dict[str, Check] = {}
    outcomes: list[sandbox.Outcome] = []
    remaining = list(names)
    attempt = 0
    while remaining:
        attempt += 1
        caller = Caller(box, bundle, slot, scratch / f"run_hidden-{attempt}.log", env)
        try:
            try:
                problem = caller.hello(time.monotonic() + IMPORT_TIMEOUT)
            except sandbox.Timeout:
                problem = "did not finish importing in time"
            except frames.FrameError as error:
                problem = f"garbled its first message ({error})"
            if problem is not None:
                return verdicts | {n: Check(False, f"{n}: the classifier package {problem}") for n in remaining}, outcomes
            done = []
            for name in remaining:
                verdict, broken = _check_one(caller, reference, timers, name, slot, time.monotonic() + name_timeout)
                verdicts[name] = verdict
                done.append(name)
                if broken:
                    break  # this runner is dead or out of step: the rest get a new one
            remaining = [n for n in remaining if n not in done]
        finally:
            outcomes.append(caller.finish())
    return verdicts, outcomes


def _check_one(caller: Caller, reference: Reference, timers, name: str, slot: int, deadline: float) -> tuple[Check, bool]:
    """The verdict on ``name`` and whether its runner must be replaced."""
    try:
        for index, (case, want) in enumerate(zip(reference.cases(name), reference.expected(name))):
            outputs, error = caller.call(name, case, want, deadline)
            if error is not None:
                return Check(False, f"{name}: raised {error}"), False
            wrong = compare_outputs(reference, name, index, want, outputs)
            if wrong is not None:
                return wrong, False
        if timers is not None and name in reference.timed:
            return _time_against_reference(reference, timers, caller, name, slot, deadline), False
        return Check(True, f"{name}: passed the hidden checks"), False
    except sandbox.Timeout:
        return Check(False, f"{name}: ran over its time limit on the hidden inputs"), True
    except (EOFError, BrokenPipeError):
        return Check(False, f"{name}: killed its process (crash, os._exit or the memory limit)"), True
    except frames.FrameError as error:
        return Check(False, f"{name}: sent back something that is not its outputs ({error})"), True


def reference_bundle(folder: Path, repo_root: Path, course_dir: Path) -> Path:
    """The bundle of the trusted reference runner: the reference classifiers in place of a student's."""
    shutil.rmtree(folder, ignore_errors=True)
    return build_bundle(folder, repo_root, course_dir, reference_dir(repo_root))


def student_modules_dir(submitted: Path) -> Path:
    """Where intake put the student's classifier modules."""
    return submitted / STUDENT_MODULES_DIR
