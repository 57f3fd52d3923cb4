"""End to end over the real local stack: moto's S3 server and the AMC emulator over HTTP, a real
Dagster instance, sensors driven tick by tick. These run in CI and are never skipped."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import subprocess

import dagster as dg

from adu_pipeline.defs.driver import SensorDriver, run_failure_reason
from adu_pipeline.defs.environments import LOCAL_AMC
from adu_pipeline.defs.project import project_dir
from adu_pipeline_tests.pipeline.conftest import REPO_DATA, materializations, recent_day
from adu_pipeline_tests.pipeline.privacy import landing_emails, scan_files, scan_s3
from adu_pipeline_tests.pipeline.test_assets import materialize

ROOT = project_dir()


def test_landing_file_to_succeeded_audience_and_no_raw_email_left_behind(pipeline):
    day = recent_day()
    partition = day.isoformat()
    landing = pipeline.write_export(day, 5000, seed=11)
    driver = pipeline.driver()

    landed = driver.tick("landing_file_sensor")
    [run] = landed.runs
    assert run.success, run_failure_reason(run)
    [hashed] = materializations(run, "hashed_customers")
    assert hashed["rows_in"] == 5000
    assert hashed["rows_in"] == (
        hashed["rows_written"] + hashed["rows_rejected"] + hashed["duplicates_dropped"]
    )
    [upload] = materializations(run, "amc_upload")

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
    [created] = materializations(audience_runs[0], "amc_audience")
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
    again = driver.execute(dg.RunRequest(partition_key=partition), "adu_export_job")
    assert again.success
    assert materializations(again, "amc_upload")[0]["started"] == 0

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
    materialize(pipeline, ["hashed_customers", "adu_s3_object"], partition)
    # Someone overwrites the part in S3 with rows AMC must refuse (a raw value in a PII column).
    [key] = [k for k in pipeline.s3_keys() if "/part-" in k]
    body = gzip.decompress(
        pipeline.s3_client.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read()
    )
    header, first, *rest = body.decode().splitlines()
    column = [name.strip('"') for name in header.split(",")].index("email")
    cells = first.split(",")
    cells[column] = '"not-a-hash"'
    broken = "\n".join([header, ",".join(cells), *rest]) + "\n"
    pipeline.s3_client.put_object(
        Bucket=pipeline.bucket, Key=key, Body=gzip.compress(broken.encode())
    )
    result = materialize(pipeline, ["amc_dataset", "amc_upload"], partition)
    [upload] = materializations(result, "amc_upload")

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
        [dg.AssetCheckKey(dg.AssetKey("amc_upload"), "amc_upload_succeeded")]
    )
    assert stored  # recorded on the instance, visible in the UI


def test_backfill_of_three_dates_with_the_dagster_cli(
    tmp_path, emulator_factory, s3_server, s3_bucket, s3_client
):
    amc = emulator_factory.start(
        client_id=LOCAL_AMC["client_id"],
        client_secret=LOCAL_AMC["client_secret"],
        refresh_token=LOCAL_AMC["refresh_token"],
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Runs launch at once in their own process (no daemon in a test; `adu dev` has one).
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: DefaultRunCoordinator\ntelemetry:\n  enabled: false\n"
    )
    landing = tmp_path / "landing"
    landing.mkdir()
    segments = tmp_path / "segments"
    shutil.copytree(REPO_DATA / "segments", segments)
    days = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(3)]
    from adu_pipeline.sample_data import write_sample_export

    for i, day in enumerate(days):
        write_sample_export(landing / f"crm_export_{day}.csv", 200 + i, seed=i, export_date=day)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ADU_ENV": "local",
        "ADU_LOCAL_S3_PORT": str(s3_server.port),
        "ADU_LOCAL_AMC_PORT": str(amc.port),
        "ADU_S3_BUCKET": s3_bucket,
        "ADU_LANDING_DIR": str(landing),
        "ADU_OUTPUT_DIR": str(tmp_path / "output"),
        "ADU_SEGMENTS_DIR": str(segments),
        "ADU_MIN_PROJECTED_AUDIENCE": "10",
    }
    command = [
        str(ROOT / ".venv/bin/dagster"), "job", "backfill", "-w", "workspace.yaml",
        "-j", "adu_export_job", "--from", str(days[0]), "--to", str(days[-1]), "--noprompt",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    instance = dg.DagsterInstance.local_temp(str(home))  # opens the instance in that folder
    try:
        runs = instance.get_runs()
        assert len(runs) == 3
        assert {r.tags["dagster/partition"] for r in runs} == {str(d) for d in days}
        assert len({r.tags["dagster/backfill"] for r in runs}) == 1
        deadline = dt.datetime.now() + dt.timedelta(seconds=600)
        while any(not r.is_finished for r in instance.get_runs()):
            assert dt.datetime.now() < deadline, "backfill runs did not finish"
            import time

            time.sleep(1)
        statuses = {r.tags["dagster/partition"]: r.status for r in instance.get_runs()}
        assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS}, statuses
        for i, day in enumerate(days):
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=dg.AssetKey("hashed_customers"), asset_partitions=[str(day)]
                ),
                limit=1,
            ).records
            meta = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
            assert meta["rows_in"] == 200 + i
            assert meta["rows_in"] == (
                meta["rows_written"] + meta["rows_rejected"] + meta["duplicates_dropped"]
            )
    finally:
        instance.dispose()
    from adu_pipeline.defs.environments import local_resources

    resources = local_resources(s3_server.endpoint_url, amc.url, bucket=s3_bucket, environ={})
    with resources["amc"].client(budget_seconds=20) as client:
        uploads = client.list_uploads(dataset_id="crm_customers")
    manifests = {u.data_source.get("sourceManifestS3Key") for u in uploads}
    assert len(uploads) == 3 and len(manifests) == 3
    assert {m.split("export_date=")[1][:10] for m in manifests} == {str(d) for d in days}
    assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 6  # a part + manifest each


def test_demo_leaves_no_raw_email_outside_the_landing_file(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(REPO_DATA / "datasets", project / "data" / "datasets")
    shutil.copytree(REPO_DATA / "segments", project / "data" / "segments")
    monkeypatch.setenv("ADU_PROJECT_DIR", str(project))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for name in ("ADU_LANDING_DIR", "ADU_OUTPUT_DIR", "ADU_SEGMENTS_DIR", "ADU_DATASET"):
        monkeypatch.delenv(name, raising=False)
    from adu_pipeline.demo import run_demo

    summary = run_demo()
    out = capsys.readouterr().out
    assert "SUCCESS" in out and "SUCCEEDED" in out
    assert summary["upload_status"] == "SUCCESS"
    assert summary["output_rows"] == summary["rows_written"]
    assert all(a["ok"] and a["size"] >= 2000 for a in summary["audiences"])
    [landing] = list((project / "data" / "landing").iterdir())
    emails = landing_emails(landing)
    assert len(emails) > 15000
    # the scanner does find them where they are: in the landing file itself
    assert scan_files([landing.parent], emails, exclude=set())[str(landing)] == len(emails)
    hits = scan_files(
        [tmp_path / "dagster_home", project / "data"], emails, exclude={landing.resolve()}
    )
    assert hits.pop("<files scanned>") > 5
    assert hits == {}


def test_demo_refuses_to_share_a_running_emulators_state(tmp_path, monkeypatch):
    """`adu demo` while `adu dev` / `adu local up` runs: one clear line, nothing half-started."""
    import pytest

    from adu_pipeline.demo import run_demo
    from adu_pipeline.emulator.state_lock import StateLock
    from adu_pipeline.errors import InputError

    project = tmp_path / "project"
    shutil.copytree(REPO_DATA / "datasets", project / "data" / "datasets")
    shutil.copytree(REPO_DATA / "segments", project / "data" / "segments")
    monkeypatch.setenv("ADU_PROJECT_DIR", str(project))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    running = StateLock(project / "data" / ".local" / "emulator")  # what a running emulator holds
    running.acquire()
    try:
        with pytest.raises(InputError, match="adu demo uses the same AMC emulator state") as caught:
            run_demo(rows=200)
    finally:
        running.release()
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "dagster_home").exists()  # stopped before any run was recorded
