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
	$(PY) -m instructor.demo

# --dist loadfile: each test file runs whole on one worker, so a module-scoped fixture (the graded batch)
# is built once. (xdist's loadgroup no longer groups with pytest 9.2: pytest-xdist issue 1386.)
test: venv browser sandbox
	$(PY) -m pytest -n auto --dist loadfile

venv: $(STAMP)

$(STAMP): requirements.txt solutions/student/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed, found " + sys.version.split()[0] + ": set PYTHON=/path/to/python3.10+")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# The project's own packages (cs231n, solutions, instructor, bench), editable: no module edits sys.path.
	$(PY) -m pip install --quiet --no-deps --editable .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# $(call system_package,COMMAND,PACKAGE,WHAT IT IS FOR,WHAT HAPPENS WITHOUT IT): install a Debian package
# when COMMAND is missing, where apt is at hand and we are root; otherwise say what that means.
define system_package
@command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "Installing $(2) for $(3)"; \
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null) \
      || echo "$(2) could not be installed: $(4)"; \
  else echo "$(2) is absent and cannot be installed here: $(4)"; fi; }
endef

# The autograder runs student code in bubblewrap sandboxes (the package is named bubblewrap on Debian, Ubuntu,
# Fedora and Arch). Without it the autograder refuses to grade, the demo grades its trusted reference
# submission without a sandbox, and the grading tests skip.
sandbox:
	$(call system_package,bwrap,bubblewrap,the grading sandbox,the autograder will refuse to grade (see the README))

# The web demo's browser tests drive Debian's chromium.
browser:
	$(call system_package,chromium,chromium,the browser tests,the browser tests will skip)

# `make release FORCE=1` (or `make stubs FORCE=1`) overwrites generated files edited by hand; without it
# the build refuses and names them (RELEASE.sha256 records what it last wrote).
FORCE ?=
FORCE_FLAG := $(if $(filter-out 0,$(FORCE)),--force)

# Regenerate the student stubs cs231n/classifiers/*.py from solutions/cs231n/classifiers/*.py.
stubs: venv
	$(PY) -m instructor.release.build_stubs $(FORCE_FLAG)

# Regenerate the nbgrader source notebooks from their cell files solutions/source/*_notebook.py.
notebooks: venv
	$(PY) -m instructor.release.notebooks

# Build the whole student release (stubs and notebooks) and the student archive.
release: venv
	$(PY) -m instructor.release $(FORCE_FLAG)

# Fetch CIFAR-10 into datasets/cifar-10-batches-py (CIFAR10_URL and CIFAR10_MD5/CIFAR10_SHA256 select a mirror).
data:
	bash datasets/get_datasets.sh

bench: venv
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
