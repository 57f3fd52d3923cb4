"""SHA-256 of a string column as 64 lowercase hex, nulls kept.

DuckDB's sha256() reads the Arrow buffers without copying and is about twice as fast as a
hashlib loop on one core (measured: 1.7M vs 0.75M short strings/s), and more on two.
"""

import multiprocessing
import os
import threading

import duckdb
import pyarrow as pa

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory connection per thread and process (connections don't survive a fork)."""
    con = getattr(_local, "con", None)
    if con is None or _local.pid != os.getpid():
        con = duckdb.connect(":memory:")
        threads = int(os.environ.get("ADU_HASH_THREADS", "0")) or _default_threads()
        con.execute(f"SET threads={threads}")
        _local.con, _local.pid = con, os.getpid()
    return con


def _default_threads() -> int:
    """All cores in a single process; one per worker when a process pool already uses them."""
    if multiprocessing.parent_process() is not None:
        return 1
    return min(2, os.cpu_count() or 1)


def sha256_hex(values: pa.Array) -> pa.Array:
    """Hash each non-null UTF-8 value; null stays null. Returns pa.string()."""
    if len(values) == 0:
        return pa.array([], pa.string())
    con = _connection()
    con.register("pii_values", pa.table({"v": values.cast(pa.string())}))
    try:
        result = con.sql("SELECT sha256(v) AS h FROM pii_values").to_arrow_table()
    finally:
        con.unregister("pii_values")
    return result.column(0).combine_chunks().cast(pa.string())
