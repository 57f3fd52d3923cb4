"""find_or_create_upload reuses an upload only when it is what AMC holds now for the body's scope
(the newest upload that did not fail, same partition folder, or the dataset for FULL_REPLACE)
and carries the same manifest. Real emulator over HTTP, real moto S3."""

from __future__ import annotations

import pytest

from adu_pipeline.amc import AmcClient, AmcServerError, RetryPolicy, Timeouts, upload_request
from adu_pipeline.amc.client import upload_scope
from adu_pipeline.dataset import load_definition
from adu_pipeline_tests.amc.conftest import WAIT, config_for, crm_csv_gz
from adu_pipeline_tests.amc.test_datasets import CRM_DEFINITION


@pytest.fixture
def crm(client) -> str:
    client.ensure_dataset(load_definition(CRM_DEFINITION).create_body())
    return "crm_customers"


def put(s3_client, bucket: str, key: str, rows: int) -> None:
    s3_client.put_object(Bucket=bucket, Key=key, Body=crm_csv_gz(rows))


def body(bucket: str, key: str, strategy: str = "OVERLAP_REPLACE") -> dict:
    return upload_request(bucket, key=key, update_strategy=strategy)


def test_a_then_b_then_a_for_one_partition_starts_a_again(client, crm, s3_client, s3_bucket):
    put(s3_client, s3_bucket, "d=1/a.csv.gz", 3)
    put(s3_client, s3_bucket, "d=1/b.csv.gz", 2)
    first = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    second = client.find_or_create_upload(crm, body(s3_bucket, "d=1/b.csv.gz"))
    again = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    assert first.created and second.created
    assert again.created, again.reason
    assert again.upload.upload_id not in (first.upload.upload_id, second.upload.upload_id)
    assert "carries other content" in again.reason and second.upload.upload_id in again.reason
    repeat = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    assert not repeat.created and repeat.upload.upload_id == again.upload.upload_id
    assert repeat.reason.startswith("reused")


def test_an_upload_of_another_partition_does_not_hide_this_ones(client, crm, s3_client, s3_bucket):
    put(s3_client, s3_bucket, "d=1/a.csv.gz", 3)
    put(s3_client, s3_bucket, "d=2/b.csv.gz", 2)
    a = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    client.find_or_create_upload(crm, body(s3_bucket, "d=2/b.csv.gz"))
    again = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    assert not again.created and again.upload.upload_id == a.upload.upload_id


def test_a_failed_newer_upload_leaves_the_older_content_in_place(
    client, waiter, crm, s3_client, s3_bucket
):
    put(s3_client, s3_bucket, "d=1/a.csv.gz", 3)
    a = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    missing = client.find_or_create_upload(crm, body(s3_bucket, "d=1/missing.csv.gz"))
    assert missing.created
    assert waiter.wait_for_upload(crm, missing.upload.upload_id, **WAIT).status.is_failure
    again = client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    assert not again.created and again.upload.upload_id == a.upload.upload_id
    retry = client.find_or_create_upload(crm, body(s3_bucket, "d=1/missing.csv.gz"))
    assert retry.created and f"upload {missing.upload.upload_id} of this content FAILED" in (
        retry.reason
    )
    assert f"{a.upload.upload_id} (SUCCESS), carries other content" in retry.reason


def test_full_replace_scope_is_the_whole_dataset(client, crm, s3_client, s3_bucket):
    put(s3_client, s3_bucket, "full/a/list.csv.gz", 3)
    put(s3_client, s3_bucket, "other/b/list.csv.gz", 2)
    a = body(s3_bucket, "full/a/list.csv.gz", "FULL_REPLACE")
    b = body(s3_bucket, "other/b/list.csv.gz", "FULL_REPLACE")
    assert upload_scope(a) is None
    first = client.find_or_create_upload(crm, a)
    client.find_or_create_upload(crm, b)
    again = client.find_or_create_upload(crm, a)
    assert again.created and again.upload.upload_id != first.upload.upload_id
    assert "the dataset (FULL_REPLACE)" in again.reason


def test_an_ambiguous_create_never_passes_off_an_older_upload_as_new(
    client, crm, s3_client, s3_bucket, hooks
):
    put(s3_client, s3_bucket, "d=1/a.csv.gz", 3)
    put(s3_client, s3_bucket, "d=1/b.csv.gz", 2)
    client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    client.find_or_create_upload(crm, body(s3_bucket, "d=1/b.csv.gz"))
    hooks.fail(f"/uploads/{crm}", 503, count=10, method="POST")
    with pytest.raises(AmcServerError):
        client.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
    assert len(client.list_uploads(dataset_id=crm)) == 2


def test_scope_of_each_source_kind():
    manifest = upload_request("b", manifest_key="p/d=1/m.txt", update_strategy="OVERLAP_REPLACE")
    assert upload_scope(manifest) == "s3://b/p/d=1/"
    assert upload_scope(upload_request("b", key="top.csv", update_strategy="ADDITIVE")) == "s3://b/"
    assert upload_scope(upload_request("b", prefix="p/x", update_strategy="OVERLAP_KEEP")) == (
        "s3://b/p/x/"
    )


def test_a_create_whose_reply_is_lost_returns_the_new_upload_not_an_older_one(
    emu, crm, lagging_proxy, fake_time, s3_client, s3_bucket
):
    """AMC creates the upload, its reply never comes: the listing finds the one just created,
    never A's older upload of the same source."""
    put(s3_client, s3_bucket, "d=1/a.csv.gz", 3)
    put(s3_client, s3_bucket, "d=1/b.csv.gz", 2)
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, budget_seconds=30)
    config = config_for(emu, base_url=lagging_proxy.url, timeouts=Timeouts(read=0.3))
    with AmcClient(config, retry=policy, sleep=fake_time.sleep, clock=fake_time.clock) as c:
        older = c.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
        c.find_or_create_upload(crm, body(s3_bucket, "d=1/b.csv.gz"))
        lagging_proxy.delay_reply(
            "POST", f"/amc/advertiserData/{emu.instance_id}/uploads/{crm}", 1.0
        )
        again = c.find_or_create_upload(crm, body(s3_bucket, "d=1/a.csv.gz"))
        uploads = c.list_uploads(dataset_id=crm)
    assert again.created and again.upload.upload_id != older.upload.upload_id
    assert len(uploads) == 3 and again.upload.upload_id in {u.upload_id for u in uploads}
