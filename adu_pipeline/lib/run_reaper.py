"""A run whose worker process died (kill -9, OOM) is marked failed and its pool slots freed.

Dagster's DefaultRunLauncher does not check run-worker health: such a run stays STARTED forever
and keeps its concurrency slots, so after `limit` kills every later run of that pool waits. The
worker reports its pid in an engine event ("Started process for run (pid: N)"); this sensor
checks that pid, but only for runs launched by the DefaultRunLauncher through a code server on
this host (the run's gRPC tag names the host), since another machine's pids mean nothing here.
It also frees slots still held by runs that already finished, and hands free slots to steps
left waiting beside them (`assign_stranded_steps`).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import FINISHED_STATUSES
from dagster._core.storage.tags import GRPC_INFO_TAG

from adu_pipeline.staging.processes import process_alive

SENSOR_NAME = "run_worker_reaper"
LIVE_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
MAX_RUNS_PER_TICK = 200
MAX_ENGINE_EVENTS = 500
WORKER_START = "Started process for "  # "... run (pid: N)." / "... resuming job (pid: N)."


@dataclass(frozen=True)
class RunWorker:
    pid: int
    recorded_at: float  # when the worker reported its pid (epoch seconds)
    host: str


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    job_name: str
    status: str  # the status it was stuck in
    worker: RunWorker


def local_hosts() -> set[str]:
    return {"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()}


def run_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunWorker | None:
    """The worker process a DefaultRunLauncher run reported, if it ran on this host."""
    grpc = run.tags.get(GRPC_INFO_TAG)
    if not grpc:
        return None
    info = json.loads(grpc)
    host = str(info.get("host") or "localhost") if not info.get("socket") else "localhost"
    if host not in local_hosts():
        return None
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=MAX_ENGINE_EVENTS
    ).records
    worker = None
    for record in records:  # the latest worker start: a resumed run has a new worker
        entry = record.event_log_entry
        event = entry.dagster_event
        data = event.engine_event_data if event else None
        pid = data.metadata.get("pid") if data else None
        started = (entry.message or "").startswith(WORKER_START)  # not a step's subprocess
        if started and pid is not None and str(pid.value).isdigit():
            worker = RunWorker(int(pid.value), entry.timestamp, host)
    return worker


def reap_dead_runs(instance: dg.DagsterInstance) -> list[ReapedRun]:
    """Mark failed every live run whose local worker process is gone; free its slots."""
    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return []
    reaped = []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=LIVE_STATUSES), limit=MAX_RUNS_PER_TICK)
    for run in runs:
        worker = run_worker(instance, run)
        if worker is None or process_alive(worker.pid, worker.recorded_at):
            continue
        current = instance.get_run_by_id(run.run_id)  # it may have finished meanwhile
        if current is None or current.status not in LIVE_STATUSES:
            continue
        instance.report_run_failed(
            current,
            message=(
                f"The run worker (pid {worker.pid} on {worker.host}) is gone while the run was "
                f"{current.status.value}: killed or crashed. Marked failed by {SENSOR_NAME}, "
                "its pool slots freed; run it again."
            ),
        )
        free_slots(instance, run.run_id)
        reaped.append(ReapedRun(run.run_id, run.job_name, current.status.value, worker))
    return reaped


def free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.free_concurrency_slots_for_run(run_id)


def free_finished_runs_slots(instance: dg.DagsterInstance) -> list[str]:
    """Slots still claimed by runs that already ended (a worker killed between steps)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    run_ids = storage.get_concurrency_run_ids()
    if not run_ids:
        return []
    finished = instance.get_runs(
        filters=dg.RunsFilter(run_ids=list(run_ids), statuses=list(FINISHED_STATUSES))
    )
    for run in finished:
        storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in finished]


def assign_stranded_steps(instance: dg.DagsterInstance) -> int:
    """Assign free pool slots to steps that wait unassigned; returns how many were assigned.

    Dagster 1.13 registers a waiting step in two transactions (are slots free? then enqueue):
    a slot freed between them goes to nobody, and the step waits "blocked by limit" until some
    other step of the pool frees one, which may be never. Seen with two opt-out runs at once."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    assigned = 0
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        waiting = sum(p.assigned_timestamp is None for p in info.pending_steps)
        free = info.slot_count - info.assigned_step_count
        if waiting and free > 0:
            storage.assign_pending_steps([key] * min(free, waiting))
            assigned += min(free, waiting)
    return assigned


def run_reaper_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Marks failed the runs whose worker process died (kill -9, OOM) while they were "
            "STARTING/STARTED/CANCELING, frees the pool slots they and finished runs hold, and "
            "gives free slots to steps left waiting."
        ),
    )
    def _reaper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        reaped = reap_dead_runs(context.instance)
        for run in reaped:
            context.log.warning(
                f"run {run.run_id} ({run.job_name}) was {run.status} but its worker pid "
                f"{run.worker.pid} is gone: marked failed, slots freed"
            )
        freed = free_finished_runs_slots(context.instance)
        if freed:
            context.log.info(f"freed the pool slots of {len(freed)} finished runs")
        stranded = assign_stranded_steps(context.instance)
        if stranded:
            context.log.info(f"gave free pool slots to {stranded} steps left waiting")
        return dg.SkipReason(
            f"{len(reaped)} dead runs marked failed, {len(freed)} slot holders freed, "
            f"{stranded} waiting steps given a free slot"
        )

    return _reaper
