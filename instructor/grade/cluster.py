"""Grade a batch on a Dask cluster: ``python -m instructor.autograde DIR --scheduler tcp://HOST:8786``.

The cluster's workers grade (:mod:`.cluster_worker`: each with its own checkout, data, sandbox and grading
uids). This process, the client, reads the zips, sends each one's bytes as a task, and alone records what
comes back, each submission once, as the local driver does (:func:`instructor.autograde.grade_all`): the
gradebook, graded notebooks, results and logs, then the feedback pages and the CSV. A re-run skips every
zip already recorded unchanged. Dask schedules the tasks and handles the faults:

- a worker that dies in the middle of a batch loses nothing: the scheduler gives its submissions to other
  workers. A submission on which workers died more than the scheduler's ``allowed-failures`` times (3 by
  default) comes back as Dask's ``KilledWorker`` and is recorded as a grading error of its own, which the
  next run tries again;
- a lost scheduler stops the batch, saying how many submissions were recorded: the same command again
  grades the rest;
- a worker that cannot grade (another course or environment, no sandbox, no data) stops the batch before
  any task with the worker's reason and the fix.

At most :data:`TASKS_PER_THREAD` submissions per worker thread are in flight, so the zips that wait on the
scheduler take little memory whatever the class size; each result sends the next one.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import re
import traceback
import uuid
from pathlib import Path

from distributed import Client, as_completed
from distributed.scheduler import KilledWorker
from tqdm import tqdm

from instructor import intake
from instructor.autograde import RunOptions, _already_recorded, ensure_gradebook
from instructor.course import NOTEBOOKS
from instructor.feedback import pages as feedback
from instructor.grade import course_digest, score
from instructor.grade.cluster_worker import (PLUGIN_PREFIX, GradingPlugin, Task, WorkerProblem, WorkerSettings, grade,
                                             prepare)
from instructor.grade.config import GradingConfig
from instructor.grade.notebooks import build_template
from instructor.grade.result import NOTEBOOK_NOT_GRADED, Result, Status
from instructor.grade.stages import Graded
from instructor.grade.store import GradingStore

ADDRESS = re.compile(r"(tcp|tls)://[^\s/]+:[0-9]+")
CONNECT_SECONDS = 30
WORKER_WAIT_SECONDS = 300  # a batch queued on Slurm or Kubernetes may wait a while for its first worker
TASKS_PER_THREAD = 2  # one running, one waiting on the worker: no worker idles while the client records


class SchedulerLost(RuntimeError):
    """The scheduler went away in the middle of a batch; the message says how much was recorded."""


def grade_batch(submissions_dir: Path, config: GradingConfig, store: GradingStore, options: RunOptions) -> dict:
    """Grade every submission of ``submissions_dir`` on the cluster at ``options.scheduler``; return the summary
    of :func:`instructor.autograde.grade_all` (graded, skipped, warnings, csv, sandbox).

    Parameters
    ----------
    submissions_dir : Path
        Folder of submission zips, read here; each zip travels to a worker as bytes.
    config : GradingConfig
        What the workers take from this machine: the time budgets, caps and unsafe flag (each worker uses
        its own paths and uids). Its course, with ``config.repo_root``, must be the workers' (their digests
        are compared). The template course is built from it here too: the gradebook is made from it.
    store : GradingStore
        The grading folder (opened), which this process alone writes.
    options : RunOptions
        ``scheduler`` (``tcp://HOST:PORT``), ``force``, ``id_pattern``, feedback, CSV, progress; ``jobs``
        only sets the processes that render the feedback pages. With nothing to grade, the cluster is not
        contacted.

    Raises
    ------
    ValueError
        When ``options.scheduler`` is not a scheduler address.
    RuntimeError
        When the scheduler cannot be reached or goes away, when no worker joins, or when a worker cannot
        grade; the message says what to do.
    """
    if ADDRESS.fullmatch(options.scheduler) is None:
        raise ValueError(f"--scheduler takes a Dask scheduler's address such as tcp://HOST:8786, got "
                         f"{options.scheduler!r}")
    ensure_gradebook(store, build_template(config))
    model = score.course_model(store.db_url)
    submissions, warnings = intake.find_submissions(submissions_dir, options.id_pattern)
    recorded = set(store.recorded())
    todo = sorted((s for s in submissions.values() if options.force or not _already_recorded(store, s, recorded)),
                  key=lambda s: s.student)
    skipped = sorted(set(submissions) - {s.student for s in todo})
    graded_now, sandboxes = [], set()
    if todo:
        plugin = GradingPlugin(WorkerSettings.of(config), course_digest.digests(config.course_dir, config.repo_root))
        with _connection(options.scheduler) as client:
            _start_batch(client, plugin, options.scheduler)
            graded_now, sandboxes = _record_all(client, plugin.name, todo, store, model, options)
    if options.write_feedback:
        stale = [s for s in sorted(store.recorded())
                 if s in graded_now or not (store.feedback(s) / "index.html").is_file()]
        with tqdm(total=len(stale), desc="feedback", unit="student", disable=not options.progress or not stale) as bar:
            feedback.render_all(store, stale, options.jobs, progress=bar.update)
    csv_file = feedback.export_csv(store, options.csv_path or store.default_csv)
    described = sorted(sandboxes)
    sandbox = f"the workers of the Dask cluster at {options.scheduler}"
    if described:
        sandbox += f": {described[0]}"
    if len(described) > 1:
        sandbox += f" (and {len(described) - 1} other set-ups; each result records its own)"
    return {"graded": sorted(graded_now), "skipped": skipped, "warnings": warnings, "csv": csv_file,
            "sandbox": sandbox}


@contextlib.contextmanager
def _connection(address: str):
    """A client of the scheduler at ``address``, closed on the way out (quietly when the scheduler is gone)."""
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except OSError as error:
        raise RuntimeError(f"cannot reach the Dask scheduler at {address} ({error}); start it with `dask scheduler` "
                           "(instructor/README.md, \"Grading on many machines\") or correct --scheduler") from None
    lost = False
    try:
        yield client
    except SchedulerLost:
        lost = True
        raise
    finally:
        # Once the scheduler is gone, closing only ends the client's attempts to reconnect, which log errors.
        quiet = logging.getLogger("distributed.client")
        level = quiet.level
        if lost:
            quiet.setLevel(logging.CRITICAL)
        try:
            client.close(timeout=CONNECT_SECONDS)
        finally:
            quiet.setLevel(level)


def _start_batch(client: Client, plugin: GradingPlugin, address: str) -> None:
    """Wait for a worker, give every worker ``plugin`` (dropping other batches' set-ups) and build it there."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        raise RuntimeError(f"no worker joined the Dask cluster at {address} in {WORKER_WAIT_SECONDS} s; start workers "
                           f"with `dask worker {address}` on the grading machines (instructor/README.md)") from None
    try:
        for name in client.run_on_scheduler(_grading_plugins):
            if name != plugin.name:
                client.unregister_worker_plugin(name)
        client.register_plugin(plugin)
        ready = client.run(prepare, plugin.name, on_error="return")
    except OSError as error:  # the connection to the scheduler broke
        raise SchedulerLost(f"the Dask scheduler at {address} went away before grading started ({error}); nothing "
                            "was recorded; run the same command again") from None
    problems = sorted(str(answer) for answer in ready.values() if isinstance(answer, BaseException))
    if problems:
        raise RuntimeError("nothing was graded, because not every worker can grade:\n  " + "\n  ".join(problems))


def _grading_plugins(dask_scheduler) -> list[str]:
    """The grading set-ups registered on the scheduler (run there by ``client.run_on_scheduler``)."""
    return [name for name in dask_scheduler.worker_plugins if name.startswith(PLUGIN_PREFIX)]


def _record_all(client: Client, plugin: str, todo: list[intake.Submission], store: GradingStore, model: dict,
                options: RunOptions) -> tuple[list[str], set[str]]:
    """Send ``todo`` a window at a time and record each result as it completes (this thread alone writes)."""
    batch = uuid.uuid4().hex[:8]
    waiting = collections.deque(todo)
    sent: dict[str, intake.Submission] = {}
    running = as_completed(loop=client.loop)
    graded_now: list[str] = []
    sandboxes: set[str] = set()

    def lost() -> SchedulerLost:
        return SchedulerLost(f"the Dask scheduler at {options.scheduler} went away; {len(graded_now)} of {len(todo)} "
                             "submissions were recorded; run the same command again to grade the rest")

    def send_more() -> None:
        try:
            threads = client.nthreads()
        except OSError:
            raise lost() from None
        bar.set_postfix(workers=len(threads), refresh=False)
        while waiting and running.count() < TASKS_PER_THREAD * max(sum(threads.values()), 1):
            submission = waiting.popleft()
            future = client.submit(grade, Task.of(submission, plugin), key=f"grade-{submission.student}-{batch}",
                                   pure=False)
            sent[future.key] = submission
            running.add(future)

    bar = tqdm(total=len(todo), desc="grading", unit="submission", disable=not options.progress)
    try:
        send_more()
        for future in running:
            submission = sent.pop(future.key)
            try:
                graded = _outcome(future, submission, model)
            except concurrent.futures.CancelledError:
                raise lost() from None
            except WorkerProblem as problem:
                raise RuntimeError(f"{problem}; {len(graded_now)} of {len(todo)} submissions were recorded, and the "
                                   "same command grades the rest") from None
            store.save(graded.result, graded.scores, graded.notebooks, graded.log)
            graded_now.append(submission.student)
            if graded.result.sandbox:
                sandboxes.add(graded.result.sandbox)
            future.release()
            bar.update()
            send_more()
    finally:
        bar.close()
    return graded_now, sandboxes


def _outcome(future, submission: intake.Submission, model: dict) -> Graded:
    """What to record for a completed task: the worker's Graded, or a grading error that a re-run retries.

    A result lost with its worker before it came here is computed again elsewhere, and this waits for it.

    Raises
    ------
    concurrent.futures.CancelledError
        When the task was cancelled: the scheduler went away.
    WorkerProblem
        When the worker cannot grade at all.
    """
    try:
        return future.result()
    except (concurrent.futures.CancelledError, WorkerProblem):
        raise
    except KilledWorker as error:
        reason = (f"grading error: the Dask workers grading this submission died {error.allowed_failures + 1} times "
                  f"(the last at {error.last_worker.address}); a re-run tries it again")
        return not_graded(submission, model, reason, str(error))
    except Exception as error:  # a failure of the grader around grade_submission, which itself never raises
        reason = f"grading error on a Dask worker ({type(error).__name__}: {error}); a re-run tries it again"
        return not_graded(submission, model, reason, "".join(traceback.format_exception(type(error), error,
                                                                                        error.__traceback__)))


def not_graded(submission: intake.Submission, model: dict, reason: str, log: str | None = None) -> Graded:
    """A grading error of ``submission`` for ``reason``: every graded cell of ``model`` scores 0."""
    result = Result(student=submission.student, sha256=submission.sha256, source=submission.path.name,
                    timestamp=submission.timestamp.isoformat(), status=Status.ERROR, notes=[reason],
                    notebooks={name: NOTEBOOK_NOT_GRADED for name in NOTEBOOKS})
    scores = {name: score.score_notebook(None, cells, {}, reason) for name, cells in model.items()}
    return Graded(result, scores, {}, log)
