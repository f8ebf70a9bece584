# Entry points of the instructor's and maintainers' bundle (students get no Makefile: see
# solutions/student/README.md). Every target sets up .venv from requirements.txt first,
# so each works alone on a fresh machine with Python 3.10 or newer.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
# nbgrader runs `alembic` from PATH when it creates a gradebook, and notebooks start `python` kernels.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test venv browser sandbox stubs notebooks release bench data clean-venv

demo: venv sandbox
	$(PY) -m solutions.instructor.demo

# --dist loadfile: each test file runs whole on one worker, so a module-scoped fixture (the graded batch)
# is built once. (xdist's loadgroup no longer groups with pytest 9.2: pytest-xdist issue 1386.)
test: venv browser sandbox
	$(PY) -m pytest -n auto --dist loadfile

venv: $(STAMP)

$(STAMP): requirements.txt solutions/student/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed, found " + sys.version.split()[0] + ": set PYTHON=/path/to/python3.10+")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# The autograder runs student code in bubblewrap sandboxes (Debian/Ubuntu package bubblewrap; Fedora and Arch
# name it the same); install it where apt is at hand and we are root. Without it the autograder refuses to
# grade, the demo grades its trusted reference submission without a sandbox, and the grading tests skip.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing bubblewrap for the grading sandbox"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) \
	      || echo "bubblewrap could not be installed: the autograder will refuse to grade (see README)"; \
	  else echo "bubblewrap is absent and cannot be installed here: see the README's grading section"; fi; }

# The web demo's browser tests drive Debian's chromium; install it where apt is at hand and we are root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser tests will skip"; \
	  else echo "chromium is absent and cannot be installed here: the browser tests will skip"; fi; }

# `make release FORCE=1` (or `make stubs FORCE=1`) overwrites generated files edited by hand; without it
# the build refuses and names them (RELEASE.sha256 records what it last wrote).
FORCE ?=
FORCE_FLAG := $(if $(filter-out 0,$(FORCE)),--force)

# Regenerate the student stubs cs231n/classifiers/*.py from solutions/cs231n/classifiers/*.py.
stubs: venv
	$(PY) -m solutions.instructor.build_stubs $(FORCE_FLAG)

# Regenerate the nbgrader source notebooks from their cell files solutions/source/*_notebook.py.
notebooks: venv
	$(PY) -m solutions.source.make_notebooks

# Build the whole student release (stubs and notebooks) and the student archive.
release: venv
	$(PY) -m solutions.instructor.release $(FORCE_FLAG)

# Fetch CIFAR-10 into datasets/cifar-10-batches-py (CIFAR10_URL and CIFAR10_MD5/CIFAR10_SHA256 select a mirror).
data:
	bash datasets/get_datasets.sh

bench: venv
	$(PY) -m solutions.instructor.bench

clean-venv:
	rm -rf $(VENV)
