"""Assets materialized with dg.materialize() on a real temporary instance, against the real local
stack (moto's S3 server and the AMC emulator over HTTP)."""

from __future__ import annotations

import gzip
import io
import re

import dagster as dg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml

from adu_pipeline.lib import keys
from adu_pipeline_tests.pipeline.conftest import materializations, recent_day

HEX64 = re.compile(r"^[0-9a-f]{64}$")
PII = ("email", "phone", "first_name", "last_name", "address", "city", "state", "zip")
HASHED = "crm_customers/hashed"
S3 = "crm_customers/s3_object"
AMC_DATASET = "crm_customers/us/amc_dataset"
UPLOAD = "crm_customers/us/amc_upload"
AUDIENCE = "audiences/amc_audience"
EXPORT_JOB = "crm_customers_export_job"


def materialize(pipeline, selection, partition, raise_on_error=True, run_config=None):
    """dg.materialize over the loaded definitions, as the UI's Materialize button runs them."""
    defs = pipeline.defs
    if partition and selection == ["audiences/amc_audience"]:
        pipeline.instance.add_dynamic_partitions(keys.SEGMENT_PARTITIONS, [partition])
    return dg.materialize(
        list(defs.assets or []),
        selection=[dg.AssetKey.from_user_string(s) for s in selection],
        partition_key=partition,
        instance=pipeline.instance,
        resources=defs.resources,
        raise_on_error=raise_on_error,
        run_config=run_config,
    )


def run_export(pipeline, partition, run_config=None, raise_on_error=True):
    job = pipeline.defs.resolve_job_def(EXPORT_JOB)
    return job.execute_in_process(
        instance=pipeline.instance,
        partition_key=partition,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def output_paths(pipeline, dataset_id, partition):
    plan = next(p for p in pipeline.project.plans if p.id == dataset_id)
    return plan.output_paths(partition)


def edit_dataset(pipeline, dataset_id, change):
    path = pipeline.datasets / f"{dataset_id}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return data


def test_hashed_customers_accounts_for_every_row_and_passes_its_checks(pipeline):
    day = recent_day()
    pipeline.write_export(day, 3000, ext=".csv.gz")
    result = materialize(pipeline, [HASHED], day.isoformat())
    [meta] = materializations(result, HASHED)
    assert meta["rows_in"] == 3000
    assert meta["rows_in"] == (
        meta["rows_written"] + meta["rows_rejected"] + meta["duplicates_dropped"]
    )
    assert meta["duplicates_dropped"] > 0  # the sample export repeats some rows
    assert 0.9 < meta["identifier_share"] <= 1.0
    for column in PII:
        assert 0 < meta[f"validity/{column}"] <= 1
    numeric = [k for k, v in meta.items() if isinstance(v, int | float)]
    assert {"rows_in", "rows_written", "duplicates_dropped", "projected_audience"} <= set(numeric)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "schema_matches_definition": True,
        "pii_egress_guard": True,
        "match_readiness": True,
        "pii_columns_have_valid_values": True,
    }
    assert meta["values_nulled"] == sum(v for k, v in meta.items() if k.startswith("invalid/"))
    output, rejects = output_paths(pipeline, "crm_customers", day.isoformat())
    table = pq.read_table(output)
    assert table.num_rows == meta["rows_written"]
    assert set(table.column("export_date").to_pylist()) == {day}
    emails = table.column("email")
    assert emails.null_count > 0  # true nulls, never the hash of ""
    assert all(HEX64.match(v) for v in emails.drop_null().to_pylist())
    assert rejects.exists()


def test_failing_blocking_check_stops_the_run_before_s3(pipeline):
    day = recent_day()
    pipeline.write_export(day, 300)
    pipeline.setenv(ADU_MIN_PROJECTED_AUDIENCE="1000000")
    result = run_export(pipeline, day.isoformat(), raise_on_error=False)
    assert not result.success
    readiness = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "match_readiness"
    ]
    assert readiness and not readiness[0].passed
    assert "projected audience" in (readiness[0].description or "")
    assert materializations(result, S3) == []
    assert materializations(result, UPLOAD) == []
    assert pipeline.s3_keys() == []


def test_s3_object_refuses_values_that_are_not_hashes(pipeline):
    day = recent_day()
    partition = day.isoformat()
    pipeline.write_export(day, 200)
    materialize(pipeline, [HASHED], partition)
    output, _ = output_paths(pipeline, "crm_customers", partition)
    table = pq.read_table(output)
    emails = table.column("email").to_pylist()
    emails[5] = "tampered.value@example.invalid"
    table = table.set_column(table.schema.get_field_index("email"), "email", pa.array(emails))
    pq.write_table(table, output)
    result = materialize(pipeline, [S3], partition, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    description = failure.step_failure_data.user_failure_data.description
    assert "PII egress guard" in description and "email=1" in description
    assert "tampered" not in description
    assert pipeline.s3_keys() == []


def test_s3_parts_manifest_tags_encryption_and_skip_of_unchanged_content(pipeline):
    day = recent_day()
    partition = day.isoformat()
    pipeline.write_export(day, 1500)
    pipeline.setenv(ADU_MAX_PART_MB="0.02")  # 20,971 bytes
    materialize(pipeline, [HASHED], partition)
    first = materialize(pipeline, [S3], partition)
    [meta] = materializations(first, S3)
    prefix = f"adu/crm_customers/export_date={partition}/"
    assert meta["part_count"] >= 3
    assert meta["parts_uploaded"] == meta["part_count"]
    assert meta["manifest_key"].startswith(prefix + "manifest-")
    client, bucket = pipeline.s3_client, pipeline.bucket
    manifest = client.get_object(Bucket=bucket, Key=meta["manifest_key"])["Body"].read().decode()
    listed = manifest.splitlines()
    parts = (
        f"{prefix}{meta['content_hash'][:16]}/"  # content-addressed: a re-delivery never overwrites
    )
    assert listed == [f"s3://{bucket}/{parts}part-{i:05d}.csv.gz" for i in range(len(listed))]
    total_rows = 0
    for uri in listed:
        key = uri.split(f"s3://{bucket}/", 1)[1]
        assert not key.rsplit("/", 1)[1].startswith((".", "_"))
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] <= 20_971
        assert head["ServerSideEncryption"] == "AES256"
        assert HEX64.match(head["Metadata"]["content-sha256"])
        tags = client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        us = pipeline.project.catalog.instances["us"].instance_id
        assert {"Key": "instanceId", "Value": us} in tags
        body = gzip.decompress(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        part = pacsv.read_csv(
            io.BytesIO(body),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in PII}),
        )
        total_rows += part.num_rows
        assert part.column_names[0] == "export_date"
    assert total_rows == meta["rows"]
    second = materialize(pipeline, [S3], partition)
    [again] = materializations(second, S3)
    assert again["parts_uploaded"] == 0 and again["manifest_uploaded"] == 0
    assert again["manifest_key"] == meta["manifest_key"]


def test_parquet_parts(pipeline):
    day = recent_day()
    partition = day.isoformat()
    pipeline.write_export(day, 800)
    pipeline.setenv(ADU_FILE_FORMAT="parquet", ADU_MAX_PART_MB="0.04")
    materialize(pipeline, [HASHED], partition)
    [meta] = materializations(materialize(pipeline, [S3], partition), S3)
    assert meta["part_count"] >= 2
    keys = [k for k in pipeline.s3_keys() if k.endswith(".parquet")]
    rows = 0
    for key in keys:
        data = pipeline.s3_client.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read()
        rows += pq.read_table(io.BytesIO(data)).num_rows
    assert rows == meta["rows"]


def test_amc_dataset_creates_adds_nullable_columns_and_refuses_other_drift(pipeline):
    [meta] = materializations(materialize(pipeline, [AMC_DATASET], None), AMC_DATASET)
    assert meta["created"] == 1 and meta["action"] == "created"
    [meta] = materializations(materialize(pipeline, [AMC_DATASET], None), AMC_DATASET)
    assert meta["created"] == 0 and meta["columns_added"] == 0

    definition = edit_dataset(
        pipeline,
        "crm_customers",
        lambda d: d["columns"].append(
            {"name": "favourite_store", "source": "Favourite Store", "dataType": "STRING",
             "columnType": "DIMENSION"}
        ),
    )  # fmt: skip
    [meta] = materializations(materialize(pipeline, [AMC_DATASET], None), AMC_DATASET)
    assert meta["columns_added"] == 1
    with pipeline.amc_client() as client:
        assert "favourite_store" in client.get_dataset("crm_customers").column_names

    assert definition

    def to_long(data):
        next(c for c in data["columns"] if c["name"] == "lifetime_value")["dataType"] = "LONG"

    edit_dataset(pipeline, "crm_customers", to_long)
    result = materialize(pipeline, [AMC_DATASET], None, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    description = failure.step_failure_data.user_failure_data.description
    assert "lifetime_value" in description and "LONG" in description
    with pipeline.amc_client() as client:
        assert len(client.list_datasets()) == 1


def test_rematerializing_starts_no_second_upload_unless_forced(pipeline):
    day = recent_day()
    partition = day.isoformat()
    pipeline.write_export(day, 400)
    first = run_export(pipeline, partition)
    [up1] = materializations(first, UPLOAD)
    assert up1["started"] == 1 and up1["update_strategy"] == "OVERLAP_REPLACE"
    second = run_export(pipeline, partition)
    [up2] = materializations(second, UPLOAD)
    assert up2["started"] == 0 and up2["upload_id"] == up1["upload_id"]
    with pipeline.amc_client() as client:
        assert len(client.list_uploads(dataset_id="crm_customers")) == 1
    op = "crm_customers__us__amc_upload"
    forced = run_export(pipeline, partition, {"ops": {op: {"config": {"force": True}}}})
    [up3] = materializations(forced, UPLOAD)
    assert up3["started"] == 1 and up3["upload_id"] != up1["upload_id"]
    with pipeline.amc_client() as client:
        assert len(client.list_uploads(dataset_id="crm_customers")) == 2


@pytest.mark.parametrize("strategy", ["FULL_REPLACE", "ADDITIVE"])
def test_update_strategy_is_configurable(pipeline, strategy):
    day = recent_day()
    pipeline.write_export(day, 100)
    edit_dataset(
        pipeline, "crm_customers", lambda d: d["pipeline"].update(update_strategy=strategy)
    )
    [meta] = materializations(run_export(pipeline, day.isoformat()), UPLOAD)
    assert meta["update_strategy"] == strategy
    with pipeline.amc_client() as client:
        upload = client.get_upload("crm_customers", meta["upload_id"])
    assert upload.raw.get("updateStrategy", strategy) == strategy


def test_missing_landing_file_fails_with_the_expected_name(pipeline):
    result = materialize(pipeline, [HASHED], "2026-03-04", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "crm_export_2026-03-04" in failure.step_failure_data.user_failure_data.description


def test_audience_is_reused_by_name_and_a_changed_segment_fails_with_the_diff(
    pipeline, emulator_factory
):
    # A slow AMC keeps the audience PENDING, as a real one is for minutes.
    slow = emulator_factory.start(step_seconds=600, config=pipeline.emulator.config)
    pipeline.setenv(ADU_LOCAL_AMC_PORT=str(slow.port), ADU_PREFLIGHT_MINUTES="0")  # AMC's reuse
    [first] = materializations(materialize(pipeline, [AUDIENCE], "loyal_customers"), AUDIENCE)
    assert first["action"] == "created"
    [second] = materializations(materialize(pipeline, [AUDIENCE], "loyal_customers"), AUDIENCE)
    assert second["action"] == "reused" and second["audience_id"] == first["audience_id"]

    segment = pipeline.segments / "loyal_customers.yaml"
    segment.write_text(
        segment.read_text().replace("WHERE user_id IS NOT NULL", "WHERE user_id IS NULL")
    )
    result = materialize(pipeline, [AUDIENCE], "loyal_customers", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    description = failure.step_failure_data.user_failure_data.description
    assert "query differs" in description
    with pipeline.amc_client() as client:
        assert len(client.list_audiences()) == 1


def test_a_failed_audience_is_updated_in_place_never_duplicated(pipeline):
    # No data uploaded: AMC fails the audience (fewer than 2,000 users); without the preflight,
    # which would refuse to create it, this is what AMC does with such an audience.
    pipeline.setenv(ADU_PREFLIGHT_MINUTES="0")
    driver = pipeline.driver()
    [first] = materializations(materialize(pipeline, [AUDIENCE], "loyal_customers"), AUDIENCE)
    ticks = driver.until("amc_audience_status", lambda o: bool(o[-1].checks()), timeout=60)
    [check] = ticks[-1].checks()
    with pipeline.amc_client() as client:
        failed = client.get_audience(first["audience_id"])
    assert failed.status_raw == "FAILED" and failed.status_reason
    assert not check.passed and failed.status_reason in check.description
    assert check.metadata["status_reason"].value == failed.status_reason
    [again] = materializations(materialize(pipeline, [AUDIENCE], "loyal_customers"), AUDIENCE)
    assert again["action"] == "updated" and again["audience_id"] == first["audience_id"]
    with pipeline.amc_client() as client:
        assert len(client.list_audiences()) == 1


def test_malformed_export_fails_in_one_line_and_no_row_reaches_the_event_log(pipeline):
    from adu_pipeline_tests.pipeline.privacy import scan_files

    day = recent_day()
    path = pipeline.write_export(day, 50)
    canary = "canary.leak.7731@example.com"
    lines = path.read_text().splitlines()
    lines[5] = lines[5] + f',"{canary}",extra'  # a ragged row carrying a raw value
    path.write_text("\n".join(lines) + "\n")
    result = materialize(pipeline, [HASHED], day.isoformat(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    description = failure.step_failure_data.user_failure_data.description
    assert path.name in description and "\n" not in description
    assert canary not in description
    hits = scan_files([pipeline.home], {canary}, exclude=set())
    assert hits.pop("<files scanned>") > 0
    assert hits == {}
