"""Uploads through moto's S3 server: sources, formats, failures, update strategies, listing."""

from __future__ import annotations

import time

import pytest

from adu_pipeline_tests.emulator.conftest import (
    UPLOAD_MEDIA,
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    gz,
    jsonl_bytes,
    parquet_bytes,
    purchases_dataset,
    sha,
    upload_body,
)


def put(s3, bucket, key, data: bytes):
    s3.put_object(Bucket=bucket, Key=key, Body=data)


def test_single_csv_gzip_file(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    rows = customer_rows(50)
    put(s3_client, s3_bucket, "crm/part-0001.csv.gz", gz(csv_bytes(rows)))
    created = api.upload(
        "crm_customers", upload_body(s3_bucket, key="crm/part-0001.csv.gz", compression="GZIP")
    )
    assert created.status_code == 200
    assert created.headers["content-type"] == UPLOAD_MEDIA
    assert created.json()["status"] == "SUBMITTED"
    upload = api.wait_upload("crm_customers", created.json()["uploadId"])
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"] == {"OutputRowCount": 50}
    assert upload["dataSetId"] == "crm_customers"
    assert upload["createdAt"] and upload["updatedAt"]
    assert upload["dataSource"]["sourceFileS3Key"] == "crm/part-0001.csv.gz"
    stored = api.stored_rows("crm_customers")
    assert len(stored) == 50
    # identifiers are dropped after matching; business columns are kept with their types
    assert all(r["email"] is None and r["phone"] is None for r in stored)
    assert stored[3]["lifetime_value"] == "3.25"
    assert any(r["user_id"] for r in stored)


def test_states_advance_on_the_clock(emulator_factory, s3_client, s3_bucket):
    server = emulator_factory.start(step_seconds=0.4)
    api = Api(server)
    api.create_dataset(crm_dataset())
    put(s3_client, s3_bucket, "a.csv", csv_bytes(customer_rows(3)))
    upload_id = api.upload("crm_customers", upload_body(s3_bucket, key="a.csv")).json()["uploadId"]
    states: list[str] = []
    deadline = time.monotonic() + 20
    while (not states or states[-1] not in ("SUCCESS", "FAILED")) and time.monotonic() < deadline:
        status = api.get_upload("crm_customers", upload_id)["status"]
        if not states or states[-1] != status:
            states.append(status)
        time.sleep(0.02)
    assert states == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]


def test_prefix_of_json_lines_files(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    put(s3_client, s3_bucket, "drop/2024-05-01/part-1.jsonl", jsonl_bytes(customer_rows(10)))
    put(s3_client, s3_bucket, "drop/2024-05-01/part-2.jsonl", jsonl_bytes(customer_rows(7, 10)))
    put(s3_client, s3_bucket, "drop/other/part-9.jsonl", jsonl_bytes(customer_rows(5, 90)))
    upload = api.upload_and_wait(
        "crm_customers",
        upload_body(s3_bucket, prefix="drop/2024-05-01/", fmt={"jsonDataFormat": "LINES"}),
    )
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"]["OutputRowCount"] == 17


def test_manifest_of_parquet_files_across_buckets(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    second = s3_bucket + "-b"
    s3_client.create_bucket(Bucket=second)
    put(s3_client, s3_bucket, "p/part-1.parquet", parquet_bytes(customer_rows(20)))
    put(s3_client, second, "p/part-2.parquet", parquet_bytes(customer_rows(5, 20)))
    manifest = f"s3://{s3_bucket}/p/part-1.parquet\n\ns3://{second}/p/part-2.parquet\n"
    put(s3_client, s3_bucket, "p/manifest.txt", manifest.encode())
    upload = api.upload_and_wait(
        "crm_customers",
        upload_body(
            s3_bucket, manifest="p/manifest.txt", fmt={"parquetDataFormat": "PARQUET_DATA_FORMAT"}
        ),
    )
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"]["OutputRowCount"] == 25


def test_csv_options_delimiter_and_comments(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    data = b"# exported by the CRM\n" + csv_bytes(customer_rows(4), delimiter="|")
    put(s3_client, s3_bucket, "pipe.csv", data)
    upload = api.upload_and_wait(
        "crm_customers",
        upload_body(
            s3_bucket,
            key="pipe.csv",
            fmt={"csvDataFormat": {"fieldDelimiter": "|", "commentCharacter": "#"}},
        ),
    )
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"]["OutputRowCount"] == 4


def test_fact_rows_keep_types(api, s3_client, s3_bucket):
    api.create_dataset(purchases_dataset())
    rows = [
        {
            "email": sha("a@x.com"),
            "order_id": "o1",
            "amount": "12.5",
            "quantity": "3",
            "purchased_at": "2024-05-01T10:11:12Z",
        }
    ]
    put(s3_client, s3_bucket, "f.csv", csv_bytes(rows))
    upload = api.upload_and_wait("crm_purchases", upload_body(s3_bucket, key="f.csv"))
    assert upload["status"] == "SUCCESS", upload.get("message")
    (row,) = api.stored_rows("crm_purchases")
    assert row["amount"] == "12.50" and row["quantity"] == 3
    assert row["purchased_at"] == "2024-05-01T10:11:12Z"


FAILURES = {
    "bad timestamp": (
        {"purchased_at": "2024/05/01 10:11"},
        "row 2 column purchased_at",
        "2024/05/01",
    ),
    "bad integer": ({"quantity": "three"}, "row 2 column quantity", "three"),
    "integer overflow": ({"quantity": str(2**40)}, "row 2 column quantity", str(2**40)),
    "plain email": ({"email": "jane@example.com"}, "row 2 column email", "jane@example.com"),
    "uppercase hex": ({"email": sha("x").upper()}, "row 2 column email", sha("x").upper()),
    "null event time": ({"purchased_at": ""}, "row 2 column purchased_at", None),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_schema_violation_fails_whole_upload_naming_row_and_column(api, s3_client, s3_bucket, case):
    change, where, secret = FAILURES[case]
    api.create_dataset(purchases_dataset())
    good = {
        "email": sha("a@x.com"),
        "order_id": "o1",
        "amount": "1.00",
        "quantity": "1",
        "purchased_at": "2024-05-01T10:11:12Z",
    }
    rows = [good, {**good, **change}, good]
    put(s3_client, s3_bucket, "bad.csv", csv_bytes(rows))
    upload = api.upload_and_wait("crm_purchases", upload_body(s3_bucket, key="bad.csv"))
    assert upload["status"] == "FAILED"
    assert where in upload["message"], upload["message"]
    assert f"s3://{s3_bucket}/bad.csv" in upload["message"]
    if secret:
        assert secret not in upload["message"]
    assert upload["metrics"] == {}
    assert api.stored_rows("crm_purchases") == []  # nothing of a failed upload is kept


def test_unknown_and_reserved_columns_fail(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    rows = customer_rows(2)
    put(s3_client, s3_bucket, "extra.csv", csv_bytes([{**r, "ssn": "1"} for r in rows]))
    put(s3_client, s3_bucket, "uid.csv", csv_bytes([{**r, "user_id": "u"} for r in rows]))
    extra = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="extra.csv"))
    assert extra["status"] == "FAILED"
    assert "field 9 of the header is not a column" in extra["message"]
    assert "ssn" not in extra["message"]  # a CSV header may be a data row: never echoed
    put(s3_client, s3_bucket, "extra.jsonl", jsonl_bytes([{**r, "ssn": "1"} for r in rows]))
    named = api.upload_and_wait(
        "crm_customers", upload_body(s3_bucket, key="extra.jsonl", fmt={"jsonDataFormat": "LINES"})
    )
    assert named["status"] == "FAILED" and "row 1 column ssn" in named["message"]
    uid = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="uid.csv"))
    assert uid["status"] == "FAILED" and "column user_id" in uid["message"]


@pytest.mark.parametrize("key", ["data/.hidden.csv", "data/_SUCCESS"])
def test_object_names_starting_with_dot_or_underscore_are_refused(api, s3_client, s3_bucket, key):
    api.create_dataset(crm_dataset())
    put(s3_client, s3_bucket, key, csv_bytes(customer_rows(2)))
    single = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key=key))
    assert single["status"] == "FAILED"
    assert "must not start with '.' or '_'" in single["message"]
    put(s3_client, s3_bucket, "data/part-1.csv", csv_bytes(customer_rows(2)))
    prefix = api.upload_and_wait("crm_customers", upload_body(s3_bucket, prefix="data/"))
    assert prefix["status"] == "FAILED"


def test_missing_object_and_wrong_compression_fail(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    missing = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="nope.csv"))
    assert missing["status"] == "FAILED"
    assert missing["message"] == f"No such file or directory 's3://{s3_bucket}/nope.csv'"
    put(s3_client, s3_bucket, "plain.csv", csv_bytes(customer_rows(2)))
    wrong = api.upload_and_wait(
        "crm_customers", upload_body(s3_bucket, key="plain.csv", compression="GZIP")
    )
    assert wrong["status"] == "FAILED" and "not GZIP" in wrong["message"]


REJECTED_BODIES = {
    "unknown compression": ({"compressionFormat": "LZ4"}, "compressionFormat"),
    "unknown json format": ({"fileFormat": {"jsonDataFormat": "NDJSON"}}, "fileFormat"),
    "two formats": (
        {"fileFormat": {"csvDataFormat": {}, "jsonDataFormat": "LINES"}},
        "exactly one",
    ),
    "two sources": (
        {"dataSource": {"sourceS3Bucket": "b1x", "sourceFileS3Key": "a", "sourceS3Prefix": "p/"}},
        "exactly one",
    ),
    "no source key": ({"dataSource": {"sourceS3Bucket": "b1x"}}, "exactly one"),
    "overlap on dimension": ({"updateStrategy": "OVERLAP_REPLACE"}, "FACT"),
    "bad strategy": ({"updateStrategy": "MERGE"}, "updateStrategy"),
    "missing compression": ({"compressionFormat": None}, "compressionFormat"),
    "bad country": ({"countryCode": "usa"}, "countryCode"),
    "multi-char quote": (
        {"fileFormat": {"csvDataFormat": {"quoteCharacter": "''"}}},
        "single character",
    ),
    "empty delimiter": (
        {"fileFormat": {"csvDataFormat": {"fieldDelimiter": ""}}},
        "must not be empty",
    ),
    "numeric delimiter": ({"fileFormat": {"csvDataFormat": {"fieldDelimiter": 9}}}, "string"),
    "same field and record delimiter": (
        {"fileFormat": {"csvDataFormat": {"fieldDelimiter": "\n"}}},
        "must differ",
    ),
}


@pytest.mark.parametrize("case", sorted(REJECTED_BODIES))
def test_invalid_upload_requests_get_a_clear_400(api, s3_bucket, case):
    api.create_dataset(crm_dataset())
    change, expected = REJECTED_BODIES[case]
    body = {**upload_body(s3_bucket, key="a.csv"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    resp = api.upload("crm_customers", body)
    assert resp.status_code == 400, case
    text = " ".join([resp.json()["details"], *resp.json()["errors"]])
    assert expected in text, text


def test_upload_to_unknown_dataset_is_404(api, s3_bucket):
    assert api.upload("nosuch", upload_body(s3_bucket, key="a.csv")).status_code == 404


def _purchase(i: int, day: str, hour: int = 10) -> dict:
    return {
        "email": sha(f"p{i}@x.com"),
        "order_id": f"{day}-{i}",
        "amount": "1.00",
        "quantity": "1",
        "purchased_at": f"{day}T{hour:02d}:00:00Z",
    }


def _ingest(api, s3, bucket, key, rows, strategy, data_set_id="crm_purchases"):
    put(s3, bucket, key, csv_bytes(rows))
    upload = api.upload_and_wait(data_set_id, upload_body(bucket, key=key, strategy=strategy))
    assert upload["status"] == "SUCCESS", upload.get("message")
    return upload


def _orders(api, data_set_id="crm_purchases"):
    return sorted(r["order_id"] for r in api.stored_rows(data_set_id))


def test_update_strategies_on_a_daily_fact_dataset(api, s3_client, s3_bucket):
    api.create_dataset(purchases_dataset())
    first = [_purchase(1, "2024-05-01"), _purchase(2, "2024-05-02")]
    _ingest(api, s3_client, s3_bucket, "u1.csv", first, "ADDITIVE")
    assert _orders(api) == ["2024-05-01-1", "2024-05-02-2"]

    # ADDITIVE accumulates, even inside existing partitions
    _ingest(api, s3_client, s3_bucket, "u2.csv", [_purchase(3, "2024-05-02")], "ADDITIVE")
    assert _orders(api) == ["2024-05-01-1", "2024-05-02-2", "2024-05-02-3"]

    # OVERLAP_REPLACE wipes the touched day (05-02), keeps 05-01, adds the new day 05-03
    replace = [_purchase(4, "2024-05-02"), _purchase(5, "2024-05-03")]
    up = _ingest(api, s3_client, s3_bucket, "u3.csv", replace, "OVERLAP_REPLACE")
    assert up["metrics"]["OutputRowCount"] == 2
    assert _orders(api) == ["2024-05-01-1", "2024-05-02-4", "2024-05-03-5"]

    # OVERLAP_KEEP ignores rows for days that already hold data, adds new days
    keep = [_purchase(6, "2024-05-03"), _purchase(7, "2024-05-04")]
    up = _ingest(api, s3_client, s3_bucket, "u4.csv", keep, "OVERLAP_KEEP")
    assert up["metrics"]["OutputRowCount"] == 1
    assert _orders(api) == ["2024-05-01-1", "2024-05-02-4", "2024-05-03-5", "2024-05-04-7"]

    # FULL_REPLACE drops everything stored before
    _ingest(api, s3_client, s3_bucket, "u5.csv", [_purchase(8, "2024-06-01")], "FULL_REPLACE")
    assert _orders(api) == ["2024-06-01-8"]


def test_overlap_partitions_follow_the_period(api, s3_client, s3_bucket):
    api.create_dataset(purchases_dataset("hourly", period="PT1H"))
    api.create_dataset(purchases_dataset("monthly", period="P1M"))
    base = [_purchase(1, "2024-05-01", 10), _purchase(2, "2024-05-01", 11)]
    update = [_purchase(3, "2024-05-20", 10)]
    for ds in ("hourly", "monthly"):
        _ingest(api, s3_client, s3_bucket, f"{ds}-1.csv", base, "ADDITIVE", ds)
        _ingest(api, s3_client, s3_bucket, f"{ds}-2.csv", update, "OVERLAP_REPLACE", ds)
    # hourly: 05-20T10 is a new hour, nothing replaced; monthly: all of May is replaced
    assert _orders(api, "hourly") == ["2024-05-01-1", "2024-05-01-2", "2024-05-20-3"]
    assert _orders(api, "monthly") == ["2024-05-20-3"]


def test_dimension_strategies(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    _ingest(api, s3_client, s3_bucket, "d1.csv", customer_rows(3), "FULL_REPLACE", "crm_customers")
    _ingest(api, s3_client, s3_bucket, "d2.csv", customer_rows(2, 3), "ADDITIVE", "crm_customers")
    assert len(api.stored_rows("crm_customers")) == 5
    _ingest(
        api, s3_client, s3_bucket, "d3.csv", customer_rows(1, 9), "FULL_REPLACE", "crm_customers"
    )
    assert len(api.stored_rows("crm_customers")) == 1


def test_list_uploads_filters_and_pagination(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset("ds_a"))
    api.create_dataset(crm_dataset("ds_b"))
    put(s3_client, s3_bucket, "ok.csv", csv_bytes(customer_rows(2)))
    ids = []
    for ds, key in [
        ("ds_a", "ok.csv"),
        ("ds_a", "missing.csv"),
        ("ds_b", "ok.csv"),
        ("ds_a", "ok.csv"),
    ]:
        upload = api.upload_and_wait(ds, upload_body(s3_bucket, key=key))
        ids.append(upload["uploadId"])
    path = f"{api.adu}/uploads/list"
    everything = api.call("POST", path).json()["uploads"]
    assert [u["uploadId"] for u in everything] == ids
    only_a = api.call("POST", path, params={"dataSetId": "ds_a"}).json()["uploads"]
    assert [u["uploadId"] for u in only_a] == [ids[0], ids[1], ids[3]]
    failed = api.call("POST", path, params={"status": "FAILED"}).json()["uploads"]
    assert [u["uploadId"] for u in failed] == [ids[1]]
    paged, token = [], None
    while True:
        params = {"dataSetId": "ds_a", "maxResults": 1, **({"nextToken": token} if token else {})}
        body = api.call("POST", path, params=params).json()
        paged += [u["uploadId"] for u in body["uploads"]]
        token = body.get("nextToken")
        if not token:
            break
    assert paged == [ids[0], ids[1], ids[3]]
    created = everything[0]["createdAt"]
    newer = api.call("POST", path, params={"createdAt": created, "createdAtComparator": "GTE"})
    assert len(newer.json()["uploads"]) == 4
    assert api.call("POST", path, params={"status": "DONE"}).status_code == 400
    assert api.call("POST", path, params={"createdAt": created}).status_code == 400


def test_internal_errors_are_logged_by_type_and_place_never_by_message():
    from adu_pipeline.emulator.models.jobs import where_failed

    try:
        int("jane.doe@example.com")  # a converter's message quotes the value it read
    except ValueError as exc:
        logged = where_failed(exc)
    assert logged.startswith("ValueError at test_uploads.py:")
    assert "jane" not in logged
