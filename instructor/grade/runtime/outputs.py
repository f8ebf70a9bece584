"""Cap what a notebook keeps of its cells' outputs, so a print of 100 MB costs nobody but its author.

Used on both sides: the grading driver in the sandbox caps the notebooks it sends back, and the grader
caps them again when it reads them (it trusts nothing the sandbox sends). Works on plain JSON (dicts and
lists), standard library only.
"""

import copy
import json

# The kernels' settings when grading (an ipython_kernel_config.py): figures are built but never rendered to
# images (the inline backend shows a text stand-in: grading reads no figure), and no history database.
GRADING_KERNEL_CONFIG = """c = get_config()
c.InlineBackend.figure_formats = set()
c.HistoryManager.enabled = False
"""
CELL_OUTPUT_LIMIT = 1 << 20  # characters of output kept per cell
NOTEBOOK_OUTPUT_LIMIT = 8 << 20  # characters of output kept per notebook
ERROR_TEXT_LIMIT = 20000  # characters of an error's message and traceback
MARK = "[output truncated]"


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _cap_error(output):
    traceback = [_text(line)[:ERROR_TEXT_LIMIT] for line in output.get("traceback", [])[:200]]
    while sum(map(len, traceback)) > ERROR_TEXT_LIMIT and len(traceback) > 1:
        traceback.pop(0)  # the end of a traceback says what went wrong
    return {"output_type": "error", "ename": _text(output.get("ename", ""))[:200],
            "evalue": _text(output.get("evalue", ""))[:ERROR_TEXT_LIMIT], "traceback": traceback}


def cap_cell(outputs, limit=CELL_OUTPUT_LIMIT):
    """The outputs of one cell within ``limit`` characters; errors are always kept (shortened), and a
    visible ``[output truncated]`` line on stdout says what was dropped (stdout: it is not a failure)."""
    kept, used, dropped = [], 0, 0
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        if output.get("output_type") == "error":
            kept.append(_cap_error(output))
            continue
        size = len(json.dumps(output))
        if used + size <= limit:
            kept.append(output)
            used += size
            continue
        if output.get("output_type") == "stream" and limit - used > 0:
            text = _text(output.get("text", ""))
            room = limit - used
            kept.append({"output_type": "stream", "name": output.get("name", "stdout"), "text": text[:room]})
            dropped += len(text) - room
            used = limit
        else:
            dropped += size
    if dropped:
        kept.append({"output_type": "stream", "name": "stdout",
                     "text": f"\n{MARK}: {dropped:,} more characters of output were not kept\n"})
    return kept


def cap_notebook(notebook):
    """Cap every code cell of a notebook (a JSON dict), in place, then the notebook as a whole."""
    left = NOTEBOOK_OUTPUT_LIMIT
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell["outputs"] = cap_cell(cell.get("outputs", []), min(CELL_OUTPUT_LIMIT, max(left, 0)))
        left -= len(json.dumps(cell["outputs"]))
    return notebook


# Outputs a browser would run or render as markup: nothing a submission printed may do that in a reader's
# browser (the feedback pages, formgrader).
ACTIVE_MIME = ("text/html", "application/javascript", "application/vnd.jupyter.widget-view+json")


def drop_active_outputs(outputs):
    """The outputs of one cell without HTML, JavaScript and widget data; displays left empty are dropped."""
    kept = []
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict) and output.get("output_type") in ("display_data", "execute_result"):
            data = {k: v for k, v in output.get("data", {}).items() if k not in ACTIVE_MIME}
            if not data:
                continue
            output = copy.copy(output)  # keeps its type (nbformat's NotebookNode, or a dict)
            output["data"] = data
        kept.append(output)
    return kept
