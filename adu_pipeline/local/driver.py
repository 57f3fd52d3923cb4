"""Drive sensors outside the daemon: evaluate a tick on a real instance, record its asset events,
and execute the runs it requests in this process. The demo and the tests use it; in `adu dev`
the Dagster daemon does the same thing on its own schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

# Failures still reach the event log and the caller's one-line reason; the console stays calm.
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class TickOutcome:
    sensor: str
    events: list[Any]
    runs: list[dg.ExecuteInProcessResult]
    skip_message: str | None

    def checks(self) -> list[dg.AssetCheckEvaluation]:
        return [e for e in self.events if isinstance(e, dg.AssetCheckEvaluation)]


@dataclass
class SensorDriver:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    cursors: dict[str, str | None] = field(default_factory=dict)
    run_keys: set[str] = field(default_factory=set)
    quiet: bool = False

    def tick(self, sensor_name: str) -> TickOutcome:
        sensor = self.defs.resolve_sensor_def(sensor_name)
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(sensor_name),
            definitions=self.defs,
            sensor_name=sensor_name,
            resources=dict(self.defs.resources or {}),
        )
        # The daemon resolves run requests' dynamic partition keys against the instance plus the
        # tick's own partition requests; a context built from an instance (not an instance ref)
        # has no such store, so give it the instance (a cached property of the context).
        context.__dict__["caching_dynamic_partitions_loader"] = self.instance
        with context:
            data = sensor.evaluate_tick(context)
        for request in data.dynamic_partitions_requests or []:  # before the runs that need them
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys)
                )
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
        for event in data.asset_events:
            self.instance.report_runless_asset_event(event)
        self.cursors[sensor_name] = data.cursor
        default_job = sensor.job_name if sensor.has_jobs and len(sensor.jobs) == 1 else None
        fresh = [r for r in data.run_requests if not r.run_key or r.run_key not in self.run_keys]
        self.run_keys.update(r.run_key for r in fresh if r.run_key)  # the daemon skips repeats
        runs = [self.execute(request, default_job) for request in fresh]
        return TickOutcome(sensor_name, list(data.asset_events), runs, data.skip_message)

    def execute(
        self, request: dg.RunRequest, default_job: str | None = None
    ) -> dg.ExecuteInProcessResult:
        job_name = request.job_name or default_job
        if job_name is None:
            raise ValueError("run request names no job")
        job = self.defs.resolve_job_def(job_name)
        run_config = dict(request.run_config or {})
        if self.quiet:
            run_config.update(QUIET_LOGGERS)
        return job.execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            tags=dict(request.tags or {}),
            run_config=run_config or None,
            raise_on_error=False,
        )

    def until(
        self,
        sensor_name: str,
        done: Callable[[list[TickOutcome]], bool],
        *,
        timeout: float = 120.0,
        interval: float = 0.25,
    ) -> list[TickOutcome]:
        """Tick until `done(outcomes so far)`; TimeoutError if it never is."""
        outcomes: list[TickOutcome] = []
        deadline = time.monotonic() + timeout
        while True:
            outcomes.append(self.tick(sensor_name))
            if done(outcomes):
                return outcomes
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sensor_name}: no terminal state within {timeout:.0f}s")
            time.sleep(interval)


def run_failure_reason(result: dg.ExecuteInProcessResult) -> str | None:
    """One line: a failed blocking check's finding, else the first step failure's message
    (our Failure descriptions carry counts and names, never values)."""
    if result.success:
        return None
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.blocking:
            asset = evaluation.asset_key.to_user_string()
            return f"check {evaluation.check_name} on {asset}: {evaluation.description or 'failed'}"
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            return f"{event.step_key}: {_one_line(data.user_failure_data.description)}"
        error = data.error if data else None
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return f"{event.step_key}: {_one_line(error.message)}"
        return f"{event.step_key} failed"
    return "run failed"


def _one_line(text: str) -> str:
    return " ".join(text.split())
