"""The course manifest: what assignment 1 consists of. Every tool, test and ``cs231n.submission`` read it.

It lives in the student package because students package their work with it (``collectSubmission.sh``);
the instructor's release, intake, grading and feedback read the same names, so a notebook or a module
added here is added everywhere.
"""

from __future__ import annotations

ASSIGNMENT = "assignment1"

# The notebooks, in the order a student works through them (``assignment1/<name>.ipynb``).
NOTEBOOKS = ("knn", "svm", "softmax", "two_layer_net", "features")

# The files a student writes. Everything else in the bundle is trusted and comes from the instructor.
STUDENT_MODULES = (
    "cs231n/classifiers/k_nearest_neighbor.py",
    "cs231n/classifiers/linear_svm.py",
    "cs231n/classifiers/softmax.py",
    "cs231n/classifiers/linear_classifier.py",
    "cs231n/classifiers/neural_net.py",
)
STUDENT_NOTEBOOKS = tuple(f"{ASSIGNMENT}/{name}.ipynb" for name in NOTEBOOKS)
SUBMISSION_FILES = STUDENT_NOTEBOOKS + STUDENT_MODULES

# The checksums file inside a submission zip, and the checksums of the files as released (written by the
# release build beside the bundle's top-level README): the latter tells an untouched module from a changed one.
SUBMISSION_MANIFEST = "MANIFEST.sha256"
RELEASE_RECORD = "RELEASE.sha256"
SUBMISSION_ZIP = f"cs231n_{ASSIGNMENT}_submission.zip"

# The wording of what the release leaves for students to write.
# A stub function's body: `raise NotImplementedError(STUB_MESSAGE.format(function=..., path=...))`.
STUB_MESSAGE = "Implement {function} in {path} (see the TODO above this line)"
STUB_PREFIX = "Implement "  # how cs231n.submission tells the release's TODOs from designed NotImplementedErrors
# A notebook code cell's solution region and a written answer, as nbgrader leaves them in the release.
UNWRITTEN_CELL = "YOUR CODE HERE"
UNANSWERED = "YOUR ANSWER HERE"
CELL_STUB = (
    f"# {UNWRITTEN_CELL}\n"
    "raise NotImplementedError(\"write your code in this cell where it says YOUR CODE HERE, then run it again\")"
)
