"""Keep freed memory for reuse during `adu hash`, so batches do not fault pages in again.

Each batch allocates numpy temporaries of a few MB. glibc serves those with fresh mmap pages
and returns them on free (or trims the heap), so every batch pays the page faults again:
measured 0.6-1.3 s of system time per million rows, about half of it avoidable. Fixed
thresholds (64 MiB mmap, 256 MiB trim) keep the pages for reuse (glibc only).

Arrow's own default pool (mimalloc) hands its freed pages back to the kernel after a few
milliseconds, so each batch faulted (and zeroed, as transparent huge pages) them again. Arrow
allocates from its jemalloc pool instead, which keeps them for a second: as fast as glibc's
heap and, unlike it, flat in memory from 1M to 10M rows (figures: benchmarks/README.md).
`ARROW_DEFAULT_MEMORY_POOL`, when set, wins. Both apply to the `adu hash` process and its
threads (the default pool); `ADU_HASH_POOL=process` workers keep the defaults.
"""

import contextlib
import ctypes
import os
import platform

import pyarrow as pa

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process (False when not glibc) and make
    Arrow allocate from its jemalloc pool unless ARROW_DEFAULT_MEMORY_POOL says otherwise."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        # a pyarrow build without jemalloc keeps its default pool
        with contextlib.suppress(NotImplementedError):
            pa.set_memory_pool(pa.jemalloc_memory_pool())
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
