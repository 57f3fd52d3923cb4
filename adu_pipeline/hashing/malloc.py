"""Keep freed memory in the C heap during `adu hash` (glibc only; elsewhere nothing happens).

Each batch allocates numpy temporaries of a few MB. glibc serves those with fresh mmap pages
and returns them on free (or trims the heap), so every batch pays the page faults again:
measured 0.6-1.3 s of system time per million rows, about half of it avoidable. Fixed
thresholds (64 MiB mmap, 256 MiB trim) keep the pages for reuse; peak memory stays the same
because the same sizes come back every batch.

Arrow's own default pool (mimalloc) hands its freed pages back to the kernel after a few
milliseconds, so each batch faulted (and zeroed, as transparent huge pages) them again. Arrow
allocates from its jemalloc pool instead, which keeps freed pages for a second: on 1M rows
0.93x the hash-only pass per cpu-s against 0.76x with mimalloc, and flat memory from 1M to 10M
rows (560-650 MiB). glibc's heap was as fast but crept up batch after batch (700-800 MiB at 10M).
"""

import contextlib
import ctypes
import platform

import pyarrow as pa

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process and make Arrow allocate from its
    jemalloc pool; False (and nothing changed) when not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    if ok:
        # a pyarrow build without jemalloc keeps its default pool
        with contextlib.suppress(NotImplementedError):
            pa.set_memory_pool(pa.jemalloc_memory_pool())
    return ok
