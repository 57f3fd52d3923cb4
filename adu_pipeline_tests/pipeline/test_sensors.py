"""Sensors and the schedule evaluated with build_sensor_context / build_schedule_context on a real
temporary instance."""

from __future__ import annotations

import datetime as dt
import json
import os

import dagster as dg

from adu_pipeline.lib import keys
from adu_pipeline.lib.status_sensors import initial_cursor

AMC_UPLOAD = keys.upload("crm_customers", "us")


def tick(pipeline, name: str, cursor: str | None = None) -> dg.SensorResult:
    defs = pipeline.defs
    sensor = defs.resolve_sensor_def(name)
    with dg.build_sensor_context(
        instance=pipeline.instance, cursor=cursor, resources=dict(defs.resources or {})
    ) as context:
        return sensor(context)


def test_landing_sensor_requests_each_new_or_replaced_file_once(pipeline):
    day = dt.date(2026, 5, 4)
    path = pipeline.write_export(day, 50)
    (pipeline.landing / "crm_export_2025-06-01.csv").write_text("Email\n")  # before the start
    (pipeline.landing / "notes.txt").write_text("not an export")
    first = tick(pipeline, "landing_file_sensor")
    assert [r.partition_key for r in first.run_requests] == ["2026-05-04"]
    assert first.run_requests[0].job_name == "crm_customers_export_job"
    [event] = [e for e in first.asset_events if isinstance(e, dg.AssetMaterialization)]
    assert event.asset_key == keys.landing("crm_customers") and event.partition == "2026-05-04"
    [unread] = [e for e in first.asset_events if isinstance(e, dg.AssetObservation)]
    assert unread.metadata["file_name"].value == "notes.txt"  # reported, with its reason
    assert "extension .txt is not read" in unread.metadata["reason"].value
    assert event.metadata["size_bytes"].value == path.stat().st_size
    seen = json.loads(first.cursor)
    assert set(seen["crm_customers"]) == {"crm_export_2026-05-04.csv", "crm_export_2025-06-01.csv"}
    assert set(seen["_unmatched"]) == {"notes.txt"}  # reported once, with the expected names

    again = tick(pipeline, "landing_file_sensor", first.cursor)
    assert again.run_requests == [] and again.asset_events == []

    pipeline.write_export(day, 60, seed=99)  # the export is delivered again, changed
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    replaced = tick(pipeline, "landing_file_sensor", again.cursor)
    assert [r.partition_key for r in replaced.run_requests] == ["2026-05-04"]
    assert replaced.run_requests[0].run_key != first.run_requests[0].run_key

    pipeline.write_export(dt.date(2026, 5, 5), 10, ext=".csv.gz")
    newer = tick(pipeline, "landing_file_sensor", replaced.cursor)
    assert [r.partition_key for r in newer.run_requests] == ["2026-05-05"]


def test_daily_schedule_runs_the_current_date_only_when_its_file_is_there(pipeline):
    defs = pipeline.defs
    schedule = defs.resolve_schedule_def("crm_customers_daily_schedule")
    when = dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.UTC)

    def evaluate():
        with dg.build_schedule_context(
            instance=pipeline.instance,
            scheduled_execution_time=when,
            resources=dict(defs.resources or {}),
            repository_def=defs.get_repository_def(),
        ) as context:
            return schedule.evaluate_tick(context)

    skipped = evaluate()
    assert not skipped.run_requests and "2026-06-02" in skipped.skip_message
    pipeline.write_export(when.date(), 20)
    [request] = evaluate().run_requests
    assert request.partition_key == "2026-06-02"
    # once the landing sensor has run that file, the schedule does not run it a second time
    pipeline.setenv(ADU_PARTITION_START="2026-06-01")
    landed = pipeline.driver().tick("landing_file_sensor")
    assert [r.dagster_run.tags["dagster/partition"] for r in landed.runs] == ["2026-06-02"]
    again = evaluate()
    assert not again.run_requests and "already run by landing_file_sensor" in again.skip_message


def test_upload_status_sensor_keeps_polling_an_unreachable_amc_within_its_budget(pipeline):
    pipeline.instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=AMC_UPLOAD,
            partition="2026-05-04",
            metadata={"upload_id": "u-123", "dataset_id": "crm_customers", "instance": "us"},
        )
    )
    cursor = json.dumps({"after": {}, "pending": {}})
    pipeline.emulator.stop()  # AMC goes away: connection refused, retried within the budget
    result = tick(pipeline, "amc_upload_status", cursor)
    state = json.loads(result.cursor)
    assert list(state["pending"]) == ["u-123"]
    assert result.asset_events == [] and result.run_requests == []


def test_initial_cursor_ignores_what_was_materialized_before(pipeline):
    pipeline.instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=AMC_UPLOAD, partition="2026-05-04", metadata={"upload_id": "old"}
        )
    )
    cursor = initial_cursor(pipeline.instance, [AMC_UPLOAD])
    result = tick(pipeline, "amc_upload_status", cursor)
    assert json.loads(result.cursor)["pending"] == {}


def test_first_tick_without_a_cursor_skips_statuses_already_reported(pipeline):
    """The daemon's first tick after `adu demo` (whose cursors are not the daemon's) must not
    report a finished upload again; one without a status event is still followed."""
    for upload_id, partition in (("reported", "2026-05-04"), ("open", "2026-05-05")):
        pipeline.instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=AMC_UPLOAD,
                partition=partition,
                metadata={"upload_id": upload_id, "dataset_id": "crm_customers", "instance": "us"},
            )
        )
    pipeline.instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=AMC_UPLOAD,
            partition="2026-05-04",
            metadata={"upload_id": "reported", "status": "SUCCESS", "OutputRowCount": 10},
        )
    )
    result = tick(pipeline, "amc_upload_status", None)
    state = json.loads(result.cursor)
    assert "reported" not in state["pending"]
    # the open one was asked about: the emulator does not know it, so it ends as a failed check
    [check] = result.asset_events
    assert check.metadata["upload_id"].value == "open" and not check.passed
    assert not result.run_requests


def test_landing_sensor_without_a_cursor_skips_a_file_already_landed(pipeline):
    """The daemon's first tick after `adu demo`: the demo's file is in the event log already."""
    day = dt.date(2026, 5, 4)
    path = pipeline.write_export(day, 50)
    first = tick(pipeline, "landing_file_sensor")
    for event in first.asset_events:  # as the daemon (or the demo's driver) records them
        pipeline.instance.report_runless_asset_event(event)
    fresh = tick(pipeline, "landing_file_sensor", None)
    assert fresh.run_requests == [] and fresh.asset_events == []
    assert json.loads(fresh.cursor) == json.loads(first.cursor)

    stat = path.stat()  # the same name delivered again: a new run
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    replaced = tick(pipeline, "landing_file_sensor", None)
    assert [r.partition_key for r in replaced.run_requests] == ["2026-05-04"]


def test_a_future_dated_file_waits_for_its_date(pipeline):
    future = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)
    pipeline.write_export(future, 20)
    first = tick(pipeline, "landing_file_sensor")
    assert first.run_requests == []
    assert (
        "crm_export_" + future.isoformat() + ".csv" not in json.loads(first.cursor)["crm_customers"]
    )


def test_a_dimension_dataset_runs_once_for_its_newest_file(pipeline_factory):
    p = pipeline_factory(datasets={"crm_customers_list": ["us"]})
    try:
        p.write_export(dt.date(2026, 5, 3), 20)
        p.write_export(dt.date(2026, 5, 4), 20)
        first = tick(p, "landing_file_sensor")
        [request] = first.run_requests
        assert request.partition_key is None and request.job_name == "crm_customers_list_export_job"
        [event] = first.asset_events
        assert event.metadata["file_name"].value == "crm_export_2026-05-04.csv"
        assert tick(p, "landing_file_sensor", first.cursor).run_requests == []
        p.write_export(dt.date(2026, 5, 5), 20)
        newer = tick(p, "landing_file_sensor", first.cursor)
        assert len(newer.run_requests) == 1
    finally:
        p.instance.dispose()


def test_segment_sensor_adds_partitions_reports_bad_and_removed_files(pipeline):
    first = tick(pipeline, "segment_files_sensor")
    [add] = first.dynamic_partitions_requests
    assert list(add.partition_keys) == ["loyal_customers"]
    assert first.run_requests == []  # nothing uploaded yet: no audience can pass
    pipeline.instance.add_dynamic_partitions(keys.SEGMENT_PARTITIONS, ["loyal_customers"])

    (pipeline.segments / "broken.yaml").write_text("name: x\nsql: SELECT 1\n")
    second = tick(pipeline, "segment_files_sensor", first.cursor)
    assert second.dynamic_partitions_requests == []
    problems = json.loads(second.cursor)["problems"]
    assert list(problems) == ["broken.yaml"] and "advertiser_id" in problems["broken.yaml"]

    (pipeline.segments / "loyal_customers.yaml").unlink()
    third = tick(pipeline, "segment_files_sensor", second.cursor)
    [observation] = third.asset_events
    assert observation.partition == "loyal_customers"
    assert observation.metadata["segment_file"].value == "removed"
    assert third.dynamic_partitions_requests == []  # the audience and its partition stay
    assert tick(pipeline, "segment_files_sensor", third.cursor).asset_events == []
