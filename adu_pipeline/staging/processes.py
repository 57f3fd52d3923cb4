"""Is the process that left something behind still alive? One answer for every clean-up.

A pid alone can be reused after a crash, so the caller passes the moment the pid was recorded:
a process that started after it is another process. Zombies (killed, not yet reaped) count as
gone. Linux's /proc gives the start time and state; elsewhere only existence is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def process_alive(pid: int, recorded_at: float | None = None) -> bool:
    """True when `pid` is a live process that already existed at `recorded_at` (epoch seconds)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, started = stat
    if state in ("Z", "X"):
        return False
    return recorded_at is None or started is None or started <= recorded_at + 2.0  # btime: whole s


def _proc_stat(pid: int) -> tuple[str, float | None] | None:
    """(state, start time in epoch seconds) from /proc, or None where there is no /proc."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return ("X", None) if PROC.is_dir() else None
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    state, start_ticks = fields[0], int(fields[19])
    boot = _boot_time()
    if boot is None:
        return state, None
    return state, boot + start_ticks / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float | None:
    try:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None
