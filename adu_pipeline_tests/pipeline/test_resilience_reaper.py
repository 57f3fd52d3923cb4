"""Which runs the run_worker_reaper touches, on a real Dagster instance in a temp dir: a run
whose local worker pid is gone is failed and its slot freed; a live worker, a worker on another
host and a run with no recorded worker are left alone; a finished run's leftover slot is freed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import create_run_for_test

from adu_pipeline.lib.run_reaper import (
    SENSOR_NAME,
    assign_stranded_steps,
    reap_dead_runs,
    run_reaper_sensor,
)

POOL = "amc.test_dataset.us"


@pytest.fixture
def instance(tmp_path):
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 10)
        yield instance


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def started_run(instance, pid: int | None, host: str = "localhost") -> dg.DagsterRun:
    run = create_run_for_test(
        instance,
        job_name="crm_customers_export_job",
        status=dg.DagsterRunStatus.STARTED,
        tags={GRPC_INFO_TAG: json.dumps({"host": host, "port": 4000})},
    )
    if pid is not None:
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
    instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "upload_step")
    return run


def status(instance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run.run_id).status


def claimed(instance) -> set[str]:
    return {s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots}


def test_only_a_local_run_whose_worker_is_gone_is_failed_and_freed(instance):
    dead = started_run(instance, dead_pid())
    live = started_run(instance, os.getpid())
    remote = started_run(instance, dead_pid(), host="worker-7.example.internal")
    unknown = started_run(instance, None)
    step_died = started_run(instance, os.getpid())  # a step's subprocess is not the worker
    instance.report_engine_event(
        "Executing steps in process (pid: 1).", step_died, EngineEventData.in_process(dead_pid())
    )
    reaped = reap_dead_runs(instance)
    assert [r.run_id for r in reaped] == [dead.run_id]
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    for run in (live, remote, unknown, step_died):
        assert status(instance, run) == dg.DagsterRunStatus.STARTED
    assert claimed(instance) == {live.run_id, remote.run_id, unknown.run_id, step_died.run_id}
    assert reap_dead_runs(instance) == []  # once


def test_the_sensor_also_frees_the_slot_a_finished_run_kept(instance):
    run = started_run(instance, os.getpid())
    instance.report_run_failed(instance.get_run_by_id(run.run_id))  # a code server saw it die
    assert claimed(instance) == {run.run_id}
    result = run_reaper_sensor().evaluate_tick(dg.build_sensor_context(instance=instance))
    assert claimed(instance) == set()
    assert result.skip_message == (
        "0 dead runs marked failed, 1 slot holders freed, 0 waiting steps given a free slot"
    )
    assert run_reaper_sensor().name == SENSOR_NAME


def test_a_step_enqueued_just_after_a_slot_was_freed_gets_that_slot(instance):
    """Dagster's two-transaction enqueue: the step checked (no free slot), the holder freed it,
    then the step enqueued unassigned. Nothing else would ever assign it."""
    storage = instance.event_log_storage
    storage.set_concurrency_slots("amc.deletions.us", 1)
    storage.add_pending_step("amc.deletions.us", "run-b", "deletions", should_assign=False)
    assert not storage.check_concurrency_claim("amc.deletions.us", "run-b", "deletions").is_assigned

    assert assign_stranded_steps(instance) == 1
    claim = storage.claim_concurrency_slot("amc.deletions.us", "run-b", "deletions")
    assert claim.is_claimed
    # the slot is taken now: a third step waits, and is not handed a slot that is not free
    storage.add_pending_step("amc.deletions.us", "run-c", "deletions", should_assign=False)
    assert assign_stranded_steps(instance) == 0
    storage.free_concurrency_slots_for_run("run-b")  # frees and assigns to run-c, as Dagster does
    assert storage.check_concurrency_claim("amc.deletions.us", "run-c", "deletions").is_assigned
    assert assign_stranded_steps(instance) == 0
