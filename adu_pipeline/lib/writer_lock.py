"""One writer at a time per pool: the lock that makes find-then-create in AMC exactly-once.

Pools with a limit of 1 keep a second run's step queued, but Dagster's slot claim is a read
followed by an update, and two processes can both win it: SQLite ignores `FOR UPDATE`, and on
PostgreSQL the claim runs in autocommit (dagster 1.13.27, `_claim_concurrency_slot`). The
concurrency tests caught two audience steps of one segment running at once, both creating.

So a step that writes to AMC also holds a lock that cannot be won twice, taken after the pool
check and held until its writes are done; the step re-reads AMC once it holds it:
- a PostgreSQL instance: a session advisory lock on the instance's own database, which holds
  across machines and ends with the session (a killed run's connection closes);
- any other instance: an exclusive file lock under DAGSTER_HOME (`flock`), which holds across the
  processes of one machine (SQLite storage lives on one machine) and ends with the process.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import filelock
import sqlalchemy as sa

from adu_pipeline.lib.instance import require_exclusive_pool

LOCK_TIMEOUT_SECONDS = 3600.0  # a step holding a pool longer than this is stuck, not busy
POLL_SECONDS = 0.2
LOCK_DIR = "adu-locks"


@contextmanager
def amc_writer(context: Any, pool: str, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Check that `pool` admits one run, then hold its writer lock for the `with` block."""
    require_exclusive_pool(context, pool)
    storage = context.instance.event_log_storage
    postgres_url = getattr(storage, "postgres_url", None)
    lock = _advisory_lock if postgres_url else _file_lock
    where = postgres_url or _lock_file(context.instance, pool)
    with lock(where, pool, context.log, timeout):
        yield


def lock_id(pool: str) -> int:
    """A stable signed 64-bit advisory lock id for a pool name."""
    digest = hashlib.sha256(f"adu-pipeline/amc-writer/{pool}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_file(instance: dg.DagsterInstance, pool: str) -> Path:
    root = Path(instance.root_directory) if instance.root_directory else Path.home() / ".adu"
    folder = root / LOCK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{pool}.lock"


@contextmanager
def _file_lock(path: Path, pool: str, log: Any, timeout: float) -> Iterator[None]:
    lock = filelock.FileLock(path, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.info(f"waiting for the run that is writing to AMC in pool {pool}")
        try:
            lock.acquire(timeout=timeout, poll_interval=POLL_SECONDS)
        except filelock.Timeout:
            raise _stuck(pool, timeout) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory_lock(url: str, pool: str, log: Any, timeout: float) -> Iterator[None]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            key = {"key": lock_id(pool)}
            try_lock = sa.text("SELECT pg_try_advisory_lock(:key)")
            deadline = time.monotonic() + timeout
            if not conn.execute(try_lock, key).scalar():
                log.info(f"waiting for the run that is writing to AMC in pool {pool}")
                while not conn.execute(try_lock, key).scalar():
                    if time.monotonic() > deadline:
                        raise _stuck(pool, timeout)
                    time.sleep(POLL_SECONDS)
            conn.commit()  # the lock is the session's; end the read transaction
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
                conn.commit()
    finally:
        engine.dispose()


def _stuck(pool: str, timeout: float) -> dg.Failure:
    return dg.Failure(
        description=(
            f"another run has been writing to AMC in pool {pool} for over {timeout:g} s; "
            "check it in the Runs page (a killed run frees its lock when its process ends)"
        )
    )
