"""A terminal progress bar fed by job events (no Qt)."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

from engine.jobs import JobEvent, LogMessage, ProgressReported

from engine.errors import printable


class TerminalProgress:
    def __init__(self, stream: Optional[TextIO] = None, width: int = 30, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.width = width
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.monotonic()
        self._last = 0.0
        self._last_line = ""
        self._base: Optional[tuple] = None  # (total, done, time) the ETA's rate is measured from

    def __call__(self, event: JobEvent) -> None:
        if self.quiet:
            return
        if isinstance(event, ProgressReported):
            p = event.progress
            self.update(p.done, p.total, p.message)
        elif isinstance(event, LogMessage):
            self.line(event.message)

    def eta(self, done: float, total: float, now: float) -> Optional[float]:
        """Seconds left at the rate since this phase's first report: a resumed run that starts at step 5200 of
        6000 is not credited with the 5200 steps it did in an earlier process."""
        base = self._base
        if base is None or base[0] != total or done < base[1]:
            self._base = (total, done, now)
            return None
        if done <= base[1] or now <= base[2]:
            return None
        return (total - done) * (now - base[2]) / (done - base[1])

    def update(self, done: float, total: float, message: str = "") -> None:
        now = time.monotonic()
        eta = self.eta(done, total, now) if total else None
        final = bool(total) and done >= total
        if not final and now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        elapsed = now - self.t0
        if total:
            frac = min(1.0, done / total)
            fill = int(frac * self.width)
            left = "–" if eta is None else _fmt(eta)
            bar = f"[{'#' * fill}{'.' * (self.width - fill)}] {frac * 100:5.1f}% {_fmt(elapsed)} / ETA {left}"
        else:
            bar = f"[{'.' * self.width}] {_fmt(elapsed)}"
        text = f"{bar} {printable(message)}"[:160]
        if self.tty:
            self.stream.write("\r" + text.ljust(len(self._last_line)))
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self._last_line = text
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty and self._last_line:
            self.stream.write("\n")
            self._last_line = ""
        self.stream.write(printable(text) + "\n")
        self.stream.flush()


def _fmt(s: float) -> str:
    s = int(max(0, s))
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
