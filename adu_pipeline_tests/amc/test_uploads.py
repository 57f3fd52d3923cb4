"""Uploads from moto's S3 server through the emulator over real HTTP."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline.amc import AmcConfigError, JobStatus, upload_request
from adu_pipeline.dataset import load_definition
from adu_pipeline_tests.amc.conftest import CRM_HEADER, WAIT, crm_csv_gz, crm_rows
from adu_pipeline_tests.amc.test_datasets import CRM_DEFINITION


@pytest.fixture
def crm(client):
    client.ensure_dataset(load_definition(CRM_DEFINITION).create_body())
    return "crm_customers"


@pytest.fixture
def wait(waiter):
    def poll(upload):
        return waiter.wait_for_upload(upload.dataset_id, upload.upload_id, **WAIT)

    return poll


def test_single_file_csv_gzip_reaches_success_with_row_count(
    client, wait, crm, s3_client, s3_bucket
):
    s3_client.put_object(Bucket=s3_bucket, Key="crm/part-0.csv.gz", Body=crm_csv_gz(30))
    body = upload_request(s3_bucket, key="crm/part-0.csv.gz", country_code="us")
    assert body["countryCode"] == "US"
    upload = client.create_upload(crm, body)
    assert upload.upload_id and upload.status in (JobStatus.PENDING, JobStatus.RUNNING)
    done = wait(upload)
    assert done.status is JobStatus.SUCCEEDED, done.message
    assert done.status_raw == "SUCCESS"
    assert done.output_row_count == 30
    again = client.get_upload(crm, upload.upload_id)
    assert again.data_source["sourceFileS3Key"] == "crm/part-0.csv.gz"


def test_manifest_and_prefix_sources(client, wait, crm, s3_client, s3_bucket):
    for i in range(2):
        s3_client.put_object(
            Bucket=s3_bucket, Key=f"parts/p{i}.csv.gz", Body=crm_csv_gz(10, start=i * 10)
        )
    manifest = "\n".join(f"s3://{s3_bucket}/parts/p{i}.csv.gz" for i in range(2))
    s3_client.put_object(Bucket=s3_bucket, Key="manifests/m.txt", Body=manifest.encode())
    by_manifest = wait(
        client.create_upload(crm, upload_request(s3_bucket, manifest_key="manifests/m.txt"))
    )
    assert by_manifest.status.is_success and by_manifest.output_row_count == 20
    by_prefix = wait(client.create_upload(crm, upload_request(s3_bucket, prefix="parts/")))
    assert by_prefix.status.is_success and by_prefix.output_row_count == 20


def test_jsonl_and_parquet_without_compression(client, wait, crm, s3_client, s3_bucket):
    names = CRM_HEADER.split(",")
    records = [dict(zip(names, row.split(","), strict=True)) for row in crm_rows(5)]
    for r in records:
        r["lifetime_value"] = float(r["lifetime_value"])
    lines = "\n".join(json.dumps(r) for r in records) + "\n"
    s3_client.put_object(Bucket=s3_bucket, Key="j/data.jsonl", Body=lines.encode())
    jsonl = client.create_upload(
        crm, upload_request(s3_bucket, key="j/data.jsonl", file_format="jsonl", compression="none")
    )
    assert wait(jsonl).output_row_count == 5

    table = pa.Table.from_pylist(records)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    s3_client.put_object(Bucket=s3_bucket, Key="p/data.parquet", Body=sink.getvalue())
    parquet = client.create_upload(
        crm,
        upload_request(s3_bucket, key="p/data.parquet", file_format="parquet", compression="NONE"),
    )
    done = wait(parquet)
    assert done.status.is_success, done.message
    assert done.output_row_count == 5


def test_invalid_hash_fails_the_upload_with_amc_message(client, wait, crm, s3_client, s3_bucket):
    rows = crm_rows(3)
    rows[1] = rows[1].replace(rows[1].split(",")[1], "not-a-hash@example.com")
    text = "\n".join([CRM_HEADER, *rows]) + "\n"
    s3_client.put_object(Bucket=s3_bucket, Key="bad/x.csv.gz", Body=gzip.compress(text.encode()))
    done = wait(client.create_upload(crm, upload_request(s3_bucket, key="bad/x.csv.gz")))
    assert done.status is JobStatus.FAILED
    assert done.message and "email" in done.message
    assert "not-a-hash@example.com" not in str(done.output_row_count)


def test_list_uploads_paginates_and_filters_by_dataset(client, crm, s3_client, s3_bucket, hooks):
    client.create_dataset(
        {
            "dataSet": {
                "dataSetId": "other_ds",
                "columns": [{"name": "x", "dataType": "STRING", "columnType": "DIMENSION"}],
            }
        }
    )
    s3_client.put_object(Bucket=s3_bucket, Key="l/a.csv.gz", Body=crm_csv_gz(2))
    s3_client.put_object(Bucket=s3_bucket, Key="o/x.csv", Body=b"x\nhello\n")
    ids = {
        client.create_upload(crm, upload_request(s3_bucket, key="l/a.csv.gz")).upload_id
        for _ in range(3)
    }
    client.create_upload("other_ds", upload_request(s3_bucket, key="o/x.csv", compression="none"))
    before = hooks.count("POST", "/uploads/list")
    listed = client.list_uploads(dataset_id=crm, page_size=2)
    assert {u.upload_id for u in listed} == ids
    assert hooks.count("POST", "/uploads/list") - before == 2
    assert len(client.list_uploads()) == 4


def test_find_or_create_upload_reuses_the_same_source(client, crm, s3_client, s3_bucket):
    s3_client.put_object(Bucket=s3_bucket, Key="r/a.csv.gz", Body=crm_csv_gz(4))
    body = upload_request(s3_bucket, key="r/a.csv.gz")
    first = client.find_or_create_upload(crm, body)
    second = client.find_or_create_upload(crm, body)
    assert first.created and not second.created
    assert second.upload.upload_id == first.upload.upload_id
    assert len(client.list_uploads(dataset_id=crm)) == 1
    forced = client.find_or_create_upload(crm, body, force=True)
    assert forced.created and len(client.list_uploads(dataset_id=crm)) == 2
    assert client.find_upload(crm, {"sourceS3Bucket": s3_bucket, "sourceFileS3Key": "zz"}) is None


def test_upload_request_refuses_ambiguous_sources():
    with pytest.raises(AmcConfigError, match="exactly one"):
        upload_request("b", key="k", prefix="p/")
    with pytest.raises(AmcConfigError, match="exactly one"):
        upload_request("b")
    with pytest.raises(AmcConfigError, match="file format"):
        upload_request("b", key="k", file_format="xml")
    body = upload_request("b", manifest_key="m.txt", file_format="parquet", compression="none")
    assert body == {
        "dataSource": {"sourceS3Bucket": "b", "sourceManifestS3Key": "m.txt"},
        "fileFormat": {"parquetDataFormat": "PARQUET_DATA_FORMAT"},
        "compressionFormat": "NONE",
        "updateStrategy": "FULL_REPLACE",
    }
