#!/usr/bin/env bash
# Package assignment 1 for submission, finished or not: bash collectSubmission.sh [-o NAME.zip]
# Packs the three notebooks and your four modules of cs231n/classifiers/ as they are (never data,
# environments or caches) with a checksum manifest, then lists what is unfinished and scores 0. It stops
# only on an untouched release, a file it cannot read, or a folder without the assignment's files (see
# cs231n/submission.py). Needs only Python 3 (no `zip` program).
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
# -m from this folder imports cs231n/ here (and its course manifest); -E -s keep PYTHONPATH and user site out.
exec "$PYTHON" -E -s -m cs231n.submission "$@"
