"""landing_file_sensor: a new or replaced landing file requests its dataset's run.

A FACT dataset runs the file's export date; a DIMENSION dataset runs when its newest file changes.
The landing file is recorded as a materialization of the dataset's external landing asset. A file
dated after the last partition waits for its date (it is not marked seen); a file that matches no
dataset's landing name is reported once.
"""

from typing import Any

import dagster as dg

from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.settings import Settings
from adu_pipeline.staging.landing import LandingFile, parse_landing_name, scan_landing

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
        events: list[dg.AssetMaterialization] = []
        for plan in plans:
            state = seen.setdefault(plan.id, {})
            if not isinstance(state, dict):
                state = seen[plan.id] = {}
            files = scan_landing(settings.landing_dir, plan.defn.pipeline.landing)
            if plan.partitioned:
                found = _fact_files(context, plan, files, state)
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
        _report_unmatched(context, settings, plans, seen)
        return dg.SensorResult(
            run_requests=runs,
            asset_events=events,
            cursor=cursor.dump(seen),
            skip_reason=None if runs else "no new landing file",
        )

    return _sensor


def _fact_files(
    context: dg.SensorEvaluationContext,
    plan: DatasetPlan,
    files: list[LandingFile],
    state: dict[str, str],
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
            continue
        state[name] = landing.fingerprint
        if key < first:
            context.log.warning(f"{plan.id}: {name} is before ADU_PARTITION_START, ignored")
            continue
        if _already_landed(context.instance, plan, landing, key):
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
    if _already_landed(context.instance, plan, newest, None):
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


def _already_landed(
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


def _report_unmatched(
    context: dg.SensorEvaluationContext,
    settings: Settings,
    plans: list[DatasetPlan],
    seen: dict[str, Any],
) -> None:
    """Files that no dataset reads are named once, with the names that would be read."""
    folder = settings.landing_dir
    if not folder.is_dir():
        return
    stems = {plan.defn.pipeline.landing for plan in plans}
    reported = seen.setdefault(UNMATCHED, {})
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        parsed = parse_landing_name(path.name)
        if parsed is not None and parsed[0] in stems:
            continue
        stat = path.stat()
        fingerprint = f"{stat.st_mtime_ns}:{stat.st_size}"
        if reported.get(path.name) == fingerprint:
            continue
        reported[path.name] = fingerprint
        expected = ", ".join(f"{s}_YYYY-MM-DD.csv" for s in sorted(stems))
        context.log.warning(
            f"landing file {path.name} is read by no dataset: expected one of {expected} "
            "(or .csv.gz, .parquet, .jsonl)"
        )
