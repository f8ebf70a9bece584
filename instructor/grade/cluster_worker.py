"""The worker side of grading on a Dask cluster: each worker grades with its own checkout, data and uids.

A worker is ``dask worker tcp://HOST:8786`` started in this repository's environment (instructor/README.md,
"Grading on many machines"). The client registers a :class:`GradingPlugin` on the cluster, then sends one
:func:`grade` task per submission. The plugin builds the worker's :class:`~.stages.Shared` once, when it is
first needed, from the worker's OWN checkout (course, reference, trusted package: ``instructor.course``),
its own data (``$CIFAR10_DIR`` or ``datasets/cifar-10-batches-py``) and its own scratch folder (in the
worker's local directory). From the client it takes only :class:`WorkerSettings`, the settings that mean
the same on every machine, and the client's :func:`.course_digest.digests`: a worker whose course, reference,
grader or environment differs refuses to grade and says how to fix it. Nothing of the reference travels: a
task carries one submission's zip as bytes, and returns its :class:`~.stages.Graded` as data.

Slots: a worker started with ``--nthreads N`` grades N submissions at once, each in a slot of its own. As
root it claims N free grading uids, from ``$CS231N_UID_BASE`` (default 62000) upwards, with the same locks
as a local run, so two workers (or a worker and a local run) on one machine never share a uid.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import queue
import shutil
import threading
from datetime import datetime
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from instructor import intake
from instructor.autograde import check_data, check_readable, default_data_dir
from instructor.course import COURSE_DIR, REPO_ROOT
from instructor.grade import course_digest, sandbox
from instructor.grade.config import GradingConfig
from instructor.grade.stages import Graded, Shared, grade_submission

PLUGIN_PREFIX = "cs231n-grading-"
UID_BASE_ENV = "CS231N_UID_BASE"
# GradingConfig fields that name places or identities on one machine: each worker uses its own.
MACHINE_FIELDS = ("course_dir", "repo_root", "work_dir", "data_dir", "sandbox")
# free_uid_base finds a range, then releases it; another worker on the machine may claim it before this one.
CLAIM_TRIES = 8


class WorkerProblem(RuntimeError):
    """This worker cannot grade (another course, no sandbox, no data, no free uids); the message says why and
    what to do. It is the worker's problem, not the submission's: the client stops the batch."""


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """What a worker takes from the client: the settings that mean the same on every machine.

    Attributes
    ----------
    values : tuple of (str, object)
        Every :class:`GradingConfig` field but :data:`MACHINE_FIELDS`, by name: the time budgets and the
        grading-data setting.
    limits : sandbox.Limits
        Memory, process and size caps of each sandboxed run.
    unsafe : bool
        Grade without bubblewrap (``--unsafe-no-sandbox``).
    """

    values: tuple[tuple[str, object], ...]
    limits: sandbox.Limits
    unsafe: bool

    @classmethod
    def of(cls, config: GradingConfig) -> WorkerSettings:
        values = tuple((field.name, getattr(config, field.name)) for field in dataclasses.fields(config)
                       if field.name not in MACHINE_FIELDS)
        return cls(values, config.sandbox.limits, config.sandbox.unsafe)

    def config(self, work_dir: Path, data_dir: Path, uid_base: int) -> GradingConfig:
        """The grading configuration of this machine: its own checkout, data, scratch and grading uids."""
        box = sandbox.Sandbox(self.limits, uid_base=uid_base, unsafe=self.unsafe)
        return GradingConfig(course_dir=COURSE_DIR, repo_root=REPO_ROOT, work_dir=work_dir, data_dir=data_dir,
                             sandbox=box, **dict(self.values))


@dataclasses.dataclass(frozen=True)
class Task:
    """One submission on its way to a worker: the zip's bytes and what the client found about it."""

    plugin: str  # the name of the GradingPlugin registered for this batch
    student: str
    file_name: str
    sha256: str
    timestamp: datetime
    data: bytes

    @classmethod
    def of(cls, submission: intake.Submission, plugin: str) -> Task:
        return cls(plugin, submission.student, submission.path.name, submission.sha256, submission.timestamp,
                   submission.path.read_bytes())


class GradingPlugin(WorkerPlugin):
    """The grading set-up of one batch on every worker: the client's settings and course digests.

    Registered under a name made from both (``idempotent``), so the next batch with the same ones finds
    each worker ready; the worker's :class:`Shared` is built by :meth:`acquire` when first needed and
    closed by :meth:`teardown` once no task uses it.

    Parameters
    ----------
    settings : WorkerSettings
        The client's machine-independent settings.
    expected : dict of str to str
        The client's :func:`.course_digest.digests`.
    """

    idempotent = True

    def __init__(self, settings: WorkerSettings, expected: dict[str, str]):
        self.settings, self.expected = settings, dict(expected)
        key = hashlib.sha256(repr((settings, sorted(expected.items()))).encode()).hexdigest()[:16]
        self.name = PLUGIN_PREFIX + key

    def setup(self, worker) -> None:
        self.address = worker.address
        self.work_dir = Path(worker.local_directory) / self.name
        self._lock = threading.Lock()
        self._shared: Shared | None = None
        self._claims = contextlib.ExitStack()
        self._active = 0
        self._closing = False
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(worker.state.nthreads):
            self._slots.put(slot)

    def teardown(self, worker) -> None:
        with self._lock:
            self._closing = True
            idle = self._active == 0
        if idle:
            self._close()

    def acquire(self) -> Shared:
        """This worker's :class:`Shared`, built on first use; every call is paired with :meth:`release`.

        Raises
        ------
        WorkerProblem
            When the worker cannot grade; nothing is kept, so the next call tries again.
        """
        with self._lock:
            if self._closing:
                raise WorkerProblem(f"the grading set-up of the worker at {self.address} was replaced by another "
                                    "batch's; grade one batch at a time on a cluster, then run this one again")
            if self._shared is None:
                self._shared = self._open()
            self._active += 1
            return self._shared

    def release(self) -> None:
        with self._lock:
            self._active -= 1
            last = self._closing and self._active == 0
        if last:
            self._close()

    def grade(self, task: Task) -> Graded:
        """Grade one submission in a free slot, from its bytes written to this worker's scratch."""
        shared = self.acquire()
        try:
            slot = self._slots.get()
            try:
                incoming = self.work_dir / "incoming" / f"slot-{slot}"
                incoming.mkdir(parents=True, exist_ok=True)
                path = incoming / Path(task.file_name).name
                path.write_bytes(task.data)
                try:
                    return grade_submission(intake.Submission(task.student, path, task.sha256, task.timestamp),
                                            shared, slot)
                finally:
                    path.unlink(missing_ok=True)
            finally:
                self._slots.put(slot)
        finally:
            self.release()

    def _open(self) -> Shared:
        """Check the course against the client's, then the data, uids and sandbox; build the Shared."""
        own = course_digest.digests()
        differ = [part for part, digest in self.expected.items() if own.get(part) != digest]
        if differ:
            raise WorkerProblem(
                f"the worker at {self.address} grades with another {' and another '.join(differ)} than the client "
                f"(its checkout: {REPO_ROOT}); check out the client's commit there, run `make venv`, and restart "
                "the worker")
        slots = self._slots.qsize()
        try:
            data_dir = default_data_dir(REPO_ROOT).resolve()
            check_data(data_dir)
            uid_base = sandbox.DEFAULT_UID_BASE
            if sandbox.Sandbox(self.settings.limits, unsafe=self.settings.unsafe).uid(0) is not None:
                check_readable(data_dir)
                uid_base = self._claim_uids(slots)
            config = self.settings.config(self.work_dir, data_dir, uid_base)
            config.sandbox.check()  # under the claim: its probe runs as the first slot's uid
            return Shared.open(config)
        except Exception as error:
            self._claims.close()
            raise WorkerProblem(f"the worker at {self.address} cannot grade: {error}") from None

    def _claim_uids(self, slots: int) -> int:
        """The first free range of ``slots`` grading uids from ``$CS231N_UID_BASE``, held until teardown."""
        text = os.environ.get(UID_BASE_ENV, str(sandbox.DEFAULT_UID_BASE))
        try:
            start = int(text)
        except ValueError:
            raise ValueError(f"{UID_BASE_ENV} must be a whole number (the first grading uid), got {text!r}; "
                             "restart the worker with another value") from None
        for _ in range(CLAIM_TRIES):
            base = sandbox.free_uid_base(slots, start)
            try:
                self._claims.enter_context(sandbox.claim_uids(base, slots))
                return base
            except RuntimeError:
                continue
        raise RuntimeError(f"no free range of {slots} grading uids from {start} after {CLAIM_TRIES} tries; start "
                           f"this worker with another {UID_BASE_ENV}")

    def _close(self) -> None:
        with self._lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            shared.close()
        self._claims.close()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def plugin_of(worker, name: str) -> GradingPlugin:
    """The grading plugin ``name`` of ``worker``, or WorkerProblem when the worker has none by that name."""
    plugin = worker.plugins.get(name)
    if plugin is None:
        raise WorkerProblem(f"the worker at {worker.address} has no grading set-up {name} (another batch replaced "
                            "it); grade one batch at a time on a cluster, then run this one again")
    return plugin


def grade(task: Task) -> Graded:
    """The Dask task: grade one submission on the worker that runs it (see :meth:`GradingPlugin.grade`)."""
    return plugin_of(get_worker(), task.plugin).grade(task)


async def prepare(name: str, dask_worker) -> str:
    """Build the worker's grading set-up ahead of its first task (``client.run``); its sandbox, described."""
    plugin = plugin_of(dask_worker, name)

    def ready() -> str:
        shared = plugin.acquire()
        plugin.release()
        return shared.config.sandbox.describe()

    # A thread of its own: building takes seconds, and the worker's event loop must keep answering.
    return await asyncio.get_running_loop().run_in_executor(None, ready)
