"""The student package of assignment 1: classifiers to implement and complete utilities."""
