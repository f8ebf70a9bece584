"""Instructor tooling: stub build, release build, autograding, demo and benchmarks."""
