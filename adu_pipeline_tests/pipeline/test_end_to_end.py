"""End to end over the real local stack: moto's S3 server and the AMC emulator over HTTP, a real
Dagster instance, sensors driven tick by tick. These run in CI and are never skipped."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time

import dagster as dg
import pytest

from adu_pipeline.lib import keys
from adu_pipeline.local.driver import SensorDriver, run_failure_reason
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline_tests.pipeline.conftest import (
    REPO,
    REPO_DATA,
    break_a_part,
    materializations,
    recent_day,
)
from adu_pipeline_tests.pipeline.privacy import landing_emails, scan_files, scan_s3
from adu_pipeline_tests.pipeline.test_assets import materialize

HASHED = "crm_customers/hashed"
UPLOAD = "crm_customers/us/amc_upload"
AUDIENCE = "audiences/amc_audience"


def test_landing_file_to_succeeded_audience_and_no_raw_email_left_behind(pipeline):
    day = recent_day()
    partition = day.isoformat()
    landing = pipeline.write_export(day, 5000, seed=11)
    driver = pipeline.driver()

    driver.tick("segment_files_sensor")
    landed = driver.tick("landing_file_sensor")
    [run] = landed.runs
    assert run.success, run_failure_reason(run)
    [hashed] = materializations(run, HASHED)
    assert hashed["rows_in"] == 5000
    assert hashed["rows_in"] == (
        hashed["rows_written"] + hashed["rows_rejected"] + hashed["duplicates_dropped"]
    )
    [upload] = materializations(run, UPLOAD)

    ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
    [check] = ticks[-1].checks()
    assert check.passed, check.description
    assert check.metadata["OutputRowCount"].value == hashed["rows_written"]
    observation = next(e for e in ticks[-1].events if isinstance(e, dg.AssetObservation))
    assert observation.partition == partition
    assert observation.metadata["OutputRowCount"].value == hashed["rows_written"]
    audience_runs = [r for t in ticks for r in t.runs]
    assert len(audience_runs) == 1  # the one segment of this test
    assert audience_runs[0].success, run_failure_reason(audience_runs[0])
    [created] = materializations(audience_runs[0], AUDIENCE)
    assert created["action"] == "created"

    ticks = driver.until("amc_audience_status", lambda o: bool(o[-1].checks()), timeout=120)
    [check] = ticks[-1].checks()
    assert check.passed, check.description

    with pipeline.amc_client() as client:
        done = client.get_upload("crm_customers", upload["upload_id"])
        assert done.status_raw == "SUCCESS"
        assert done.output_row_count == hashed["rows_written"]
        audience = client.get_audience(created["audience_id"])
        assert audience.status_raw == "SUCCEEDED"
        assert audience.audience_count >= 2000 and audience.dsp_audience_id
        assert check.metadata["audience_count"].value == audience.audience_count
        assert len(client.list_audiences()) == 1

    # a first tick without a cursor (the daemon after `adu demo`) reports nothing again
    fresh = SensorDriver(pipeline.defs, pipeline.instance)
    for sensor in ("amc_upload_status", "amc_audience_status"):
        outcome = fresh.tick(sensor)
        assert (outcome.events, outcome.runs) == ([], []), sensor

    # a second upload success requests no audience run: it exists now
    again = driver.execute(dg.RunRequest(partition_key=partition), "crm_customers_export_job")
    assert again.success
    assert materializations(again, UPLOAD)[0]["started"] == 0

    emails = landing_emails(landing)
    assert len(emails) > 4000
    roots = [pipeline.home, pipeline.output, pipeline.emulator.state_dir]
    hits = scan_files(roots, emails, exclude={landing.resolve()})
    assert hits.pop("<files scanned>") > 5
    assert hits == {}
    assert scan_s3(pipeline.s3_client, pipeline.bucket, emails) == {}


def test_failed_upload_surfaces_amcs_message_as_a_failed_check(pipeline):
    day = recent_day(2)
    partition = day.isoformat()
    pipeline.write_export(day, 300)
    driver = pipeline.driver()
    materialize(pipeline, [HASHED, "crm_customers/s3_object"], partition)
    break_a_part(pipeline, partition)
    result = materialize(pipeline, ["crm_customers/us/amc_dataset", UPLOAD], partition)
    [upload] = materializations(result, UPLOAD)

    ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
    [check] = ticks[-1].checks()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    with pipeline.amc_client() as client:
        failed = client.get_upload("crm_customers", upload["upload_id"])
    assert failed.status_raw == "FAILED" and failed.message
    assert failed.message in check.description
    assert check.metadata["message"].value == failed.message
    assert "email" in failed.message
    assert all(not t.runs for t in ticks)  # no audience is requested from a failed upload
    stored = pipeline.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(keys.upload("crm_customers", "us"), "amc_upload_succeeded")]
    )
    assert stored  # recorded on the instance, visible in the UI


def test_three_historical_exports_make_three_fact_uploads_and_one_dimension_upload(
    pipeline_factory,
):
    """History dropped into the landing folder: the FACT dataset replaces each date in AMC, the
    DIMENSION list is replaced once, by the newest file."""
    p = pipeline_factory(datasets={"crm_customers": ["us"], "crm_customers_list": ["us"]})
    try:
        days = [recent_day(4), recent_day(3), recent_day(2)]
        for i, day in enumerate(days):
            p.write_export(day, 200 + i, seed=i)
        outcome = p.driver().tick("landing_file_sensor")
        jobs = sorted(
            (r.job_def.name, r.dagster_run.tags.get("dagster/partition")) for r in outcome.runs
        )
        assert jobs == [
            *(("crm_customers_export_job", str(d)) for d in days),
            ("crm_customers_list_export_job", None),
        ]
        assert all(r.success for r in outcome.runs), [run_failure_reason(r) for r in outcome.runs]
        with p.amc_client() as client:
            fact = client.list_uploads(dataset_id="crm_customers")
            dimension = client.list_uploads(dataset_id="crm_customers_list")
        assert len(fact) == 3 and len(dimension) == 1
        assert {u.raw.get("updateStrategy") for u in fact} <= {"OVERLAP_REPLACE", None}
        assert "full/manifest-" in dimension[0].data_source["sourceManifestS3Key"]
    finally:
        p.instance.dispose()


def test_readme_backfill_steps_run_each_date_once_and_a_rerun_uploads_nothing_twice(
    pipeline_factory, s3_client, s3_bucket
):
    """The README's Backfills section as written: drop three dated files (the landing sensor runs
    each date once), then re-run the dates with `dagster job backfill` (three runs, no upload)."""
    p = pipeline_factory(datasets={"crm_customers": ["us"]}, runs_in_own_processes=True)
    days = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(3)]
    for i, day in enumerate(days):
        write_sample_export(p.landing / f"crm_export_{day}.csv", 200 + i, seed=i, export_date=day)
    landed = p.driver().tick("landing_file_sensor")
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in landed.runs) == [
        str(d) for d in days
    ]
    assert all(r.success for r in landed.runs)
    assert p.driver().tick("landing_file_sensor").runs == []  # each date once, not twice
    p.instance.dispose()
    command = [
        str(REPO / ".venv/bin/dagster"), "job", "backfill", "-w", "workspace.yaml",
        "-j", "crm_customers_export_job", "--from", str(days[0]), "--to", str(days[-1]),
        "--noprompt",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]

    instance = dg.DagsterInstance.local_temp(str(p.home))  # opens the instance in that folder
    try:
        deadline = time.monotonic() + 600
        while any(not r.is_finished for r in instance.get_runs()):
            assert time.monotonic() < deadline, "backfill runs did not finish"
            time.sleep(1)
        backfill = [r for r in instance.get_runs() if "dagster/backfill" in r.tags]
        assert len(instance.get_runs()) == 6  # three by the sensor, three by the backfill
        assert {r.tags["dagster/partition"] for r in backfill} == {str(d) for d in days}
        assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.SUCCESS}
        for day in days:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=keys.upload("crm_customers", "us"), asset_partitions=[str(day)]
                ),
                limit=1,
            ).records
            meta = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
            assert meta["started"] == 0 and meta["rows_sent"] > 0  # the re-run reused it
    finally:
        instance.dispose()
    with p.amc_client() as client:
        uploads = client.list_uploads(dataset_id="crm_customers")
    manifests = {u.data_source.get("sourceManifestS3Key") for u in uploads}
    assert len(uploads) == 3 and len(manifests) == 3
    assert {m.split("export_date=")[1][:10] for m in manifests} == {str(d) for d in days}
    assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 6  # a part + manifest each


def demo_project(tmp_path, monkeypatch):
    project = tmp_path / "project"
    for folder in ("datasets", "segments"):
        shutil.copytree(REPO_DATA / folder, project / "data" / folder)
    shutil.copy(REPO_DATA / "instances.yaml", project / "data")
    for name in list(os.environ):
        if name.startswith("ADU_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ADU_PROJECT_DIR", str(project))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return project


def test_demo_runs_every_dataset_instance_and_segment_and_leaves_no_raw_email(
    tmp_path, monkeypatch, capsys
):
    project = demo_project(tmp_path, monkeypatch)
    from adu_pipeline.local.demo import run_demo

    summary = run_demo()
    out = capsys.readouterr().out
    assert "SUCCESS" in out and "SUCCEEDED" in out
    uploads = {(d["dataset"], u["instance"]): u for d in summary["datasets"] for u in d["uploads"]}
    assert set(uploads) == {
        ("crm_customers", "us"),
        ("crm_customers", "eu"),
        ("crm_customers_list", "us"),
        ("offline_conversions", "us"),
    }
    for figures in summary["datasets"]:
        for upload in figures["uploads"]:
            assert (
                upload["status"] == "SUCCESS" and upload["output_rows"] == figures["rows_written"]
            )
    segments = {(a["segment"], a["instance"]) for a in summary["audiences"]}
    assert segments == {(p.stem, "eu" if p.stem.startswith("eu_") else "us")
                        for p in (REPO_DATA / "segments").glob("*.yaml")}  # fmt: skip
    assert all(a["ok"] and a["size"] >= 2000 for a in summary["audiences"])
    landing = project / "data" / "landing" / f"crm_export_{summary['export_date']}.csv"
    emails = landing_emails(landing)
    assert len(emails) > 15000
    # the scanner does find them where they are: in the landing file itself
    assert scan_files([landing.parent], emails, exclude=set())[str(landing)] == len(emails)
    conversions = landing.with_name(f"offline_conversions_{summary['export_date']}.csv")
    optouts = project / "data" / "optouts" / f"optouts_{summary['export_date']}.csv"
    assert scan_files([optouts.parent], emails, exclude=set())[str(optouts)] > 0
    hits = scan_files(  # the opt-out file is a landing file too: raw values stay there only
        [tmp_path / "dagster_home", project / "data"],
        emails,
        exclude={landing.resolve(), conversions.resolve(), optouts.resolve()},
    )
    assert hits.pop("<files scanned>") > 5
    assert hits == {}


def test_demo_refuses_to_share_a_running_emulators_state(tmp_path, monkeypatch):
    """`adu demo` while `adu dev` / `adu local up` runs: one clear line, nothing half-started."""
    from adu_pipeline.emulator.state_lock import StateLock
    from adu_pipeline.errors import InputError
    from adu_pipeline.local.demo import run_demo

    project = demo_project(tmp_path, monkeypatch)
    running = StateLock(project / "data" / ".local" / "emulator")  # what a running emulator holds
    running.acquire()
    try:
        with pytest.raises(InputError, match="adu demo uses the same AMC emulator state") as caught:
            run_demo(rows=200)
    finally:
        running.release()
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "dagster_home").exists()  # stopped before any run was recorded


def test_demo_never_replaces_a_landing_file_it_did_not_write(tmp_path, monkeypatch):
    from adu_pipeline.errors import InputError
    from adu_pipeline.local.demo import run_demo

    project = demo_project(tmp_path, monkeypatch)
    day = dt.date(2026, 11, 3)
    theirs = project / "data" / "landing" / f"crm_export_{day}.csv"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("Email\nsomeone@example.com\n")
    with pytest.raises(InputError, match="was not written by adu demo"):
        run_demo(rows=100, export_date=day)
    assert theirs.read_text() == "Email\nsomeone@example.com\n"


def test_a_segment_file_added_while_running_gets_its_audience_without_a_reload(pipeline):
    """As under `adu dev`: the definitions stay loaded; the new file is picked up by a tick."""
    pipeline.setenv(ADU_PREFLIGHT_MINUTES="0")  # gold_customers must reach AMC and FAIL there
    day = recent_day()
    pipeline.write_export(day, 5000, seed=3)
    driver = pipeline.driver()  # definitions loaded once, before the new segment exists
    driver.tick("segment_files_sensor")
    [run] = driver.tick("landing_file_sensor").runs
    assert run.success, run_failure_reason(run)
    ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
    assert [r.success for t in ticks for r in t.runs] == [True]  # loyal_customers

    shutil.copy(REPO_DATA / "segments" / "gold_customers.yaml", pipeline.segments)
    added = driver.tick("segment_files_sensor")
    [run] = added.runs
    assert run.success, run_failure_reason(run)
    [created] = materializations(run, AUDIENCE)
    assert created["action"] == "created" and created["audience_name"] == "adu gold customers"
    assert "gold_customers" in pipeline.instance.get_dynamic_partitions(keys.SEGMENT_PARTITIONS)
    driver.until("amc_audience_status", lambda o: sum(len(t.checks()) for t in o) >= 2)
    with pipeline.amc_client() as client:
        names = sorted(a.name for a in client.list_audiences())
    assert names == ["adu gold customers", "adu loyal customers"]

    (pipeline.segments / "gold_customers.yaml").unlink()  # removed: reported, never deleted
    removed = driver.tick("segment_files_sensor")
    assert [e.partition for e in removed.events] == ["gold_customers"] and not removed.runs
    with pipeline.amc_client() as client:
        assert len(client.list_audiences()) == 2

    # back under a new audience name: a new run, a new audience (the old one stays)
    text = (REPO_DATA / "segments" / "gold_customers.yaml").read_text()
    segment = pipeline.segments / "gold_customers.yaml"
    segment.write_text(text.replace("adu gold customers", "adu gold customers v2"))
    [again] = driver.tick("segment_files_sensor").runs
    assert again.success, run_failure_reason(again)
    assert materializations(again, AUDIENCE)[0]["audience_name"] == "adu gold customers v2"
    # edited: run again (this one FAILED in AMC, under 2,000 users, so it is updated in place;
    # a SUCCEEDED one would fail the run with the diff, see test_assets)
    driver.until("amc_audience_status", lambda o: bool(o[-1].checks()))
    segment.write_text(segment.read_text().replace("'PLATINUM'", "'PLATINUM', 'SILVER'"))
    [edited] = driver.tick("segment_files_sensor").runs
    assert edited.success, run_failure_reason(edited)
    assert materializations(edited, AUDIENCE)[0]["action"] in ("updated", "reused")
    assert driver.tick("segment_files_sensor").runs == []  # once per version


def test_an_asset_backfill_of_three_dates_uploads_fact_three_times_and_dimension_once(
    pipeline_factory, monkeypatch
):
    """The UI's Materialize over a date range: one asset backfill over both datasets, executed by
    the daemon's own backfill loop, runs launched in their own processes from workspace.yaml."""
    import logging

    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._core.utils import make_new_backfill_id
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._daemon.backfill import execute_backfill_iteration

    p = pipeline_factory(
        datasets={"crm_customers": ["us"], "crm_customers_list": ["us"]},
        runs_in_own_processes=True,
    )
    days = [str(recent_day(i)) for i in (4, 3, 2)]
    for i, day in enumerate(days):
        p.write_export(dt.date.fromisoformat(day), 300 + i, seed=i)
    monkeypatch.chdir(REPO)
    instance = dg.DagsterInstance.local_temp(str(p.home))
    selection = [
        dg.AssetKey([dataset, *asset.split("/")])
        for dataset in ("crm_customers", "crm_customers_list")
        for asset in ("hashed", "s3_object", "us/amc_dataset", "us/amc_upload")
    ]
    try:
        with WorkspaceProcessContext(instance, WorkspaceFileTarget(["workspace.yaml"])) as ctx:
            backfill = PartitionBackfill.from_asset_partitions(
                backfill_id=make_new_backfill_id(),
                asset_graph=ctx.create_request_context().asset_graph,
                partition_names=days,
                asset_selection=selection,
                backfill_timestamp=time.time(),
                tags={},
                dynamic_partitions_store=instance,
                all_partitions=False,
                title=None,
                description=None,
                run_config=None,
            )
            instance.add_backfill(backfill)
            deadline = time.monotonic() + 300
            while True:
                list(execute_backfill_iteration(ctx, logging.getLogger("backfill")))
                status = instance.get_backfill(backfill.backfill_id).status
                runs = instance.get_runs()
                if status.value.startswith("COMPLETED") and all(r.is_finished for r in runs):
                    break
                assert time.monotonic() < deadline, (status, [r.status for r in runs])
                time.sleep(1)
        assert status == BulkActionStatus.COMPLETED_SUCCESS
        assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.SUCCESS}
    finally:
        instance.dispose()
    with p.amc_client() as client:
        fact = client.list_uploads(dataset_id="crm_customers")
        dimension = client.list_uploads(dataset_id="crm_customers_list")
    assert len(fact) == 3 and len(dimension) == 1
    manifests = {u.data_source["sourceManifestS3Key"].split("export_date=")[1][:10] for u in fact}
    assert manifests == set(days)
