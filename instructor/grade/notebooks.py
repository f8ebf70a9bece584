"""Grade one submission's notebooks with nbgrader in a bubblewrap sandbox, and take the results back.

A *template course* is built once per run (``nbgrader generate_assignment`` on the source notebooks). Each
submission's sandbox gets a read-only input made from it, holding only what grading needs and nothing
secret: the gradebook's cell definitions (nbgrader stores test cells, never solutions; the hidden cells'
code is replaced by a line saying that the grader runs them, in :mod:`.verdict`), the trusted ``cs231n``
package, the instructor's nbgrader configuration as plain data, and this one submission. nbgrader restores edited or
deleted test cells from the gradebook, copies the trusted package over whatever the student sent, and keeps
the student's modules (``Autograde.exclude_overwriting``). Everything is written in the sandbox's private
``/tmp``; each graded notebook comes back as a frame on the sandbox's stdout, checked and capped here,
and only then written to disk, by the grader.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nbformat
from traitlets.config import Config
from traitlets.config.loader import LazyConfigValue, PyFileConfigLoader

from instructor.grade import sandbox
from instructor.grade.config import GradingConfig
from instructor.course import ASSIGNMENT, HIDDEN_CHECKS, NOTEBOOKS, source_dir, trusted_package_files
from instructor.nbgrader_course import generate_assignment, scratch_course
from instructor.fences import HIDDEN_CELL_PREFIX
from instructor.grade.runtime import frames, outputs
from instructor.grade.runtime import FOLDER as RUNTIME
from instructor.grade.sandbox import make_readable

# Seconds a sandboxed run may take beyond the submission budget: interpreter and kernel start-up.
STARTUP_SLACK = 60
INPUT_TARGET = "/grading/in"
DATA_TARGET = "/grading/data"
# A graded notebook frame larger than this is refused (outputs are capped at 8 MB per notebook).
MAX_NOTEBOOK_FRAME = 32 << 20


@dataclasses.dataclass
class NotebookRun:
    """nbgrader's outcome for one notebook, as the (untrusted) worker reported it."""

    status: str
    reason: str | None
    incidents: list[str]


@dataclasses.dataclass
class WorkerResult:
    """The graded notebooks the grader wrote from the sandbox's frames, and what happened."""

    autograded_dir: Path
    notebooks: dict[str, NotebookRun]
    outcome: sandbox.Outcome
    log_path: Path
    problems: list[str] = dataclasses.field(default_factory=list)


def _template_inputs(settings: GradingConfig) -> list[Path]:
    source = source_dir(settings.course_dir)
    inputs = [settings.course_dir / "nbgrader_config.py", source / HIDDEN_CHECKS]
    inputs += [source / f"{name}.ipynb" for name in NOTEBOOKS]
    inputs += [settings.repo_root / p for p in trusted_package_files(settings.repo_root)]
    return inputs


def template_key(settings: GradingConfig) -> str:
    """Digest of everything the template course is built from; a new digest means a new template."""
    inputs = _template_inputs(settings)
    missing = [p for p in inputs if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "cannot grade without " + ", ".join(str(p) for p in missing)
            + "; the course needs its source notebooks, hidden checks and the cs231n package"
        )
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_template(settings: GradingConfig) -> Path:
    """Build (or reuse) the template course in ``work_dir/template`` and return its path."""
    template = settings.work_dir / "template"
    key = template_key(settings)
    key_file = settings.work_dir / "template.key"
    if template.is_dir() and key_file.is_file() and key_file.read_text() == key and release_notebooks_dir(settings).is_dir():
        return template
    extra = [(source_dir(settings.course_dir) / HIDDEN_CHECKS, HIDDEN_CHECKS)]
    extra += [(settings.repo_root / p, p.as_posix()) for p in trusted_package_files(settings.repo_root)]
    generate_assignment(scratch_course(template, settings.course_dir, extra))
    # The release notebooks are the frame every submitted notebook is rebuilt in (intake keeps only the
    # answer cells); the rest of nbgrader's release folder is not needed.
    released = release_notebooks_dir(settings)
    shutil.rmtree(released, ignore_errors=True)
    released.mkdir(parents=True)
    for name in NOTEBOOKS:
        shutil.copy2(template / "release" / ASSIGNMENT / f"{name}.ipynb", released / f"{name}.ipynb")
    shutil.rmtree(template / "release", ignore_errors=True)
    key_file.write_text(key)
    return template


def release_notebooks_dir(settings: GradingConfig) -> Path:
    """Where :func:`build_template` keeps the release notebooks nbgrader generated for it."""
    return settings.work_dir / "release-notebooks"


def sandbox_env(settings: GradingConfig) -> dict[str, str]:
    """The complete environment of every sandboxed process (paths as the sandbox sees them)."""
    bin_dir = str(Path(sys.executable).parent)
    home = "/tmp/home"
    data = settings.sandbox.inside(sandbox.Bind(settings.data_dir, DATA_TARGET))
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": f"{home}/runtime",
        "JUPYTER_CONFIG_DIR": f"{home}/jupyter",
        "JUPYTER_DATA_DIR": f"{home}/data",
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": f"{home}/ipython",
        "MPLCONFIGDIR": f"{home}/matplotlib",
        "MPLBACKEND": "Agg",
        # One BLAS thread per process: parallel slots share the cores, and threads count as processes.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CIFAR10_DIR": data,
        "CS231N_QUICK": "1",
    }


def plain_config(course_dir: Path) -> dict:
    """The instructor's ``nbgrader_config.py`` as plain data, for a sandbox that must not see the file."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()

    def plain(value, where):
        if isinstance(value, (Config, dict)):
            return {str(key): plain(item, f"{where}.{key}") for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item, where) for item in value]
        if isinstance(value, LazyConfigValue) or not (value is None or isinstance(value, (str, int, float, bool))):
            raise ValueError(
                f"{course_dir / 'nbgrader_config.py'} sets {where[1:]} to {type(value).__name__}, which cannot be "
                "handed to the grading sandbox; give it as plain data (strings, numbers, lists, dicts)"
            )
        return value

    return plain(config, "")


def prepare_input(settings: GradingConfig, template: Path, student: str, submitted: Path, folder: Path, deadline: float) -> Path:
    """The read-only input of one submission's sandbox (see the module docstring for what it holds)."""
    course = folder / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(template / "gradebook.db", course / "gradebook.db")
    without_hidden_tests(course / "gradebook.db")
    trusted = template / "source" / ASSIGNMENT
    shutil.copytree(trusted / "cs231n", course / "source" / ASSIGNMENT / "cs231n")
    shutil.copytree(submitted, course / "submitted" / student / ASSIGNMENT)
    for script in ("grade_notebooks.py", "frames.py", "outputs.py"):
        shutil.copy2(RUNTIME / script, folder / script)
    spec = {
        "student": student,
        "assignment": ASSIGNMENT,
        "notebooks": list(NOTEBOOKS),
        "cell_timeout": settings.cell_timeout,
        "deadline": deadline,
        "config": plain_config(settings.course_dir),
    }
    (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    make_readable(folder)
    return folder


HIDDEN_CELL_STAND_IN = 'print("hidden tests: run by the grader outside this notebook; the result is in your feedback")'


def without_hidden_tests(gradebook: Path) -> None:
    """Replace the code of every ``hidden_*`` cell in a gradebook copy by a line that only says so.

    nbgrader restores a hidden cell from the gradebook before running it, and the gradebook keeps the
    hidden-test code. In the sandbox that code must neither run (the verdict is the grader's) nor be there
    to read, so the sandbox's copy of the gradebook holds the stand-in instead, with the checksum nbgrader
    checks when it restores a cell.
    """
    from nbgrader.api import Gradebook
    from nbgrader.utils import compute_checksum

    with Gradebook(f"sqlite:///{gradebook}") as book:
        for notebook in book.find_assignment(ASSIGNMENT).notebooks:
            points = {cell.name: cell.max_score for cell in notebook.grade_cells}
            for source in notebook.source_cells:
                if not source.name.startswith(HIDDEN_CELL_PREFIX):
                    continue
                cell = nbformat.v4.new_code_cell(HIDDEN_CELL_STAND_IN, metadata={"nbgrader": {
                    "grade": True, "solution": False, "locked": True, "grade_id": source.name,
                    "points": points.get(source.name, 0), "schema_version": 3}})
                source.source, source.checksum = HIDDEN_CELL_STAND_IN, compute_checksum(cell)
        book.db.commit()


def run_worker(settings: GradingConfig, template: Path, student: str, submitted: Path, scratch: Path, slot: int) -> WorkerResult:
    """Autograde ``submitted`` (the intake folder of one student) in a sandbox and take the notebooks back.

    Parameters
    ----------
    settings : GradingConfig
        The run's settings.
    template : Path
        The template course from :func:`build_template`.
    student : str
        Student id (already validated as a safe folder name).
    submitted : Path
        Folder with the student's notebooks and ``cs231n/classifiers/*.py`` as intake left them.
    scratch : Path
        Empty folder of the grader for this run (created; the caller deletes it). The sandbox sees a
        read-only copy of its ``in/`` and writes nothing here.
    slot : int
        Parallel slot number, which picks the grading uid.
    """
    box = settings.sandbox
    deadline = time.time() + settings.submission_timeout
    folder = prepare_input(settings, template, student, submitted, scratch / "in", deadline)
    autograded = scratch / "autograded"
    autograded.mkdir()
    log_path = scratch.parent / f"{scratch.name}.driver.log"
    inputs = sandbox.Bind(folder, INPUT_TARGET)
    data = sandbox.Bind(settings.data_dir, DATA_TARGET)
    where = box.inside(inputs)
    run = box.start([sys.executable, "-I", f"{where}/grade_notebooks.py", where], binds=[inputs, data],
                    env=sandbox_env(settings), slot=slot, log_path=log_path)
    run.expect_frames(frames.Decoder(max_header=1 << 16, max_payload=MAX_NOTEBOOK_FRAME, accept=_accept_notebook))
    notebooks: dict[str, NotebookRun] = {}
    problems: list[str] = []
    until = time.monotonic() + settings.submission_timeout + STARTUP_SLACK
    try:
        while len(notebooks) < len(NOTEBOOKS):
            frame = run.receive(until)
            if frame is None:
                break
            header, arrays = frame
            name = header["notebook"]
            if name in notebooks:
                raise frames.FrameError(f"{name} was reported twice")
            notebooks[name] = _notebook_run(header)
            if notebooks[name].status == "graded":
                problem = _keep_notebook(arrays.get("ipynb"), autograded / f"{name}.ipynb")
                if problem:
                    notebooks[name] = NotebookRun("failed", problem, notebooks[name].incidents)
    except sandbox.Timeout:
        run.timed_out = True
    except frames.FrameError as error:
        problems.append(f"the grading sandbox sent something that is not a graded notebook ({error}); "
                        "notebooks not yet received score 0")
    finally:
        # Once every notebook is back there is nothing to wait for; otherwise let the driver finish its say.
        outcome = run.finish(grace=0 if len(notebooks) == len(NOTEBOOKS) else 10)
    return WorkerResult(autograded, notebooks, outcome, log_path, problems)


def _accept_notebook(header: dict) -> None:
    names = [entry[0] for entry in header.get("arrays", [])]
    if header.get("notebook") not in NOTEBOOKS or names not in ([], ["ipynb"]):
        raise frames.FrameError("a frame that names no notebook of the assignment")
    if names and (header["arrays"][0][1] != "|u1" or len(header["arrays"][0][2]) != 1):
        raise frames.FrameError("a notebook that is not a byte string")


def _notebook_run(header: dict) -> NotebookRun:
    """What the (untrusted) driver said of one notebook, cut to sane sizes."""
    reason = header.get("reason")
    incidents = header.get("incidents")
    return NotebookRun(
        status=str(header.get("status", "failed"))[:20],
        reason=str(reason)[:500] if reason is not None else None,
        incidents=[str(i)[:300] for i in incidents if isinstance(i, str)][:5] if isinstance(incidents, list) else [],
    )


def _keep_notebook(data, target: Path) -> str | None:
    """Validate a graded notebook received from the sandbox, cap its outputs again and write it; or why not."""
    if data is None:
        return "the graded notebook did not come back"
    try:
        notebook = json.loads(data.tobytes().decode("utf-8"))
        outputs.cap_notebook(notebook)
        for cell in notebook.get("cells", []):
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                cell["outputs"] = outputs.drop_active_outputs(cell.get("outputs", []))
        node = nbformat.from_dict(notebook)
        nbformat.validate(node)
    except Exception as error:  # anything malformed: that notebook scores 0
        return f"the graded notebook is not a valid notebook ({type(error).__name__})"
    nbformat.write(node, target)
    return None
