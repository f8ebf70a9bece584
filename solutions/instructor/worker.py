"""Grade one submission's notebooks with nbgrader in a confined scratch course.

Each submission gets its own copy of a *template course*: the instructor's ``nbgrader_config.py``, a
gradebook that knows only the assignment, and a source folder holding the notebooks, the hidden checks
and the trusted ``cs231n`` package (everything but the four student modules). Its ``submitted/`` folder
holds this one submission, so nbgrader restores edited or deleted test cells from the template gradebook,
copies the trusted package over whatever the student sent, and keeps the student's modules
(``Autograde.exclude_overwriting``). The run happens under :mod:`solutions.instructor.isolation`, with the
instructor's course, the git history and every other submission hidden.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from . import isolation
from .course import ASSIGNMENT, NOTEBOOKS, REPO_ROOT, STUDENT_MODULES, reference_dir, run_nbgrader, source_dir

RUNTIME = Path(__file__).with_name("runtime")
HIDDEN_CHECKS = "hidden_checks.py"
# Seconds a confined run may take beyond the submission budget: interpreter and kernel start-up.
STARTUP_SLACK = 60


@dataclasses.dataclass
class Settings:
    """Everything a grading run needs to know; one instance per run.

    Attributes
    ----------
    course_dir : Path
        The instructor's nbgrader course (``solutions/``): source notebooks, config, gradebook.
    repo_root : Path
        The instructor's bundle: the trusted ``cs231n`` package and the reference classifiers.
    work_dir : Path
        Scratch and bookkeeping of the grader (``solutions/grading-work``).
    data_dir : Path
        The ``cifar-10-batches-py`` folder the notebooks load.
    cell_timeout, submission_timeout : float
        Wall-clock budgets in seconds per notebook cell and per submission.
    limits : isolation.Limits
        Memory, process and file limits of the student's processes.
    mode : str
        Confinement level from :func:`isolation.detect_mode`.
    uid_base : int
        First uid of the unprivileged grading users (one per parallel slot; root mode only).
    extra_hide : list of Path
        More paths to hide from student code.
    """

    course_dir: Path
    repo_root: Path
    work_dir: Path
    data_dir: Path
    cell_timeout: float = 60
    submission_timeout: float = 600
    limits: isolation.Limits = dataclasses.field(default_factory=isolation.Limits)
    mode: str = "none"
    uid_base: int = isolation.DEFAULT_UID_BASE
    extra_hide: list[Path] = dataclasses.field(default_factory=list)

    def hidden_paths(self) -> list[Path]:
        """What student code must never see: the course, the reference, the git history, private homes."""
        paths = [self.course_dir, self.work_dir, reference_dir(self.repo_root), self.repo_root / ".git"]
        return paths + isolation.private_homes() + list(self.extra_hide)

    def uid(self, slot: int) -> int:
        return self.uid_base + slot


@dataclasses.dataclass
class NotebookRun:
    """nbgrader's outcome for one notebook, as the (untrusted) worker reported it."""

    status: str
    reason: str | None
    incidents: list[str]


@dataclasses.dataclass
class WorkerResult:
    """Where the autograded notebooks are and what happened; all of it untrusted until checked."""

    autograded_dir: Path
    notebooks: dict[str, NotebookRun]
    outcome: isolation.Outcome
    log_path: Path


def trusted_package_files(repo_root: Path) -> list[Path]:
    """The instructor's ``cs231n`` files that grading uses instead of anything submitted (relative paths)."""
    package = repo_root / "cs231n"
    files = sorted(p.relative_to(repo_root) for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return [p for p in files if p.as_posix() not in STUDENT_MODULES and p.name != "submission.py"]


def _template_inputs(settings: Settings) -> list[Path]:
    source = source_dir(settings.course_dir)
    inputs = [settings.course_dir / "nbgrader_config.py", source / HIDDEN_CHECKS]
    inputs += [source / f"{name}.ipynb" for name in NOTEBOOKS]
    inputs += [settings.repo_root / p for p in trusted_package_files(settings.repo_root)]
    return inputs


def template_key(settings: Settings) -> str:
    """Digest of everything the template course is built from; a new digest means a new template."""
    digest = hashlib.sha256()
    for path in _template_inputs(settings):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_template(settings: Settings) -> Path:
    """Build (or reuse) the template course in ``work_dir/template`` and return its path."""
    missing = [p for p in _template_inputs(settings) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "cannot grade without " + ", ".join(str(p) for p in missing)
            + "; the course needs its source notebooks, hidden checks and the cs231n package"
        )
    template = settings.work_dir / "template"
    key = template_key(settings)
    key_file = settings.work_dir / "template.key"
    if template.is_dir() and key_file.is_file() and key_file.read_text() == key and release_notebooks_dir(settings).is_dir():
        return template
    shutil.rmtree(template, ignore_errors=True)
    source = template / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy2(settings.course_dir / "nbgrader_config.py", template / "nbgrader_config.py")
    for name in NOTEBOOKS:
        shutil.copy2(source_dir(settings.course_dir) / f"{name}.ipynb", source / f"{name}.ipynb")
    shutil.copy2(source_dir(settings.course_dir) / HIDDEN_CHECKS, source / HIDDEN_CHECKS)
    for relative in trusted_package_files(settings.repo_root):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(settings.repo_root / relative, source / relative)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.root={template}"], template)
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


def release_notebooks_dir(settings: Settings) -> Path:
    """Where :func:`build_template` keeps the release notebooks nbgrader generated for it."""
    return settings.work_dir / "release-notebooks"


def kernel_env(home: Path, settings: Settings, reference: Path) -> dict[str, str]:
    """The complete environment of the driver and the student's kernels."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "MPLBACKEND": "Agg",
        # One BLAS thread per kernel: parallel workers share the cores, and threads count against the
        # process limit.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CIFAR10_DIR": str(settings.data_dir),
        "CS231N_QUICK": "1",
        "CS231N_REFERENCE_DIR": str(reference),
    }


def copy_reference(repo_root: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(reference_dir(repo_root).glob("*.py")):
        shutil.copy2(path, target / path.name)
    return target


def run_worker(settings: Settings, template: Path, student: str, submitted: Path, scratch: Path, slot: int) -> WorkerResult:
    """Autograde ``submitted`` (the intake folder of one student) in ``scratch`` and report what happened.

    Parameters
    ----------
    settings : Settings
        The run's settings.
    template : Path
        The template course from :func:`build_template`.
    student : str
        Student id (already validated as a safe folder name).
    submitted : Path
        Folder with the student's notebooks and ``cs231n/classifiers/*.py`` as intake left them.
    scratch : Path
        Empty folder for this run (created; the caller deletes it).
    slot : int
        Parallel slot number, which picks the unprivileged uid.
    """
    course = scratch / "course"
    shutil.copytree(template, course)
    shutil.copytree(submitted, course / "submitted" / student / ASSIGNMENT)
    reference = copy_reference(settings.repo_root, scratch / "reference")
    home = scratch / "home"
    home.mkdir()
    driver = scratch / "grade_notebooks.py"
    shutil.copy2(RUNTIME / "grade_notebooks.py", driver)
    result_path = scratch / "result.json"
    deadline = time.time() + settings.submission_timeout
    spec = {
        "course_dir": str(course),
        "student": student,
        "assignment": ASSIGNMENT,
        "notebooks": list(NOTEBOOKS),
        "cell_timeout": settings.cell_timeout,
        "deadline": deadline,
        "result_path": str(result_path),
    }
    (scratch / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    uid = settings.uid(slot)
    isolation.prepare_tree(scratch, uid)
    log_path = scratch.parent / f"{scratch.name}.driver.log"
    outcome = isolation.run_confined(
        [sys.executable, str(driver), str(scratch / "spec.json")],
        env=kernel_env(home, settings, reference),
        cwd=scratch,
        visible=scratch,
        hide=settings.hidden_paths(),
        expose=isolation.interpreter_paths() + [settings.data_dir],
        limits=settings.limits,
        timeout=settings.submission_timeout + STARTUP_SLACK,
        log_path=log_path,
        uid=uid,
        mode=settings.mode,
    )
    return WorkerResult(
        autograded_dir=course / "autograded" / student / ASSIGNMENT,
        notebooks=read_notebook_runs(result_path),
        outcome=outcome,
        log_path=log_path,
    )


def read_notebook_runs(result_path: Path) -> dict[str, NotebookRun]:
    """Parse the worker's ``result.json`` defensively: it was writable by student code."""
    try:
        raw = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    runs = {}
    if not isinstance(raw, dict):
        return runs
    for name in NOTEBOOKS:
        entry = raw.get(name)
        if not isinstance(entry, dict):
            continue
        reason = entry.get("reason")
        incidents = entry.get("incidents") or []
        runs[name] = NotebookRun(
            status=str(entry.get("status", "failed"))[:20],
            reason=str(reason)[:500] if reason is not None else None,
            incidents=[str(i)[:300] for i in incidents if isinstance(i, str)][:5] if isinstance(incidents, list) else [],
        )
    return runs
