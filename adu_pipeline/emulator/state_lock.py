"""One emulator per state folder: two servers on one SQLite state would run each other's jobs
and interleave writes, so the second one refuses to start (an flock held while serving)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from adu_pipeline.errors import InputError

LOCK_NAME = "emulator.lock"


class StateLock:
    """An exclusive, non-blocking flock on `state_dir/emulator.lock`; the OS drops it if the
    process dies, so a crashed emulator never leaves the folder locked."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError(
                f"another AMC emulator is already using the state folder {self.path.parent} "
                "(adu dev, adu local up or adu demo?): stop it first or use another state folder"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
