"""How persistent a download is; a module of its own so that runs which download nothing skip loading urllib."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """How persistent the download is.

    timeout : seconds without any data (connect or read) before an attempt is abandoned.
    retries : further attempts after a failed one; an attempt that made progress resets the count.
    backoff : first wait between attempts in seconds; it doubles after each failure (at most 60 s).
    quiet : no progress bar.
    """

    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    quiet: bool = False
