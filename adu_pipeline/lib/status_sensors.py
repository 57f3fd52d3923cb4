"""The AMC status sensors, each with a JSON cursor:

- amc_upload_status: follows every dataset's uploads on every instance; SUCCESS -> a passed check
  and a materialization of the partition as AMC now holds it (OutputRowCount, match rate), and
  runs for the segments on that instance that read the dataset and have no audience yet;
  FAILED -> a failed check carrying AMC's message.
- amc_audience_status: follows audiences; SUCCEEDED -> a passed check and a materialization with
  size and DSP id; FAILED -> a failed check carrying AMC's statusReason.

Every check result is on the partition (export date or segment), so one failed partition is
never hidden by a later one that passed, and the figures plot per partition in the UI. Each
terminal state is also recorded as an observation, which is how a sensor knows it was reported.

AMC calls in one tick share a 20 s budget (retries included), so a tick stays far inside 60 s;
whatever is left unpolled stays in the cursor for the next tick.
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcApiError, AmcNotFoundError, JobStatus
from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.catalog import scan_segments
from adu_pipeline.lib.check_records import ready_for_storage
from adu_pipeline.lib.metadata import values
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.lib.resources import SENSOR_BUDGET_SECONDS, AmcResource
from adu_pipeline.lib.segments_sensor import datasets_ready
from adu_pipeline.settings import Settings

MAX_NEW_RECORDS = 100
REPORTED_BY = "reported_by"  # marks the materializations these sensors write
UPLOAD_SENSOR = "amc_upload_status"
AUDIENCE_SENSOR = "amc_audience_status"
RESERVE_SECONDS = 3.0  # stop starting new AMC calls once less than this is left of the budget


def collect_new(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    state: dict[str, Any],
    id_field: str,
    jobs_of: Callable[[dict[str, Any]], list[tuple[str, dict[str, Any]]]] | None = None,
) -> None:
    """Move materializations after the cursor's storage id into `pending` (id -> details),
    leaving out those whose terminal status is already in the event log (a first tick without a
    cursor, e.g. the daemon after `adu demo`, must not report them again). `jobs_of` lists the
    AMC jobs one materialization started (default: the one named by `id_field`)."""
    after = state.setdefault("after", {})
    name = key.to_user_string()
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, after_storage_id=after.get(name)),
        limit=MAX_NEW_RECORDS,
        ascending=True,
    )
    pending = state.setdefault("pending", {})
    for record in result.records:
        after[name] = record.storage_id
        event = record.asset_materialization
        if event is None or REPORTED_BY in event.metadata:  # our own "as AMC holds it" event
            continue
        meta = values(event)
        jobs = jobs_of(meta) if jobs_of else [(str(meta.get(id_field) or ""), _details(meta))]
        for job_id, details in jobs:
            if job_id and not _status_reported(instance, key, record, id_field, job_id):
                pending[job_id] = {"asset": name, "partition": event.partition, **details}


def _details(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset_id": meta.get("dataset_id"),
        "instance": meta.get("instance"),
        "rows_sent": meta.get("rows_sent"),
    }


def _status_reported(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    record: dg.EventLogRecord,
    id_field: str,
    job_id: str,
) -> bool:
    """True when a status observation for this upload/audience follows its materialization."""
    partition = record.asset_materialization.partition if record.asset_materialization else None
    records_filter = dg.AssetRecordsFilter(
        asset_key=key,
        asset_partitions=[partition] if partition else None,
        after_storage_id=record.storage_id,
    )
    page_cursor = None
    while True:
        page = instance.fetch_observations(
            records_filter, limit=MAX_NEW_RECORDS, cursor=page_cursor
        )
        for later in page.records:
            observation = later.asset_observation
            value = observation.metadata.get(id_field) if observation else None
            if value is not None and str(value.value) == job_id:
                return True
        if not page.has_more:
            return False
        page_cursor = page.cursor


def initial_cursor(instance: dg.DagsterInstance, asset_keys: list[dg.AssetKey]) -> str:
    """A cursor that ignores everything materialized before now (the demo starts so)."""
    after = {}
    for key in asset_keys:
        records = instance.fetch_materializations(key, limit=1).records
        if records:
            after[key.to_user_string()] = records[0].storage_id
    return cursor.dump({"after": after, "pending": {}})


def _check(
    asset: dg.AssetKey,
    name: str,
    partition: str | None,
    passed: bool,
    metadata: dict,
    description: str | None,
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=asset,
        check_name=name,
        passed=passed,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        partition=partition,
    )


def terminal_events(
    asset: dg.AssetKey,
    check_name: str,
    partition: str | None,
    metadata: dict,
    description: str | None = None,
    *,
    passed: bool,
    sensor: str,
) -> list[Any]:
    """A final state: the observation that records it, the partition's check, and on success a
    materialization of the partition as AMC now holds it (its figures plot per partition)."""
    events: list[Any] = [
        dg.AssetObservation(asset_key=asset, partition=partition, metadata=metadata),
        _check(asset, check_name, partition, passed, metadata, description),
    ]
    if passed:
        events.append(
            dg.AssetMaterialization(
                asset_key=asset, partition=partition, metadata={**metadata, REPORTED_BY: sensor}
            )
        )
    return events


def match_rate(output_rows: int, rows_sent: Any) -> float | None:
    """OutputRowCount / rows sent: the share of the partition's rows AMC kept."""
    sent = int(rows_sent or 0)
    return round(output_rows / sent, 4) if sent else None


def _poll_terminal(
    context: dg.SensorEvaluationContext,
    state: dict[str, Any],
    noun: str,
    fetch: Callable[[str, dict[str, Any]], Any],
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(id, details, job or AmcNotFoundError) for each pending job that is over, dropped from
    `pending`; a job still running, or not read this tick, stays for the next tick."""
    started = time.monotonic()
    for job_id, info in list(state["pending"].items()):
        if time.monotonic() - started > SENSOR_BUDGET_SECONDS - RESERVE_SECONDS:
            return
        try:
            job = fetch(job_id, info)
        except AmcNotFoundError as exc:
            job = exc
        except (AmcApiError, KeyError) as exc:
            context.log.warning(f"{noun} {job_id}: status not read this tick ({exc})")
            continue
        if isinstance(job, AmcNotFoundError) or job.status.is_terminal:
            del state["pending"][job_id]
            yield job_id, info, job


class _Clients:
    """One budgeted client per instance for the whole tick, and what the tick has read once."""

    def __init__(self, amc: AmcResource, catalog: Any) -> None:
        self.amc, self.catalog, self.open = amc, catalog, {}
        self.listed: dict[str, dict[str, Any]] = {}  # instance key -> audiences by name

    def __call__(self, instance_key: str | None) -> Any:
        key = instance_key or self.catalog.default_instance
        if key not in self.open:
            instance = self.catalog.instances[key]
            base = self.amc.client(instance, budget_seconds=SENSOR_BUDGET_SECONDS)
            self.open[key] = (base, base.with_budget(SENSOR_BUDGET_SECONDS))
        return self.open[key][1]

    def audiences(self, context: dg.SensorEvaluationContext, instance_key: str) -> dict[str, Any]:
        """The instance's audiences by name, listed at most once per tick."""
        if instance_key not in self.listed:
            try:
                found = {a.name: a for a in self(instance_key).iter_audiences() if a.name}
            except AmcApiError as exc:
                context.log.warning(f"audiences not listed this tick ({exc}); requesting all")
                found = {}
            self.listed[instance_key] = found
        return self.listed[instance_key]

    def close(self) -> None:
        for base, _ in self.open.values():
            base.close()


def upload_status_sensor(settings: Settings, catalog: Any, plans: list[DatasetPlan], audience_job):
    upload_keys = [keys.upload(p.id, i.key) for p in plans for i in p.instances]

    @dg.sensor(
        name=UPLOAD_SENSOR,
        jobs=[audience_job],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Follows AMC uploads to SUCCESS (OutputRowCount) or FAILED (AMC's message).",
    )
    def _sensor(context: dg.SensorEvaluationContext, amc: AmcResource) -> dg.SensorResult:
        state = cursor.load(context.cursor)
        for key in upload_keys:
            collect_new(context.instance, key, state, "upload_id")
        events: list[Any] = []
        runs: list[dg.RunRequest] = []
        clients = _Clients(amc, catalog)
        segments: list[Any] | None = None  # data/segments, read at the first SUCCESS only
        try:
            finished = _poll_terminal(
                context,
                state,
                "upload",
                lambda upload_id, info: clients(info.get("instance")).get_upload(
                    str(info["dataset_id"]), upload_id
                ),
            )
            for upload_id, info, upload in finished:
                asset = dg.AssetKey.from_user_string(info["asset"])
                partition = info.get("partition")
                if isinstance(upload, AmcNotFoundError):
                    meta = {"partition": partition or "", "upload_id": upload_id}
                    text = f"upload {upload_id} is unknown to AMC: {upload}"
                    events.append(_check(asset, keys.UPLOAD_CHECK, partition, False, meta, text))
                    continue
                meta = {
                    "upload_id": upload_id,
                    "status": upload.status_raw,
                    "partition": partition or "",
                }
                if upload.status is JobStatus.SUCCEEDED:
                    output_rows = upload.output_row_count or 0
                    meta["OutputRowCount"] = output_rows
                    meta["rows_sent"] = int(info.get("rows_sent") or 0)
                    rate = match_rate(output_rows, info.get("rows_sent"))
                    if rate is not None:
                        meta["match_rate"] = rate
                    events += terminal_events(
                        asset, keys.UPLOAD_CHECK, partition, meta, passed=True, sensor=UPLOAD_SENSOR
                    )
                    if segments is None:
                        segments = list(scan_segments(settings, catalog).segments.values())
                    runs += _audience_requests(context, catalog, clients, segments, info, upload_id)
                else:
                    message = (
                        upload.message or f"AMC reported {upload.status_raw} without a message"
                    )
                    meta["message"] = message
                    events += terminal_events(
                        asset,
                        keys.UPLOAD_CHECK,
                        partition,
                        meta,
                        f"AMC upload {upload_id} {upload.status_raw}: {message}",
                        passed=False,
                        sensor=UPLOAD_SENSOR,
                    )
                    context.log.error(
                        f"upload {upload_id} ({info['asset']} {partition}) failed: {message}"
                    )
        finally:
            clients.close()
        return dg.SensorResult(
            run_requests=_unique(runs),
            asset_events=ready_for_storage(context.instance, events),
            dynamic_partitions_requests=_partition_adds(context, runs),
            cursor=cursor.dump(state),
            skip_reason=None if (runs or events) else f"{len(state['pending'])} uploads pending",
        )

    return _sensor


def _audience_requests(
    context: dg.SensorEvaluationContext,
    catalog: Any,
    clients: _Clients,
    segments: list[Any],
    info: dict[str, Any],
    upload_id: str,
) -> list[dg.RunRequest]:
    """Runs for the segments of this instance reading this dataset whose audience does not exist
    yet. A FAILED audience is not retried after every upload (it would fail the same way): its
    failed check says why, and an edited segment file or a manual run tries again."""
    instance_key = info.get("instance") or catalog.default_instance
    dataset_id = info.get("dataset_id")
    wanted = [
        s
        for s in segments
        if catalog.segment_instance_of(s) == instance_key
        and dataset_id in catalog.segment_datasets_of(s)
        and datasets_ready(context.instance, catalog, s, finished=dataset_id)
    ]
    if not wanted:
        return []
    existing = clients.audiences(context, instance_key)
    return [
        dg.RunRequest(
            run_key=f"audience:{s.key}:{upload_id}", job_name=keys.AUDIENCE_JOB, partition_key=s.key
        )
        for s in wanted
        if existing.get(s.name) is None
    ]


def _unique(runs: list[dg.RunRequest]) -> list[dg.RunRequest]:
    """One audience run per segment per tick, however many of its uploads just finished."""
    return list({r.partition_key: r for r in reversed(runs)}.values())


def _partition_adds(context: dg.SensorEvaluationContext, runs: list[dg.RunRequest]) -> list[Any]:
    """A segment added since the segments sensor last ran gets its partition in the same tick."""
    known = set(context.instance.get_dynamic_partitions(keys.SEGMENT_PARTITIONS))
    new = sorted({r.partition_key for r in runs if r.partition_key not in known})
    if not new:
        return []
    return [dg.AddDynamicPartitionsRequest(keys.SEGMENT_PARTITIONS, new)]


def audience_status_sensor(catalog: Any):
    @dg.sensor(
        name=AUDIENCE_SENSOR,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Follows AMC audiences to SUCCEEDED (size, DSP id) or FAILED (statusReason).",
    )
    def _sensor(context: dg.SensorEvaluationContext, amc: AmcResource) -> dg.SensorResult:
        state = cursor.load(context.cursor)
        collect_new(context.instance, keys.AUDIENCE, state, "audience_id")
        events: list[Any] = []
        clients = _Clients(amc, catalog)
        try:
            finished = _poll_terminal(
                context,
                state,
                "audience",
                lambda audience_id, info: clients(info.get("instance")).get_audience(audience_id),
            )
            for audience_id, info, audience in finished:
                segment = info.get("partition")
                if isinstance(audience, AmcNotFoundError):
                    meta = {"segment": segment or "", "audience_id": audience_id}
                    text = f"audience {audience_id} is unknown to AMC: {audience}"
                    events.append(
                        _check(keys.AUDIENCE, keys.AUDIENCE_CHECK, segment, False, meta, text)
                    )
                    continue
                meta = {
                    "audience_id": audience_id,
                    "status": audience.status_raw,
                    "segment": segment or "",
                }
                if audience.status is JobStatus.SUCCEEDED:
                    meta.update(
                        audience_count=audience.audience_count or 0,
                        dsp_audience_id=audience.dsp_audience_id or "",
                    )
                    events += terminal_events(
                        keys.AUDIENCE,
                        keys.AUDIENCE_CHECK,
                        segment,
                        meta,
                        passed=True,
                        sensor=AUDIENCE_SENSOR,
                    )
                else:
                    reason = audience.status_reason or f"AMC reported {audience.status_raw}"
                    meta["status_reason"] = reason
                    events += terminal_events(
                        keys.AUDIENCE,
                        keys.AUDIENCE_CHECK,
                        segment,
                        meta,
                        f"AMC audience {audience_id} {audience.status_raw}: {reason}",
                        passed=False,
                        sensor=AUDIENCE_SENSOR,
                    )
                    context.log.error(f"audience {audience_id} ({segment}) failed: {reason}")
        finally:
            clients.close()
        return dg.SensorResult(
            asset_events=ready_for_storage(context.instance, events),
            cursor=cursor.dump(state),
            skip_reason=None if events else f"{len(state['pending'])} audiences pending",
        )

    return _sensor
