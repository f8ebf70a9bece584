"""Step 1, the release: stubs and student notebooks generated from ``solutions/``, checked for leaks."""
