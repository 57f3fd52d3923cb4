"""Sensors, each with a JSON cursor:

- landing_file_sensor: a new or replaced export file requests its date's run and records the
  landing file as a materialization of the external crm_export asset.
- amc_upload_status: follows submitted uploads; SUCCESS -> observation with OutputRowCount, a
  passed check, and runs for segment audiences that do not exist yet; FAILED -> a failed check
  carrying AMC's message.
- amc_audience_status: follows audiences; SUCCEEDED -> observation with size and DSP id and a
  passed check; FAILED -> a failed check carrying AMC's statusReason.

AMC calls in one tick share a 20 s budget (retries included), so a tick stays far inside 60 s;
whatever is left unpolled stays in the cursor for the next tick.
"""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcApiError, AmcNotFoundError, JobStatus
from adu_pipeline.defs.checks import AUDIENCE_CHECK, UPLOAD_CHECK
from adu_pipeline.defs.definition import segments_at
from adu_pipeline.defs.jobs import audience_job, export_job
from adu_pipeline.defs.landing import LandingFile, scan_landing
from adu_pipeline.defs.partitions import export_date_partitions
from adu_pipeline.defs.resources import SENSOR_BUDGET_SECONDS, AmcResource, PipelineSettings

CRM_EXPORT = dg.AssetKey("crm_export")
AMC_UPLOAD = dg.AssetKey("amc_upload")
AMC_AUDIENCE = dg.AssetKey("amc_audience")
MAX_NEW_RECORDS = 100
# Stop starting new AMC calls once less than this is left of the tick budget.
RESERVE_SECONDS = 3.0


def _load(cursor: str | None) -> dict[str, Any]:
    try:
        value = json.loads(cursor) if cursor else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# -- landing ----------------------------------------------------------------------------------


@dg.sensor(
    job=export_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A new or replaced crm_export_YYYY-MM-DD file requests that date's run.",
)
def landing_file_sensor(
    context: dg.SensorEvaluationContext, settings: PipelineSettings
) -> dg.SensorResult:
    seen = _load(context.cursor)
    valid_keys = set(export_date_partitions.get_partition_keys())
    runs, events, skipped = [], [], []
    for landing in scan_landing(settings.landing_path):
        name = landing.path.name
        if seen.get(name) == landing.fingerprint:
            continue
        if name not in seen and _already_landed(context.instance, landing):
            seen[name] = landing.fingerprint  # recorded by another cursor (`adu demo`)
            continue
        if landing.partition_key not in valid_keys:
            skipped.append(name)
            seen[name] = landing.fingerprint
            continue
        seen[name] = landing.fingerprint
        events.append(
            dg.AssetMaterialization(
                asset_key=CRM_EXPORT,
                partition=landing.partition_key,
                metadata={
                    "file_name": name,
                    "path": dg.MetadataValue.path(str(landing.path)),
                    "size_bytes": landing.size_bytes,
                    "fingerprint": landing.fingerprint,
                },
            )
        )
        runs.append(
            dg.RunRequest(
                run_key=f"{name}:{landing.fingerprint}", partition_key=landing.partition_key
            )
        )
    if skipped:
        context.log.warning(f"outside the partition range, ignored: {', '.join(skipped)}")
    return dg.SensorResult(
        run_requests=runs,
        asset_events=events,
        cursor=_dump(seen),
        skip_reason=None if runs else "no new landing file",
    )


def _already_landed(instance: dg.DagsterInstance, landing: LandingFile) -> bool:
    """True when the newest crm_export event of this date is this very file, unchanged."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=CRM_EXPORT, asset_partitions=[landing.partition_key]),
        limit=1,
    ).records
    event = records[0].asset_materialization if records else None
    if event is None:
        return False
    recorded = {k: v.value for k, v in event.metadata.items()}
    return (recorded.get("file_name"), recorded.get("fingerprint")) == (
        landing.path.name,
        landing.fingerprint,
    )


# -- AMC status -------------------------------------------------------------------------------


def _collect_new(
    instance: dg.DagsterInstance, key: dg.AssetKey, state: dict[str, Any], id_field: str
) -> None:
    """Move materializations after the cursor's storage id into `pending` (id -> details),
    leaving out those whose terminal status is already in the event log (a first tick without a
    cursor, e.g. the daemon after `adu demo`, must not report them again)."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, after_storage_id=state.get("after")),
        limit=MAX_NEW_RECORDS,
        ascending=True,
    )
    pending = state.setdefault("pending", {})
    for record in result.records:
        state["after"] = record.storage_id
        event = record.asset_materialization
        if event is None:
            continue
        meta = {k: v.value for k, v in event.metadata.items()}
        job_id = meta.get(id_field)
        if job_id and not _status_reported(instance, key, record, id_field, str(job_id)):
            pending[str(job_id)] = {"partition": event.partition, **_details(meta)}


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
    cursor = None
    while True:
        page = instance.fetch_observations(records_filter, limit=MAX_NEW_RECORDS, cursor=cursor)
        for later in page.records:
            observation = later.asset_observation
            if observation is None:
                continue
            value = observation.metadata.get(id_field)
            if value is not None and str(value.value) == job_id:
                return True
        if not page.has_more:
            return False
        cursor = page.cursor


def _details(meta: dict[str, Any]) -> dict[str, Any]:
    keep = ("dataset_id", "audience_name")
    return {k: meta[k] for k in keep if k in meta}


def latest_storage_id(instance: dg.DagsterInstance, key: dg.AssetKey) -> int | None:
    """For a cursor that ignores everything materialized before now (the demo starts so)."""
    records = instance.fetch_materializations(key, limit=1).records
    return records[0].storage_id if records else None


def initial_cursor(instance: dg.DagsterInstance, key: dg.AssetKey) -> str:
    return _dump({"after": latest_storage_id(instance, key), "pending": {}})


def _check(asset: dg.AssetKey, name: str, passed: bool, metadata: dict, description: str | None):
    return dg.AssetCheckEvaluation(
        asset_key=asset,
        check_name=name,
        passed=passed,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
    )


def _terminal_events(
    asset: dg.AssetKey,
    check_name: str,
    partition: str | None,
    metadata: dict,
    description: str | None = None,
    *,
    passed: bool,
) -> list[Any]:
    """A final state, twice: an observation the UI plots and the check that says pass or fail."""
    return [
        dg.AssetObservation(asset_key=asset, partition=partition, metadata=metadata),
        _check(asset, check_name, passed, metadata, description),
    ]


def _poll_terminal(
    context: dg.SensorEvaluationContext,
    state: dict[str, Any],
    noun: str,
    fetch: Callable[[str, dict[str, Any]], Any],
) -> Iterator[tuple[str, str | None, Any]]:
    """(id, partition, job or AmcNotFoundError) for each pending job that is over, dropped from
    `pending`; a job still running, or not read this tick, stays for the next tick."""
    started = time.monotonic()
    for job_id, info in list(state["pending"].items()):
        if time.monotonic() - started > SENSOR_BUDGET_SECONDS - RESERVE_SECONDS:
            return
        try:
            job = fetch(job_id, info)
        except AmcNotFoundError as exc:
            job = exc
        except AmcApiError as exc:
            context.log.warning(f"{noun} {job_id}: status not read this tick ({exc})")
            continue
        if isinstance(job, AmcNotFoundError) or job.status.is_terminal:
            del state["pending"][job_id]
            yield job_id, info.get("partition"), job


@dg.sensor(
    jobs=[audience_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Follows AMC uploads to SUCCESS (OutputRowCount) or FAILED (AMC's message).",
)
def amc_upload_status(
    context: dg.SensorEvaluationContext, amc: AmcResource, settings: PipelineSettings
) -> dg.SensorResult:
    state = _load(context.cursor)
    _collect_new(context.instance, AMC_UPLOAD, state, "upload_id")
    events: list[Any] = []
    runs: list[dg.RunRequest] = []
    audiences: dict[str, Any] | None = None
    with amc.client(budget_seconds=SENSOR_BUDGET_SECONDS) as base:
        client = base.with_budget(SENSOR_BUDGET_SECONDS)
        finished = _poll_terminal(
            context,
            state,
            "upload",
            lambda upload_id, info: client.get_upload(str(info.get("dataset_id")), upload_id),
        )
        for upload_id, partition, upload in finished:
            if isinstance(upload, AmcNotFoundError):
                events.append(
                    _check(
                        AMC_UPLOAD,
                        UPLOAD_CHECK,
                        False,
                        {"partition": partition or "", "upload_id": upload_id},
                        f"upload {upload_id} is unknown to AMC: {upload}",
                    )
                )
                continue
            meta: dict[str, Any] = {
                "upload_id": upload_id,
                "status": upload.status_raw,
                "partition": partition or "",
            }
            if upload.status is JobStatus.SUCCEEDED:
                meta["OutputRowCount"] = upload.output_row_count or 0
                events += _terminal_events(AMC_UPLOAD, UPLOAD_CHECK, partition, meta, passed=True)
                if audiences is None:
                    audiences = _existing_audiences(client, context)
                runs += _audience_requests(settings, audiences, upload_id)
            else:
                message = upload.message or f"AMC reported {upload.status_raw} without a message"
                meta["message"] = message
                events += _terminal_events(
                    AMC_UPLOAD,
                    UPLOAD_CHECK,
                    partition,
                    meta,
                    f"AMC upload {upload_id} {upload.status_raw}: {message}",
                    passed=False,
                )
                context.log.error(f"upload {upload_id} for {partition} failed: {message}")
    return dg.SensorResult(
        run_requests=runs,
        asset_events=events,
        cursor=_dump(state),
        skip_reason=None if (runs or events) else f"{len(state['pending'])} uploads pending",
    )


def _existing_audiences(client: Any, context: dg.SensorEvaluationContext) -> dict[str, Any]:
    try:
        return {a.name: a for a in client.iter_audiences() if a.name}
    except AmcApiError as exc:
        context.log.warning(f"audiences not listed this tick ({exc}); requesting all segments")
        return {}


def _audience_requests(
    settings: PipelineSettings, audiences: dict[str, Any], upload_id: str
) -> list[dg.RunRequest]:
    """Runs for segments whose audience does not exist yet (or FAILED and may now pass)."""
    requests = []
    for key, segment in segments_at(settings.path(settings.segments_dir)).items():
        existing = audiences.get(segment.name)
        if existing is not None and not existing.status.is_failure:
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"audience:{key}:{upload_id}", job_name=audience_job.name, partition_key=key
            )
        )
    return requests


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Follows AMC audiences to SUCCEEDED (size, DSP id) or FAILED (statusReason).",
)
def amc_audience_status(context: dg.SensorEvaluationContext, amc: AmcResource) -> dg.SensorResult:
    state = _load(context.cursor)
    _collect_new(context.instance, AMC_AUDIENCE, state, "audience_id")
    events: list[Any] = []
    with amc.client(budget_seconds=SENSOR_BUDGET_SECONDS) as base:
        client = base.with_budget(SENSOR_BUDGET_SECONDS)
        finished = _poll_terminal(
            context, state, "audience", lambda audience_id, _: client.get_audience(audience_id)
        )
        for audience_id, partition, audience in finished:
            if isinstance(audience, AmcNotFoundError):
                events.append(
                    _check(
                        AMC_AUDIENCE,
                        AUDIENCE_CHECK,
                        False,
                        {"segment": partition or "", "audience_id": audience_id},
                        f"audience {audience_id} is unknown to AMC: {audience}",
                    )
                )
                continue
            meta: dict[str, Any] = {
                "audience_id": audience_id,
                "status": audience.status_raw,
                "segment": partition or "",
            }
            if audience.status is JobStatus.SUCCEEDED:
                meta.update(
                    audience_count=audience.audience_count or 0,
                    dsp_audience_id=audience.dsp_audience_id or "",
                )
                events += _terminal_events(
                    AMC_AUDIENCE, AUDIENCE_CHECK, partition, meta, passed=True
                )
            else:
                reason = audience.status_reason or f"AMC reported {audience.status_raw}"
                meta["status_reason"] = reason
                events += _terminal_events(
                    AMC_AUDIENCE,
                    AUDIENCE_CHECK,
                    partition,
                    meta,
                    f"AMC audience {audience_id} {audience.status_raw}: {reason}",
                    passed=False,
                )
                context.log.error(f"audience {audience_id} ({partition}) failed: {reason}")
    return dg.SensorResult(
        asset_events=events,
        cursor=_dump(state),
        skip_reason=None if events else f"{len(state['pending'])} audiences pending",
    )
