"""Fetch the python version of CIFAR-10: verified, resumable, mirror-aware and safe to run twice.

Modules, one job each:

- ``layout``: names and sizes of the canonical archive and of the folder it unpacks to.
- ``errors``: the exceptions whose messages are shown to the user, and the mapping of OS errors to them.
- ``sources``: reads ``CIFAR10_URL`` / ``CIFAR10_MD5`` / ``CIFAR10_SHA256`` into sources and checksums.
- ``progress``: a tqdm progress bar, or a one-line text fallback when tqdm is not installed.
- ``download``: streaming HTTP download with retries, back-off, timeouts and resume (HTTP Range).
- ``verify``: size and checksum of the archive before anything is unpacked.
- ``safe_extract``: unpacks into a temporary folder, refusing members that escape it or are links.
- ``manifest`` / ``check_copy``: the record of the unpacked files and the checks that use it.
- ``install``: the atomic swap into place, the lock and the clean-up after interrupted runs.
- ``pipeline`` / ``cli``: the steps in order, and the command line.

Only the standard library is used: students run this before any virtual environment exists.
"""
