"""What the user sees is the truth: gates hold across runs, a failed partition looks failed, its
figures plot per partition, and no file in the landing folder is ignored silently."""

from __future__ import annotations

import csv

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter

from adu_pipeline.emulator.config import Hostile
from adu_pipeline.lib import keys
from adu_pipeline.local.driver import run_failure_reason
from adu_pipeline_tests.pipeline.conftest import break_a_part, materializations, recent_day
from adu_pipeline_tests.pipeline.test_assets import materialize

HASHED = "crm_customers/hashed"
S3 = "crm_customers/s3_object"
DATASET = "crm_customers/us/amc_dataset"
UPLOAD = "crm_customers/us/amc_upload"
AUDIENCE = "audiences/amc_audience"


def latest_check(instance: dg.DagsterInstance, asset: str, name: str, partition: str | None):
    key = dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), name)
    found = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [key], partition_filter=PartitionKeyFilter(key=partition)
    )
    return found[key].evaluation if key in found else None


def step_failure(result: dg.ExecuteInProcessResult) -> str:
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return event.step_failure_data.error.message


def test_materializing_downstream_alone_never_sends_a_partition_whose_gate_failed(pipeline):
    partition = recent_day().isoformat()
    pipeline.write_export(recent_day(), 400)
    pipeline.setenv(ADU_MIN_PROJECTED_AUDIENCE="1000000")  # match_readiness must fail
    gated = materialize(pipeline, [HASHED], partition, raise_on_error=False)
    assert not gated.success
    readiness = latest_check(pipeline.instance, HASHED, keys.READINESS_CHECK, partition)
    assert readiness is not None and not readiness.passed

    # The UI's Materialize button on the downstream assets alone, a separate run each.
    alone = materialize(pipeline, [S3], partition, raise_on_error=False)
    assert not alone.success
    message = step_failure(alone)
    assert "did not pass its gates" in message and "match_readiness failed" in message
    assert "projected audience" in message  # the reason, not only "a check failed"
    upload = materialize(pipeline, [DATASET, UPLOAD], partition, raise_on_error=False)
    assert not upload.success
    assert not materializations(upload, UPLOAD)
    assert [k for k in pipeline.s3_keys() if partition in k] == []
    with pipeline.amc_client() as client:
        assert client.list_uploads(dataset_id="crm_customers") == []

    # Another partition is not affected by this one's failure, and a fixed export goes through.
    pipeline.setenv(ADU_MIN_PROJECTED_AUDIENCE="10")
    assert materialize(pipeline, [HASHED, S3], partition).success
    assert latest_check(pipeline.instance, HASHED, keys.READINESS_CHECK, partition).passed


def test_a_pii_column_with_no_valid_value_is_a_warning_that_names_it(pipeline):
    day = recent_day(3)
    path = pipeline.write_export(day, 300)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    email = rows[0].index("Email")  # as if the export's email field were mapped to a name field
    for row in rows[1:]:
        row[email] = "no-at-sign"
    with path.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    result = materialize(pipeline, [HASHED], day.isoformat(), raise_on_error=False)
    warning = latest_check(pipeline.instance, HASHED, keys.PII_VALID_CHECK, day.isoformat())
    assert warning is not None and not warning.passed
    assert warning.severity == dg.AssetCheckSeverity.WARN
    assert "email: 0 of" in warning.description and "column mapping" in warning.description
    assert "no-at-sign" not in warning.description  # counts and reasons, never a value
    [meta] = materializations(result, HASHED)
    assert meta["values_nulled"] >= meta["rows_written"]


def test_a_semicolon_export_names_the_likely_delimiter(pipeline):
    day = recent_day(4)
    path = pipeline.write_export(day, 50)
    path.write_text(path.read_text().replace(",", ";"))
    result = materialize(pipeline, [HASHED], day.isoformat(), raise_on_error=False)
    assert not result.success
    message = step_failure(result)
    assert "';'-delimited" in message and "pipeline.delimiter" in message


def test_upload_and_audience_results_are_per_partition_and_failures_stay_visible(pipeline):
    good, bad = recent_day(1).isoformat(), recent_day(2).isoformat()
    pipeline.write_export(recent_day(1), 3000, seed=3)
    pipeline.write_export(recent_day(2), 300, seed=4)
    driver = pipeline.driver()
    run = driver.execute(dg.RunRequest(partition_key=good), "crm_customers_export_job")
    assert run.success, run_failure_reason(run)
    [started] = materializations(run, UPLOAD)
    assert "status" not in started and started["status_at_start"]
    # AMC fails the older date's upload: a row in its S3 part was overwritten with a raw value.
    materialize(pipeline, [HASHED, S3], bad)
    break_a_part(pipeline, bad)
    assert materialize(pipeline, [DATASET, UPLOAD], bad).success

    done = lambda ticks: len([c for t in ticks for c in t.checks()]) >= 2  # noqa: E731
    ticks = driver.until("amc_upload_status", done, timeout=120)
    checks = {c.partition: c for t in ticks for c in t.checks()}
    assert checks[good].passed and not checks[bad].passed
    # each partition keeps its own result: the later pass does not hide the earlier failure
    assert not latest_check(pipeline.instance, UPLOAD, keys.UPLOAD_CHECK, bad).passed
    assert latest_check(pipeline.instance, UPLOAD, keys.UPLOAD_CHECK, good).passed
    # the figures plot per partition: the partition's newest materialization carries them
    records = pipeline.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey.from_user_string(UPLOAD)), limit=10
    ).records
    newest = {}
    for record in records:
        newest.setdefault(record.asset_materialization.partition, record.asset_materialization)
    figures = {k: v.value for k, v in newest[good].metadata.items()}
    assert figures["OutputRowCount"] > 0 and 0 < figures["match_rate"] <= 1
    assert figures["status"] == "SUCCESS"
    assert "OutputRowCount" not in newest[bad].metadata  # no success is claimed for it

    # the audience runs after the good upload; the status sensor reports it on its segment
    audience_runs = [r for t in ticks for r in t.runs]
    assert len(audience_runs) == 1 and audience_runs[0].success
    ticks = driver.until("amc_audience_status", lambda o: bool(o[-1].checks()), timeout=120)
    [check] = ticks[-1].checks()
    assert check.partition == "loyal_customers" and check.passed
    segment = (
        pipeline.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=keys.AUDIENCE, asset_partitions=["loyal_customers"]),
            limit=1,
        )
        .records[0]
        .asset_materialization
    )
    assert segment.metadata["audience_count"].value >= 2000
    assert segment.metadata["status"].value == "SUCCEEDED"


def test_a_failed_audience_is_not_retried_after_every_upload(pipeline_factory):
    pipeline = pipeline_factory(
        datasets={"crm_customers": ["us"]},
        segments=("loyal_customers",),
        hostile=Hostile(audience_failure_share=1.0, seed=1),  # AMC fails every audience
    )
    pipeline.write_export(recent_day(1), 2600, seed=5)
    driver = pipeline.driver()
    driver.tick("segment_files_sensor")
    run = driver.execute(
        dg.RunRequest(partition_key=recent_day(1).isoformat()), "crm_customers_export_job"
    )
    assert run.success, run_failure_reason(run)
    ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
    assert [r.dagster_run.tags["dagster/partition"] for t in ticks for r in t.runs] == [
        "loyal_customers"
    ]
    ticks = driver.until("amc_audience_status", lambda o: bool(o[-1].checks()), timeout=120)
    [check] = ticks[-1].checks()
    assert check.partition == "loyal_customers" and not check.passed
    assert check.description  # AMC's statusReason

    pipeline.write_export(recent_day(2), 2600, seed=6)
    run = driver.execute(
        dg.RunRequest(partition_key=recent_day(2).isoformat()), "crm_customers_export_job"
    )
    assert run.success
    ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
    assert [r for t in ticks for r in t.runs] == []  # the FAILED audience is not run again
    assert not latest_check(
        pipeline.instance, AUDIENCE, keys.AUDIENCE_CHECK, "loyal_customers"
    ).passed


def test_every_file_in_the_landing_folder_is_run_or_reported_with_a_reason(pipeline):
    day = recent_day()
    pipeline.write_export(day, 50)
    good = pipeline.landing / f"crm_export_{day.isoformat()}.csv"
    assert good.exists()
    content = good.read_bytes()
    odd = {
        f"CRM_Export_{day.isoformat()}.csv": "case-sensitive",
        f"crm_export_{day.isoformat()}.CSV": "lower case",
        f"crm_export_{day.strftime('%Y%m%d')}.csv": "YYYY-MM-DD",
        "crm_export_2026-02-30.csv": "not a valid date",
        f"crm_export_{day.isoformat()}.txt": "extension .txt",
    }
    for name in odd:
        (pipeline.landing / name).write_bytes(content)
    driver = pipeline.driver()
    outcome = driver.tick("landing_file_sensor")
    assert len(outcome.runs) == 1
    observed = {
        e.metadata["file_name"].value: e.metadata["reason"].value
        for e in outcome.events
        if isinstance(e, dg.AssetObservation)
    }
    assert set(observed) == set(odd)
    for name, words in odd.items():
        assert words in observed[name], (name, observed[name])
    # recorded on the landing asset (the UI shows it), and reported once per version
    stored = pipeline.instance.fetch_observations(keys.landing("crm_customers"), limit=10).records
    assert len(stored) == len(odd)
    again = driver.tick("landing_file_sensor")
    assert again.events == [] and again.runs == []
    # a tick with nothing to run says why in its reason
    (pipeline.landing / "notes.txt").write_text("hello")
    quiet = driver.tick("landing_file_sensor")
    assert "notes.txt not read" in (quiet.skip_message or "")


def test_a_segment_whose_sql_names_a_missing_column_fails_before_amc(pipeline):
    text = (pipeline.segments / "loyal_customers.yaml").read_text()
    (pipeline.segments / "typo_customers.yaml").write_text(
        text.replace("adu loyal customers", "adu typo customers").replace(
            "WHERE user_id IS NOT NULL", "WHERE loyalty_teir = 'GOLD'"
        )
    )
    outcome = pipeline.driver().tick("segment_files_sensor")
    assert "typo_customers" not in [r.dagster_run.tags["dagster/partition"] for r in outcome.runs]
    result = materialize(pipeline, [AUDIENCE], "typo_customers", raise_on_error=False)
    assert not result.success
    assert "loyalty_teir" in step_failure(result)
    with pipeline.amc_client() as client:
        assert [a.name for a in client.list_audiences()] == []
