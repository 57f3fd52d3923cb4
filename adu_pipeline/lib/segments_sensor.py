"""segment_files_sensor: keeps the `segments` dynamic partitions in step with data/segments/.

A new segment file becomes a partition at the next tick (no restart) and, when every dataset it
reads has reached SUCCESS in its instance, a run of its audience. A removed file's audience stays
in AMC, untouched: the sensor reports it once (a warning and an observation on its partition). A
bad file is reported once per version, with one line per problem; the other segments go on.
"""

import hashlib
from typing import Any

import dagster as dg

from adu_pipeline.dataset.segments import segment_files
from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.catalog import scan_segments
from adu_pipeline.settings import Settings


def segments_sensor(settings: Settings, catalog: Any, audience_job: Any):
    @dg.sensor(
        name="segment_files_sensor",
        jobs=[audience_job],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds a partition (and an audience run) for each new segment file; reports "
        "removed and invalid ones.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = cursor.load(context.cursor)
        scan = scan_segments(settings, catalog)
        known = set(context.instance.get_dynamic_partitions(keys.SEGMENT_PARTITIONS))
        added = sorted(set(scan.segments) - known)
        changed = _changed(state, settings, scan)  # new, edited or back after a removal
        runs = []
        for key in changed:
            if not datasets_ready(context.instance, catalog, scan.segments[key]):
                continue
            state["generation"] = int(state.get("generation", 0)) + 1
            runs.append(
                dg.RunRequest(
                    run_key=f"segment:{key}:{state['versions'][key]}:{state['generation']}",
                    job_name=keys.AUDIENCE_JOB,
                    partition_key=key,
                )
            )
        events = _report_removed(context, state, known, scan)
        _report_problems(context, state, scan)
        requests = [dg.AddDynamicPartitionsRequest(keys.SEGMENT_PARTITIONS, added)] if added else []
        if changed:
            context.log.info(f"new or changed segments: {', '.join(changed)}")
        return dg.SensorResult(
            run_requests=runs,
            asset_events=events,
            dynamic_partitions_requests=requests,
            cursor=cursor.dump(state),
            skip_reason=None if (changed or events) else "segments unchanged",
        )

    return _sensor


def _changed(state: dict[str, Any], settings: Settings, scan: Any) -> list[str]:
    """Segments whose file is new or differs from the version last seen (an edit re-runs the
    audience, which then reuses it or fails with the difference AMC cannot apply)."""
    versions = state.setdefault("versions", {})
    current = {key: _version(settings, key) for key in scan.segments}
    for key in list(versions):
        if key not in current and key not in scan.problems_by_key():
            versions[key] = None  # removed: a file that comes back is new again
    changed = sorted(key for key, version in current.items() if versions.get(key) != version)
    versions.update({key: current[key] for key in changed})
    return changed


def _version(settings: Settings, key: str) -> str:
    folder = settings.segments_dir
    for path in segment_files(folder) if folder.is_dir() else []:
        if path.stem == key:
            return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return "gone"


def datasets_ready(
    instance: dg.DagsterInstance, catalog: Any, segment: Any, finished: str | None = None
) -> bool:
    """Every dataset the segment reads has an upload that reached SUCCESS in its instance
    (`finished`: a dataset whose SUCCESS this very tick reports)."""
    instance_key = catalog.segment_instance_of(segment)
    for dataset_id in catalog.segment_datasets_of(segment):
        if dataset_id == finished:
            continue
        records = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=keys.upload(dataset_id, instance_key)), limit=20
        ).records
        if not any(
            r.asset_observation and "OutputRowCount" in r.asset_observation.metadata
            for r in records
        ):
            return False
    return True


def _report_removed(
    context: dg.SensorEvaluationContext, state: dict[str, Any], known: set[str], scan: Any
) -> list[dg.AssetObservation]:
    reported = set(state.get("removed", []))
    present = set(scan.segments) | scan.problems_by_key()
    removed = sorted(known - present)
    events = []
    for key in removed:
        if key in reported:
            continue
        context.log.warning(
            f"segment file {key}.yaml was removed: its AMC audience is left as it is (never "
            "deleted); delete it in AMC by hand if it should go"
        )
        events.append(
            dg.AssetObservation(
                asset_key=keys.AUDIENCE,
                partition=key,
                metadata={"segment_file": "removed", "audience_left_in_amc": True},
            )
        )
    state["removed"] = sorted((reported | set(removed)) & set(removed))
    return events


def _report_problems(context: dg.SensorEvaluationContext, state: dict[str, Any], scan: Any) -> None:
    previous = state.get("problems", {})
    current = {name: "; ".join(problems) for name, problems in scan.problems.items()}
    for name, text in current.items():
        if previous.get(name) != text:
            context.log.warning(f"segment file {name} is not used: {text}")
    state["problems"] = current
