#!/usr/bin/env bash
# Fetch CIFAR-10 into datasets/cifar-10-batches-py: verified, resumable, safe to run twice.
# A thin wrapper: every argument goes to datasets/fetch_cifar10.py (standard-library Python), run with the
# project's .venv when it exists (for the tqdm progress bar), else with python3. See --help.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
for candidate in "$root/.venv/bin/python" "$root/.venv/Scripts/python.exe" python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then
    exec "$candidate" "$here/fetch_cifar10.py" "$@"
  fi
done
echo "error: Python 3.8 or newer is needed to fetch CIFAR-10 (no .venv, python3 or python found)." >&2
echo "What to do: install Python 3 (https://www.python.org/downloads/), then run this script again." >&2
exit 1
