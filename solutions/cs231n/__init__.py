"""Reference implementation of the student package's classifiers (see ``classifiers/``)."""
