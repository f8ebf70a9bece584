"""Instructor side of the bundle: the reference solutions, nbgrader course and tooling (never released)."""
