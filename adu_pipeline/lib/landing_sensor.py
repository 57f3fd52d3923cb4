"""landing_file_sensor: a new or replaced landing file requests its dataset's run.

A FACT dataset runs the file's export date; a DIMENSION dataset runs when its newest file changes.
The landing file is recorded as a materialization of the dataset's external landing asset. A file
dated after the last partition waits for its date (it is not marked seen) and runs when its date
comes. Every other file is reported with the reason it is not read (`landing_names`), once per
version: a warning in the sensor log, the tick's reason, and an observation on the landing asset
it most resembles, so nothing in the folder is ignored silently.
"""

import difflib
from typing import Any

import dagster as dg

from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.settings import Settings
from adu_pipeline.staging.landing import LandingFile, scan_landing
from adu_pipeline.staging.landing_names import unusable_reason

UNMATCHED = "_unmatched"


def landing_sensor(settings: Settings, plans: list[DatasetPlan], jobs: list[Any]):
    @dg.sensor(
        name="landing_file_sensor",
        jobs=jobs,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A new or replaced landing file requests its dataset's run.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen = cursor.load(context.cursor)
        runs: list[dg.RunRequest] = []
        events: list[Any] = []
        notes: list[str] = []
        for plan in plans:
            state = seen.setdefault(plan.id, {})
            if not isinstance(state, dict):
                state = seen[plan.id] = {}
            files = scan_landing(settings.landing_dir, plan.defn.pipeline.landing)
            if plan.partitioned:
                found = _fact_files(context, plan, files, state, notes)
            else:
                found = _dimension_file(context, plan, files, state)
            for landing, partition in found:
                events.append(_landing_event(plan, landing, partition))
                runs.append(
                    dg.RunRequest(
                        run_key=f"{plan.id}:{landing.path.name}:{landing.fingerprint}",
                        job_name=keys.export_job(plan.id),
                        partition_key=partition,
                    )
                )
        unread = _report_unread(context, settings, plans, seen)
        events += unread
        notes += sorted(
            {
                f"{e.metadata['file_name'].value} not read: {e.metadata['reason'].value}"
                for e in unread
            }
        )
        return dg.SensorResult(
            run_requests=runs,
            asset_events=events,
            cursor=cursor.dump(seen),
            skip_reason=None if runs else "; ".join(["no new landing file", *notes]),
        )

    return _sensor


def _fact_files(
    context: dg.SensorEvaluationContext,
    plan: DatasetPlan,
    files: list[LandingFile],
    state: dict[str, str],
    notes: list[str],
) -> list[tuple[LandingFile, str | None]]:
    assert plan.partitions is not None
    keys_now = plan.partitions.get_partition_keys()
    first, last = (keys_now[0], keys_now[-1]) if keys_now else ("", "")
    found = []
    for landing in files:
        name, key = landing.path.name, landing.partition_key
        if state.get(name) == landing.fingerprint:
            continue
        if key > last:  # not marked seen: it runs once its date is a partition
            context.log.info(f"{plan.id}: {name} waits for its date ({key})")
            notes.append(f"{name} waits for its date")
            continue
        state[name] = landing.fingerprint
        if key < first:
            context.log.warning(f"{plan.id}: {name} is before ADU_PARTITION_START, ignored")
            continue
        if already_landed(context.instance, plan, landing, key):
            continue  # recorded by another cursor (`adu demo`)
        found.append((landing, key))
    return found


def _dimension_file(
    context: dg.SensorEvaluationContext,
    plan: DatasetPlan,
    files: list[LandingFile],
    state: dict[str, str],
) -> list[tuple[LandingFile, str | None]]:
    if not files:
        return []
    newest = files[-1]
    marker = f"{newest.path.name}:{newest.fingerprint}"
    if state.get("newest") == marker:
        return []
    state["newest"] = marker
    if already_landed(context.instance, plan, newest, None):
        return []
    return [(newest, None)]


def _landing_event(plan: DatasetPlan, landing: LandingFile, partition: str | None):
    return dg.AssetMaterialization(
        asset_key=keys.landing(plan.id),
        partition=partition,
        metadata={
            "file_name": landing.path.name,
            "path": dg.MetadataValue.path(str(landing.path)),
            "export_date": landing.partition_key,
            "size_bytes": landing.size_bytes,
            "fingerprint": landing.fingerprint,
        },
    )


def already_landed(
    instance: dg.DagsterInstance, plan: DatasetPlan, landing: LandingFile, partition: str | None
) -> bool:
    """True when the newest landing event (of this date) records this very file, unchanged."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=keys.landing(plan.id), asset_partitions=[partition] if partition else None
        ),
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


def _meta(event: Any, name: str) -> Any:
    return event.metadata[name].value


def _report_unread(
    context: dg.SensorEvaluationContext,
    settings: Settings,
    plans: list[DatasetPlan],
    seen: dict[str, Any],
) -> list[dg.AssetObservation]:
    """Each file no dataset reads, once per version: a warning and an observation (on the landing
    asset whose stem the name most resembles, else on every landing asset) with the reason."""
    folder = settings.landing_dir
    if not folder.is_dir():
        return []
    stems = {plan.defn.pipeline.landing: plan for plan in plans}
    reported = seen.setdefault(UNMATCHED, {})
    events = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        reason = unusable_reason(path.name, set(stems))
        if reason is None:
            continue
        stat = path.stat()
        fingerprint = f"{stat.st_mtime_ns}:{stat.st_size}"
        if reported.get(path.name) == fingerprint:
            continue
        reported[path.name] = fingerprint
        context.log.warning(f"landing file {path.name} is not read: {reason}")
        for plan in _resembled(path.name, stems):
            events.append(
                dg.AssetObservation(
                    asset_key=keys.landing(plan.id),
                    metadata={"file_name": path.name, "reason": reason, "file_read": False},
                )
            )
    return events


def _resembled(name: str, stems: dict[str, DatasetPlan]) -> list[DatasetPlan]:
    head = name.lower().split(".")[0].rstrip("0123456789-_")
    close = difflib.get_close_matches(head, [s.lower() for s in stems], n=len(stems), cutoff=0.6)
    chosen = [plan for stem, plan in stems.items() if stem.lower() in close]
    return chosen or list(stems.values())
