"""Stand-in for the hidden checks inside the grading sandbox (copied there as ``hidden_checks.py``).

The real hidden checks, their inputs and the reference never enter the sandbox: the grader runs the
student's functions on the hidden inputs in a sandbox of their own and judges the answers in its own
process. A ``hidden_NAME`` cell of a graded notebook scores what that verdict says; here it only says so.
"""


def check(name):
    print(f"{name}: checked by the grader outside this notebook; the result is in your feedback")
