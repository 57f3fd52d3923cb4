"""Hold an AMC writer lock in another process until killed, to test it against a real instance."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field

import dagster as dg
import pytest

from adu_pipeline.lib.writer_lock import amc_writer

PROCESSES = multiprocessing.get_context("spawn")
POOL = "amc.crm_customers.us"


@dataclass
class StepContext:
    """The two things `amc_writer` reads from a step's context: the instance and its log."""

    instance: dg.DagsterInstance
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("writer-lock-test"))


def _hold(home: str, pool: str, ready) -> None:
    instance = dg.DagsterInstance.from_config(home)
    with amc_writer(StepContext(instance), pool):
        ready.set()
        time.sleep(600)


def assert_one_holder_and_freed_by_kill(home: str) -> None:
    """A second process cannot take the lock while the first holds it; kill -9 frees it."""
    instance = dg.DagsterInstance.from_config(home)
    instance.event_log_storage.set_concurrency_slots(POOL, 1)
    ready = PROCESSES.Event()
    holder = PROCESSES.Process(target=_hold, args=(home, POOL, ready))
    holder.start()
    try:
        assert ready.wait(timeout=120), "the holder never took the lock"
        busy = pytest.raises(dg.Failure, match="another run has been writing to AMC")
        with busy, amc_writer(StepContext(instance), POOL, timeout=1.0):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(timeout=30)
        started = time.monotonic()
        with amc_writer(StepContext(instance), POOL, timeout=30.0):
            waited = time.monotonic() - started
        assert waited < 10, f"the lock of a killed process took {waited:.1f} s to free"
    finally:
        if holder.is_alive():
            holder.kill()
        instance.dispose()
