"""Keep freed memory in the C heap during `adu hash` (glibc only; elsewhere nothing happens).

Each batch allocates numpy temporaries of a few MB. glibc serves those with fresh mmap pages
and returns them on free (or trims the heap), so every batch pays the page faults again:
measured 0.6-1.3 s of system time per million rows, about half of it avoidable. Fixed
thresholds (64 MiB mmap, 256 MiB trim) keep the pages for reuse; peak memory stays the same
because the same sizes come back every batch.
"""

import ctypes
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process; False when not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
