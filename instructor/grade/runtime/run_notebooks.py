"""Run one submission's notebooks in Jupyter kernels, one at a time, surviving what student code does.

Usage (inside the sandbox, by :mod:`instructor.grade.notebooks`)::

    python -I run_notebooks.py INPUT

``INPUT`` (read-only) holds ``spec.json`` and ``bundle/``: the trusted ``cs231n`` package with the
student's modules in it, and ``assignment1/`` with the notebooks the grader rebuilt from the release around
the student's answer cells (so every test cell is already the course's). The spec names ``notebooks``,
``assignment``, ``cell_timeout`` (seconds) and ``deadline`` (epoch seconds: the submission's budget). The
bundle is copied into the private ``/tmp`` and run there; figures are not drawn (the kernels show a text
stand-in), which is what grading needs of them.

Only the notebooks run here: no gradebook, no nbgrader. The grader, outside, scores every cell against
its own gradebook with nbgrader's rules, so nothing this process or the kernels do is believed. A kernel
that dies (``os._exit``, an out-of-memory kill) or ignores the interrupt after a timeout keeps the cells
that ran; every later cell gets an error output saying why, and the other notebooks run normally. Each
notebook goes back to the grader as one frame on stdout (outputs capped, see ``outputs.py``) when done.
"""

import ctypes
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

# jsonschema compiles an RFC 3987 grammar at import (two seconds per process) for a format nbformat never
# checks; leaving it out changes nothing else.
sys.modules.setdefault("rfc3987_syntax", None)
# `python -I` leaves the script's folder off sys.path; the frame format and the output caps live beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outputs  # noqa: E402

import frames  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbformat.v4 import new_output  # noqa: E402

PR_SET_DUMPABLE = 4
MAX_NOTEBOOK_BYTES = 64 << 20  # a notebook larger than this after its run is reported as failed


def error_output(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedClient(NotebookClient):
    """nbclient's client with a per-submission deadline and capped outputs, for one notebook.

    ``incidents`` lists what stopped the notebook early, for the student's feedback.
    """

    def __init__(self, nb, deadline, cell_timeout, **kwargs):
        # On a cell's timeout: interrupt the kernel and record the cell as an error; a kernel that then stays
        # silent (it caught the interrupt and carried on) raises CellTimeoutError once its output stops.
        super().__init__(nb, allow_errors=True, interrupt_on_timeout=True, record_timing=False,
                         timeout_func=self._cell_budget, raise_on_iopub_timeout=True,
                         error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                                           "traceback": ["CellTimeoutError: no reply from the kernel before the cell's time limit"]},
                         **kwargs)
        self.deadline, self.cell_timeout = deadline, cell_timeout
        self.incidents = []
        self.kernel_seconds = 0.0  # starting the kernel, for the grader's cost breakdown
        self._output_sizes, self._truncated = {}, set()

    def _cell_budget(self, cell):
        return max(1, int(min(self.cell_timeout, self.deadline - time.time())))

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``outputs.CELL_OUTPUT_LIMIT`` characters of a cell's output as it arrives: a print of
        gigabytes never sits in this process, and a visible line says what was dropped. Errors are kept."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.get("output_type") == "error":
            return out
        before = self._output_sizes.get(cell_index, 0)
        size = len(json.dumps(out))
        self._output_sizes[cell_index] = before + size
        if before + size <= outputs.CELL_OUTPUT_LIMIT:
            return out
        room = outputs.CELL_OUTPUT_LIMIT - before
        if out.get("output_type") == "stream" and room > 0 and outs and outs[-1] is out:
            out["text"] = out["text"][:room]
        elif outs and outs[-1] is out:
            outs.pop()
        if cell_index not in self._truncated:
            self._truncated.add(cell_index)
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n{outputs.MARK}: output past {outputs.CELL_OUTPUT_LIMIT:,} characters was not kept\n"))
        return out

    def run_all(self):
        """Run every code cell in order; stop at a dead or unresponsive kernel or at the deadline."""
        broken = None
        started = time.monotonic()
        with self.setup_kernel():
            self.kernel_seconds = time.monotonic() - started
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code":
                    continue
                if broken is None and time.time() >= self.deadline:
                    broken = "the submission ran out of its time budget; this cell and the rest did not run"
                    self.incidents.append(broken)
                    cell.outputs = [error_output("GradingError", broken)]
                    continue
                if broken is not None:
                    cell.outputs = [error_output("GradingError", f"not run: {broken}")]
                    continue
                try:
                    self.execute_cell(cell, index)
                except DeadKernelError:
                    broken = "the kernel died in this cell (os._exit, a crash, or the memory limit)"
                except CellTimeoutError:
                    broken = "the kernel stopped responding after this cell timed out (it ignored the interrupt)"
                if broken is not None and not self.incidents:
                    self.incidents.append(broken)
                    cell.outputs.append(error_output("GradingError", broken))


def run(spec, bundle, channel):
    kernel_env = dict(os.environ)
    for notebook in spec["notebooks"]:
        path = bundle / spec["assignment"] / f"{notebook}.ipynb"
        if not path.is_file():
            send(channel, notebook, {"status": "missing", "reason": f"{notebook}.ipynb was not submitted"})
            continue
        started = time.time()
        client = None
        try:
            nb = nbformat.read(path, as_version=4)
            client = GuardedClient(nb, float(spec["deadline"]), int(spec["cell_timeout"]), kernel_name="python3",
                                   resources={"metadata": {"path": str(path.parent)}}, env=kernel_env)
            client.run_all()
            data = json.dumps(outputs.cap_notebook(json.loads(nbformat.writes(nb))), ensure_ascii=False).encode("utf-8")
            status, reason = "graded", None
            if len(data) > MAX_NOTEBOOK_BYTES:
                status, reason, data = "failed", "the notebook grew too large to send back", None
        except Exception as error:  # one notebook's failure must not stop the others
            logging.exception("running %s failed", notebook)
            status, reason, data = "failed", f"{type(error).__name__}: {error}"[:500], None
        result = {"status": status, "reason": reason, "incidents": client.incidents if client else [],
                  "seconds": round(time.time() - started, 3),
                  "kernel_seconds": round(client.kernel_seconds, 3) if client else 0.0}
        send(channel, notebook, result, data)


def send(channel, notebook, result, data=None):
    arrays = {"ipynb": np.frombuffer(data, dtype=np.uint8)} if data is not None else {}
    channel.write(frames.encode(dict(result, notebook=notebook), arrays))
    channel.flush()


def main():
    # Keep the kernels (same user, same sandbox) from reading this process's memory or its channel.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints and the kernels' own output go to the log, never into the channel
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    source = Path(sys.argv[1])
    with open(source / "spec.json", encoding="utf-8") as handle:
        spec = json.load(handle)
    bundle = Path(os.environ.get("TMPDIR", "/tmp")) / "bundle"
    shutil.copytree(source / "bundle", bundle)
    profile = Path(os.environ["IPYTHONDIR"]) / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(outputs.GRADING_KERNEL_CONFIG, encoding="utf-8")
    os.chdir(bundle)
    run(spec, bundle, channel)


if __name__ == "__main__":
    main()
