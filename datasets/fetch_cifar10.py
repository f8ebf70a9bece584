"""Fetch CIFAR-10 into datasets/cifar-10-batches-py, verified and resumable (standard library only).

Run `python datasets/fetch_cifar10.py --help` (or `bash datasets/get_datasets.sh --help`) for the options
and the environment variables (CIFAR10_URL, CIFAR10_MD5, CIFAR10_SHA256, CIFAR10_DIR).
"""

import sys

# Checked before importing the package, whose syntax needs Python 3.8, so older interpreters get a clear message.
if sys.version_info < (3, 8):
    sys.exit("fetch_cifar10.py needs Python 3.8 or newer; this is Python %d.%d." % sys.version_info[:2])

from cifar10_fetch.cli import main  # noqa: E402  (after the version check on purpose)

if __name__ == "__main__":
    sys.exit(main())
