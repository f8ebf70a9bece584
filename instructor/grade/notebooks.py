"""Run one submission's notebooks in a bubblewrap sandbox, and take them back.

A *template course* is built once per run (``nbgrader generate_assignment`` on the source notebooks): its
gradebook holds the cells every notebook is scored against, its release notebooks are the frame intake
rebuilds each submitted notebook in (only the answer cells are the student's, every test cell is the
course's), and its source folder holds the trusted ``cs231n`` package. Each submission's sandbox gets a
read-only input holding only what running the notebooks needs and nothing secret: that package with the
student's modules in it, the rebuilt notebooks, and a spec. No gradebook, hidden test or nbgrader
goes in: the sandbox runs the notebooks in Jupyter kernels (:mod:`.runtime.run_notebooks`) and sends each
one back as a frame on its stdout; the grader checks and caps it here, writes it, and scores it outside
with nbgrader's rules against its own gradebook (:mod:`.score`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from traitlets.config.loader import PyFileConfigLoader

from instructor.grade import sandbox
from instructor.grade.config import GradingConfig
from instructor.course import ASSIGNMENT, HIDDEN_CHECKS, NOTEBOOKS, source_dir, trusted_package_files
from instructor.grade.package import STUDENT_MODULES_DIR, build_package
from instructor.nbgrader_course import generate_assignment, scratch_course
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
    """How one notebook's run went, as the (untrusted) sandbox reported it; ``seconds`` and
    ``kernel_seconds`` (its wall time, and the part spent starting the kernel) feed the cost breakdown only."""

    status: str
    reason: str | None
    incidents: list[str]
    seconds: float = 0.0
    kernel_seconds: float = 0.0


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


def ignore_pattern(course_dir: Path) -> re.Pattern | None:
    """The course's ``IgnorePattern``: stderr text that is not a failure (warnings, progress bars), or None.

    nbgrader applies it when it runs a notebook; here the grader applies it, on its side, to what the
    sandbox sends back, before scoring reads stderr as a failure.
    """
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    if not config.IgnorePattern.get("enabled", False) or not config.IgnorePattern.get("pattern"):
        return None
    return re.compile(config.IgnorePattern.pattern)


def prepare_input(settings: GradingConfig, template: Path, submitted: Path, folder: Path, deadline: float) -> Path:
    """The read-only input of one submission's sandbox: the trusted package with the student's modules,
    the rebuilt notebooks and the run's spec (see :mod:`.runtime.run_notebooks`)."""
    bundle = folder / "bundle"
    build_package(bundle, template / "source" / ASSIGNMENT, submitted / STUDENT_MODULES_DIR)
    notebooks = bundle / ASSIGNMENT
    notebooks.mkdir()
    for name in NOTEBOOKS:
        if (submitted / f"{name}.ipynb").is_file():
            shutil.copy2(submitted / f"{name}.ipynb", notebooks / f"{name}.ipynb")
    for script in ("run_notebooks.py", "frames.py", "outputs.py"):
        shutil.copy2(RUNTIME / script, folder / script)
    spec = {"assignment": ASSIGNMENT, "notebooks": list(NOTEBOOKS), "cell_timeout": settings.cell_timeout,
            "deadline": deadline}
    (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    make_readable(folder)
    return folder


def run_worker(settings: GradingConfig, template: Path, submitted: Path, scratch: Path, slot: int,
               ignored: re.Pattern | None = None) -> WorkerResult:
    """Run the notebooks of ``submitted`` (the intake folder of one student) in a sandbox; take them back.

    Parameters
    ----------
    settings : GradingConfig
        The run's settings.
    template : Path
        The template course from :func:`build_template`.
    submitted : Path
        Folder with the student's notebooks and ``cs231n/classifiers/*.py`` as intake left them.
    scratch : Path
        Empty folder of the grader for this run (created; the caller deletes it). The sandbox sees a
        read-only copy of its ``in/`` and writes nothing here.
    slot : int
        Parallel slot number, which picks the grading uid.
    ignored : re.Pattern, optional
        stderr text that is not a failure (:func:`ignore_pattern`), removed from the notebooks received.
    """
    box = settings.sandbox
    deadline = time.time() + settings.submission_timeout
    folder = prepare_input(settings, template, submitted, scratch / "in", deadline)
    autograded = scratch / "autograded"
    autograded.mkdir()
    log_path = scratch.parent / f"{scratch.name}.driver.log"
    inputs = sandbox.Bind(folder, INPUT_TARGET)
    data = sandbox.Bind(settings.data_dir, DATA_TARGET)
    where = box.inside(inputs)
    run = box.start([sys.executable, "-I", f"{where}/run_notebooks.py", where], binds=[inputs, data],
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
                problem = _keep_notebook(arrays.get("ipynb"), autograded / f"{name}.ipynb", ignored)
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
        seconds=_seconds(header.get("seconds")),
        kernel_seconds=_seconds(header.get("kernel_seconds")),
    )


def _seconds(value) -> float:
    """A duration the sandbox reported, as a float in [0, 1 day] (0 for anything else)."""
    return min(max(float(value), 0.0), 86400.0) if isinstance(value, (int, float)) and value == value else 0.0


def _keep_notebook(data, target: Path, ignored: re.Pattern | None = None) -> str | None:
    """Validate a graded notebook received from the sandbox, cap its outputs again, drop active outputs and
    the stderr that ``ignored`` matches, and write it; or say why not."""
    if data is None:
        return "the graded notebook did not come back"
    try:
        notebook = json.loads(data.tobytes().decode("utf-8"))
        outputs.cap_notebook(notebook)
        for cell in notebook.get("cells", []):
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                kept = outputs.drop_active_outputs(cell.get("outputs", []))
                cell["outputs"] = [o for o in kept if ignored is None or not _ignored_stderr(o, ignored)]
        node = nbformat.from_dict(notebook)
        nbformat.validate(node)
    except Exception as error:  # anything malformed: that notebook scores 0
        return f"the graded notebook is not a valid notebook ({type(error).__name__})"
    nbformat.write(node, target)
    return None


def _ignored_stderr(output, ignored: re.Pattern) -> bool:
    """Whether ``output`` is stderr text that the course does not count as a failure (as nbgrader's
    IgnorePattern decides it: the pattern found anywhere in the output's text)."""
    if not (isinstance(output, dict) and output.get("output_type") == "stream" and output.get("name") == "stderr"):
        return False
    text = output.get("text", "")
    return bool(ignored.search("".join(text) if isinstance(text, list) else str(text)))
