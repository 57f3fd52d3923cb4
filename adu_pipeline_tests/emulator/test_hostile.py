"""Hostile on demand: token-bucket 429s with Retry-After, injected faults before and after the
write commits, jobs forced to FAILED, the bucket tag / policy check, and the stats counters."""

from __future__ import annotations

import json

import httpx
import pytest

from adu_pipeline.amc import AmcClient, AmcConfig
from adu_pipeline.emulator.config import (
    DEFAULT_RATE_LIMITS,
    EmulatorConfig,
    Hostile,
    RateLimit,
)
from adu_pipeline.emulator.models.hostile import FAULT_STATUSES
from adu_pipeline_tests.emulator.conftest import (
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    start_with,
    upload_body,
)

ADU_ERROR = {"code", "details", "errors", "requestId"}


def hostile(emulator_factory, **options):
    server = start_with(emulator_factory, EmulatorConfig(hostile=Hostile(**options)))
    return server, Api(server)


def stats(server) -> dict:
    resp = httpx.get(f"{server.url}/_emulator/stats")
    assert resp.status_code == 200
    return resp.json()


def test_everything_is_off_by_default(emulator):
    api = Api(emulator)
    for _ in range(30):
        assert api.call("POST", f"{api.adu}/dataSets/list").status_code == 200
    counters = stats(emulator)
    assert counters["requests"] == 30
    assert counters["throttled"] == counters["faultsInjected"] == 0


def test_documented_rate_limits():
    limits = dict(DEFAULT_RATE_LIMITS)
    assert limits["audience.create"] == RateLimit(5, 5)
    assert limits["audience.list"] == limits["audience.get"] == RateLimit(5, 10)
    assert Hostile().limit_for("adu.dataset.list") == limits["default"]


def test_a_route_bucket_answers_429_with_retry_after(emulator_factory):
    slow = (("adu.dataset.list", RateLimit(0.01, 3)), ("default", RateLimit(100, 100)))
    server, api = hostile(emulator_factory, rate_limits=True, limits=slow)
    answers = [api.call("POST", f"{api.adu}/dataSets/list") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    throttled = answers[3]
    assert set(throttled.json()) == ADU_ERROR
    assert throttled.json()["details"] == "Rate exceeded."
    assert int(throttled.headers["Retry-After"]) >= 60  # one token per 100 s
    # another route has its own bucket; the emulator's own endpoints are never throttled
    assert api.call("POST", f"{api.adu}/uploads/list").status_code == 200
    assert stats(server)["throttled"] == 2


def test_the_client_waits_retry_after_and_gets_through(emulator_factory):
    limits = (("default", RateLimit(2, 1)),)
    server, _ = hostile(emulator_factory, rate_limits=True, limits=limits)
    config = AmcConfig(
        client_id=server.client_id,
        client_secret=server.client_secret,
        refresh_token=server.refresh_token,
        base_url=server.url,
        token_url=f"{server.url}/auth/o2/token",
        advertiser_id=server.account_id,
        marketplace_id=server.marketplace_id,
        instance_id=server.instance_id,
    )
    with AmcClient(config) as client:
        for _ in range(4):
            assert client.list_datasets() == []
    assert stats(server)["throttled"] >= 1


def test_injected_faults_do_nothing_and_are_counted(emulator_factory):
    server, api = hostile(emulator_factory, fault_share=1.0, seed=7)
    seen = set()
    for i in range(25):
        # 502 and 503 come from Amazon's gateway: the spec does not declare them
        body = {"dataSet": crm_dataset(f"ds_{i}")}
        resp = api.call("POST", f"{api.adu}/dataSets", body=body, validate=False)
        assert resp.status_code in FAULT_STATUSES
        assert set(resp.json()) == ADU_ERROR
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "1"
        seen.add(resp.status_code)
    assert len(seen) >= 3
    assert server.app.store.list_datasets(server.instance_id) == []
    counters = stats(server)
    assert counters["faultsInjected"] == counters["requests"] == 25
    assert sum(counters["faultsByStatus"].values()) == 25


def test_a_share_of_faults_is_repeatable_with_a_seed(emulator_factory):
    def run() -> list[int]:
        server, api = hostile(emulator_factory, fault_share=0.3, seed=42)
        path = f"{api.adu}/dataSets/list"
        codes = [api.call("POST", path, validate=False).status_code for _ in range(60)]
        assert stats(server)["faultsInjected"] == sum(c != 200 for c in codes)
        server.stop()
        return codes

    first = run()
    assert 0 < sum(c != 200 for c in first) < 60
    assert run() == first


def test_faults_after_commit_keep_the_write(emulator_factory):
    server, api = hostile(emulator_factory, fault_after_commit_share=1.0, seed=1)
    resp = api.create_dataset(crm_dataset())
    assert resp.status_code in (500, 504)
    assert set(resp.json()) == ADU_ERROR
    assert "after the request was processed" in resp.json()["details"]
    assert api.call("GET", f"{api.adu}/dataSets/crm_customers").status_code == 200  # reads pass
    assert api.call("POST", f"{api.adu}/dataSets/list").status_code == 200  # a POST read too
    again = api.create_dataset(crm_dataset())  # the client's retry sees the first one landed
    assert again.status_code == 400 and "already exists" in again.json()["details"]
    counters = stats(server)
    assert counters["faultsAfterCommit"] == 1 and counters["faultsInjected"] == 0


def test_shares_of_uploads_and_audiences_end_failed(emulator_factory, s3_client, s3_bucket):
    server, api = hostile(emulator_factory, upload_failure_share=1.0, audience_failure_share=1.0)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="a.csv", Body=csv_bytes(customer_rows(5)))
    upload = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="a.csv"))
    assert upload["status"] == "FAILED"
    assert upload["message"].startswith("Injected failure")
    assert upload["metrics"] == {}
    audience = {
        "advertiserId": server.advertiser_id,
        "audienceName": "x",
        "query": "SELECT user_id FROM crm_customers",
        "timeWindowStart": "2024-01-01T00:00:00Z",
        "timeWindowEnd": "2024-02-01T00:00:00Z",
    }
    audience_id = api.create_audience(audience).json()["audienceExecutionId"]
    done = api.wait_audience(audience_id)
    assert done["status"] == "FAILED" and done["statusReason"].startswith("Injected failure")
    counters = stats(server)
    assert counters["uploadsForcedFailed"] == counters["audiencesForcedFailed"] == 1


def _policy(bucket: str, account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowDataUploadFromAmc",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketTagging"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def test_instance_tag_is_required_on_bucket_or_object(emulator_factory, s3_client, s3_bucket):
    server, api = hostile(emulator_factory, require_instance_tag=True)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="a.csv", Body=csv_bytes(customer_rows(5)))
    body = upload_body(s3_bucket, key="a.csv")
    refused = api.upload_and_wait("crm_customers", body)
    assert refused["status"] == "FAILED"
    assert "tagged instanceId" in refused["message"]
    tag = {"TagSet": [{"Key": "instanceId", "Value": f"other1 {server.instance_id}"}]}
    s3_client.put_object_tagging(Bucket=s3_bucket, Key="a.csv", Tagging=tag)
    assert api.upload_and_wait("crm_customers", body)["status"] == "SUCCESS"
    s3_client.put_object(Bucket=s3_bucket, Key="b.csv", Body=csv_bytes(customer_rows(5)))
    untagged = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="b.csv"))
    assert untagged["status"] == "FAILED"
    s3_client.put_bucket_tagging(Bucket=s3_bucket, Tagging=tag)
    tagged = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="b.csv"))
    assert tagged["status"] == "SUCCESS", tagged.get("message")


def test_bucket_policy_must_let_amc_read(emulator_factory, s3_client, s3_bucket):
    server, api = hostile(emulator_factory, require_bucket_policy=True)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="a.csv", Body=csv_bytes(customer_rows(5)))
    body = upload_body(s3_bucket, key="a.csv")
    refused = api.upload_and_wait("crm_customers", body)
    assert refused["status"] == "FAILED" and "bucket policy" in refused["message"]
    s3_client.put_bucket_policy(Bucket=s3_bucket, Policy=_policy(s3_bucket, "999988887777"))
    assert api.upload_and_wait("crm_customers", body)["status"] == "FAILED"  # another account
    account = server.data_upload_aws_account_id
    s3_client.put_bucket_policy(Bucket=s3_bucket, Policy=_policy(s3_bucket, account))
    upload = api.upload_and_wait("crm_customers", body)
    assert upload["status"] == "SUCCESS", upload.get("message")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fault_share": 1.5}, "fault_share"),
        ({"upload_failure_share": -0.1}, "upload_failure_share"),
        ({"latency_seconds": -1}, "latency_seconds"),
        ({"limits": (("default", RateLimit(0, 1)),)}, "rate limit default"),
    ],
)
def test_bad_hostile_options_are_one_line_errors(options, message):
    with pytest.raises(ValueError, match=message):
        Hostile(**options)
