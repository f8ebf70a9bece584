"""Step 3, grading one submission: the sandbox, the trusted checks, nbgrader on the notebooks, the score."""
