"""Progress bars in bytes: tqdm when it is importable, else a one-line text fallback (standard library only).

Both show the amount done and the total, the rate and the time left, and accept ``update(n_bytes)``,
``update_to(done_bytes)`` and ``close()``.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def human_bytes(count: float) -> str:
    """``1234567`` -> ``'1.2 MB'`` (decimal units, as download sizes are usually quoted)."""
    if abs(count) < 1000:
        return f"{count:.0f} B"
    for unit in ("kB", "MB"):
        count /= 1000
        if round(abs(count), 1) < 1000:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:.1f} GB"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TextProgress:
    """``desc  45.2 MB / 170.5 MB  26%  12.3 MB/s  1:02 left`` on one line of ``stream``.

    On a terminal the line is redrawn at most every ``interval`` seconds; into a log (not a terminal) a
    new line is written at most every ``log_interval`` seconds, so logs stay short.
    """

    def __init__(
        self,
        total: Optional[int],
        desc: str,
        initial: int = 0,
        stream: Optional[TextIO] = None,
        interval: float = 0.2,
        log_interval: float = 5.0,
    ):
        self.total = total
        self.desc = desc
        self.done = initial
        self.stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = interval if self._tty else log_interval
        self._start_done = initial
        self._start = time.monotonic()
        self._last_draw = -float("inf")

    def line(self) -> str:
        """The current progress line (without line ending)."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (self.done - self._start_done) / elapsed
        text = f"{self.desc}  {human_bytes(self.done)}"
        if self.total:
            text += f" / {human_bytes(self.total)}  {100 * self.done / self.total:3.0f}%"
        text += f"  {human_bytes(rate)}/s"
        if self.total and rate > 0:
            text += f"  {_clock(max(self.total - self.done, 0) / rate)} left"
        return text

    def _draw(self, final: bool = False) -> None:
        if self._tty:
            self.stream.write("\r" + self.line().ljust(79) + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def update(self, count: int) -> None:
        self.update_to(self.done + count)

    def update_to(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self._last_draw >= self._interval:
            self._last_draw = now
            self._draw()

    def close(self) -> None:
        self._draw(final=True)


class _TqdmProgress:
    """Adapter giving tqdm the ``update_to`` method of ``TextProgress``."""

    def __init__(self, bar):
        self._bar = bar

    def update(self, count: int) -> None:
        self._bar.update(count)

    def update_to(self, done: int) -> None:
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


class _Silent:
    def update(self, count: int) -> None:
        pass

    def update_to(self, done: int) -> None:
        pass

    def close(self) -> None:
        pass


def make_progress(total: Optional[int], desc: str, initial: int = 0, quiet: bool = False):
    """A byte progress bar on stderr: silent when ``quiet``, tqdm when installed, else ``TextProgress``."""
    if quiet:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return TextProgress(total, desc, initial=initial)
    bar = tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        file=sys.stderr,
        mininterval=0.2,
        dynamic_ncols=True,
    )
    return _TqdmProgress(bar)
