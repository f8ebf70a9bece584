#!/usr/bin/env bash
# Check and package assignment 1 for submission: bash collectSubmission.sh [-o NAME.zip]
# Packs the three notebooks and cs231n/classifiers/*.py (never data, environments or caches) with a
# checksum manifest; stops with a message on a missing file, a notebook that was never run or ends in an
# error, or a function still to implement. Needs only Python 3 (no `zip` program).
set -euo pipefail
cd "$(dirname "$0")"
if [ -x .venv/bin/python ]; then
  PYTHON=.venv/bin/python
elif command -v python3 >/dev/null 2>&1; then
  PYTHON=python3
else
  echo "ERROR: Python 3 not found; activate the environment you use for the notebooks and run this again." >&2
  exit 1
fi
exec "$PYTHON" -I cs231n/submission.py "$@"
