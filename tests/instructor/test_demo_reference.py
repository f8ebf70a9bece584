"""The reference submission answers every cell: code answers as the source notebooks' solutions, unfenced."""

import json

import pytest

from instructor import demo
from instructor.course import NOTEBOOKS, REPO_ROOT


@pytest.fixture(scope="module")
def files():
    release = {name: (REPO_ROOT / "assignment1" / f"{name}.ipynb").read_text(encoding="utf-8") for name in NOTEBOOKS}
    return demo.reference_files(release)


@pytest.fixture(scope="module")
def submitted(files):
    return {name: json.loads(files[f"assignment1/{name}.ipynb"]) for name in NOTEBOOKS}


def answer_cells(notebook: dict) -> dict[str, dict]:
    return {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in notebook["cells"]
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_code_answer_is_the_solution_without_its_fence_and_every_written_answer_is_filled(submitted, name):
    source = answer_cells(json.loads(demo.source_notebooks()[name]))
    answers = answer_cells(submitted[name])
    assert answers.keys() == source.keys()
    code = [grade_id for grade_id, cell in answers.items() if cell["cell_type"] == "code"]
    assert code, "every notebook has code answers"
    for grade_id, cell in answers.items():
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            assert text == demo.ANSWER
            continue
        assert "NotImplementedError" not in text and "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        solution = "".join(source[grade_id]["source"])
        assert text == "\n".join(line for line in solution.splitlines() if "### " not in line or "SOLUTION" not in line)


def test_the_reference_modules_replace_the_stubs(files):
    svm = files["cs231n/classifiers/linear_svm.py"].decode()
    assert "raise NotImplementedError" not in svm and "def svm_loss_vectorized" in svm
