"""Progress on stderr for long runs: one updating line on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """A `progress(rows_done)` callback; quiet for the first seconds so small files stay silent."""

    def __init__(
        self, stream: TextIO | None = None, *, delay: float = 2.0, every: float | None = None
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.delay = delay
        self.every = every if every is not None else (0.5 if self.tty else 10.0)
        self.started = time.monotonic()
        self.last = self.started
        self.shown = False

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last < self.every:
            return
        self.last = now
        rate = rows / (now - self.started)
        text = f"hashing: {rows:,} rows, {rate:,.0f} rows/s"
        if self.tty:
            self.stream.write(f"\r{text}\033[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        """End the updating line so the summary starts on its own line."""
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
