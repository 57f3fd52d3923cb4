"""Rule-based audiences: the SQL really runs over the matched rows (DuckDB)."""

from __future__ import annotations

import pytest

from adu_pipeline.emulator.config import Account, EmulatorConfig, Instance
from adu_pipeline_tests.emulator.conftest import (
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    purchases_dataset,
    sha,
    start_with,
    upload_body,
)

V11 = "application/vnd.amcquerybasedaudience.v1.1+json"
WINDOW = {"timeWindowStart": "2024-01-01T00:00:00Z", "timeWindowEnd": "2024-12-31T23:59:59Z"}


def audience(api, name: str, query: str, **extra) -> dict:
    return {
        "advertiserId": api.emulator.advertiser_id,
        "audienceName": name,
        "query": query,
        **WINDOW,
        **extra,
    }


@pytest.fixture
def loaded(api, s3_client, s3_bucket):
    """3,500 CRM rows uploaded and matched into `crm_customers`."""
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(3500)))
    upload = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="crm.csv"))
    assert upload["status"] == "SUCCESS", upload.get("message")
    return api


def _distinct_users(api, keep=lambda row: True) -> int:
    return len({r["user_id"] for r in api.stored_rows("crm_customers") if r["user_id"] and keep(r)})


def test_audience_succeeds_with_count_and_dsp_ids(loaded):
    api = loaded
    created = api.create_audience(audience(api, "All matched", "SELECT user_id FROM crm_customers"))
    assert created.status_code == 200
    assert created.json()["status"] == "PENDING"
    assert created.json()["audienceExecutionDescription"]
    result = api.wait_audience(created.json()["audienceExecutionId"])
    assert result["status"] == "SUCCEEDED", result.get("statusReason")
    assert result["audienceCount"] == _distinct_users(api) > 2000
    assert result["dspAudienceId"].isdigit() and result["dspCanonicalId"]
    assert result["audienceName"] == "All matched"
    assert result["instanceId"] == api.instance
    assert result["createTime"].endswith("Z") and result["lastRefreshedTime"].endswith("Z")
    assert result["refreshRateDays"] == 21 and result["timeWindowRelative"] is False


def test_fewer_than_2000_users_fails(loaded):
    api = loaded
    query = "SELECT user_id FROM crm_customers WHERE loyalty_tier = 'gold'"
    created = api.create_audience(audience(api, "Gold", query))
    result = api.wait_audience(created.json()["audienceExecutionId"])
    assert result["status"] == "FAILED"
    gold = _distinct_users(api, lambda r: r["loyalty_tier"] == "gold")
    assert gold < 2000
    assert f"has {gold} matched user_ids" in result["statusReason"]
    assert "dspAudienceId" not in result


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (
            "SELECT user_id FROM crm_customers JOIN nosuch USING (user_id)",
            "Invalid tables in the SQL query: nosuch",
        ),
        ("SELEC user_id FROM crm_customers", "Invalid SQL query"),
        ("SELECT loyalty_tier FROM crm_customers", "must select the user_id column"),
        ("SELECT user_id FROM read_csv('/etc/passwd')", "Invalid SQL query"),
        (  # DuckDB's message would quote the value ('silver'); the reason names only the kind
            "SELECT user_id FROM crm_customers WHERE CAST(loyalty_tier AS INTEGER) > 0",
            "failed on the data (ConversionException)",
        ),
    ],
)
def test_invalid_queries_fail_with_a_reason(loaded, query, reason):
    api = loaded
    created = api.create_audience(audience(api, "Broken", query))
    result = api.wait_audience(created.json()["audienceExecutionId"])
    assert result["status"] == "FAILED"
    assert reason in result["statusReason"]
    assert "gold" not in result["statusReason"] and "silver" not in result["statusReason"]


def test_repeated_create_makes_a_second_audience_and_list_pages(loaded):
    api = loaded
    body = audience(api, "Same", "SELECT user_id FROM crm_customers")
    ids = [api.create_audience(body).json()["audienceExecutionId"] for _ in range(2)]
    assert ids[0] != ids[1]
    for audience_id in ids:
        api.wait_audience(audience_id)
    listed = api.call("GET", "/amc/audiences/query").json()["executionMetadata"]
    assert [a["audienceExecutionId"] for a in listed] == ids
    assert all(a["status"] == "SUCCEEDED" and a["audienceCount"] > 0 for a in listed)
    first = api.call("GET", "/amc/audiences/query", params={"maxResults": 1}).json()
    assert [a["audienceExecutionId"] for a in first["executionMetadata"]] == ids[:1]
    second = api.call(
        "GET", "/amc/audiences/query", params={"maxResults": 1, "nextToken": first["nextToken"]}
    ).json()
    assert [a["audienceExecutionId"] for a in second["executionMetadata"]] == ids[1:]
    assert "nextToken" not in second


def test_update_only_when_failed_then_rerun(loaded):
    api = loaded
    failed_id = api.create_audience(audience(api, "Fixable", "SELECT user_id FROM nosuch")).json()[
        "audienceExecutionId"
    ]
    assert api.wait_audience(failed_id)["status"] == "FAILED"
    fixed = {
        **audience(api, "Fixable", "SELECT user_id FROM crm_customers"),
        "audienceType": "RULE_BASED",
    }
    renamed = api.call(
        "PUT", f"/amc/audiences/query/{failed_id}", body={**fixed, "audienceName": "Other"}
    )
    assert renamed.status_code == 400
    updated = api.call("PUT", f"/amc/audiences/query/{failed_id}", body=fixed)
    assert updated.status_code == 200
    assert updated.json()["status"] == "PENDING"
    rerun = api.wait_audience(failed_id)
    assert rerun["status"] == "SUCCEEDED" and "statusReason" not in rerun
    again = api.call("PUT", f"/amc/audiences/query/{failed_id}", body=fixed)
    assert again.status_code == 400  # SUCCEEDED audiences cannot be edited


def test_delete_and_media_types(loaded):
    api = loaded
    audience_id = api.create_audience(
        audience(api, "To delete", "SELECT user_id FROM crm_customers")
    ).json()["audienceExecutionId"]
    api.wait_audience(audience_id)
    v11 = api.call(
        "GET",
        f"/amc/audiences/query/{audience_id}",
        headers={**api.headers(audience=True), "Accept": V11},
    )
    assert v11.headers["content-type"] == V11
    assert v11.json()["audienceCount"] > 0
    deleted = api.call("DELETE", f"/amc/audiences/query/{audience_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.call("GET", f"/amc/audiences/query/{audience_id}").status_code == 404


def test_pending_audience_cannot_be_deleted(emulator_factory):
    server = emulator_factory.start(step_seconds=30)
    api = Api(server)
    audience_id = api.create_audience(audience(api, "Slow", "SELECT user_id FROM x")).json()[
        "audienceExecutionId"
    ]
    resp = api.call("DELETE", f"/amc/audiences/query/{audience_id}")
    assert resp.status_code == 400
    assert api.get_audience(audience_id)["status"] == "PENDING"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"query": None, "workflowId": "wf1"}, 400),  # no such saved workflow
        ({"workflowId": "wf1"}, 400),  # query and workflowId: the spec's oneOf
        ({"timeWindowStart": "2024-01-01"}, 400),  # date-time format, not a date
        ({"timeWindowEnd": "2024-12-31T25:00:00Z"}, 400),
        ({"timeWindowRelative": "TRUE"}, 400),  # the guide's string; the spec says boolean
        ({"timeWindowStart": "2025-01-01T00:00:00Z"}, 400),  # after the end
        ({"timeWindowStart": "yesterday"}, 400),
        ({"refreshRateDays": 30}, 400),
        ({"countryCode": "GB"}, 400),  # the audience API spells it UK
        ({"audienceName": None}, 400),
    ],
)
def test_invalid_create_bodies(api, change, status):
    body = {**audience(api, "Bad", "SELECT user_id FROM crm_customers"), **change}
    resp = api.create_audience({k: v for k, v in body.items() if v is not None})
    assert resp.status_code == status
    assert set(resp.json()) == {"code", "details", "requestId"}


def test_audience_by_workflow_id_runs_the_saved_workflow(emulator_factory, s3_client, s3_bucket):
    instance = Instance(workflows=(("wf_loyal", "SELECT user_id FROM crm_customers"),))
    config = EmulatorConfig(accounts=(Account(instances=(instance,)),), audience_min_users=1)
    api = Api(start_with(emulator_factory, config))
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="c.csv", Body=csv_bytes(customer_rows(300)))
    assert api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="c.csv"))["status"] == (
        "SUCCESS"
    )
    body = audience(api, "By workflow", "unused", workflowId="wf_loyal")
    del body["query"]
    created = api.create_audience(body)
    assert created.status_code == 200, created.text
    done = api.wait_audience(created.json()["audienceExecutionId"])
    assert done["status"] == "SUCCEEDED", done.get("statusReason")
    assert done["workflowId"] == "wf_loyal"
    assert done["query"] == "SELECT user_id FROM crm_customers"
    assert done["audienceCount"] > 200


def test_time_window_applies_to_the_main_event_time(emulator_factory, s3_client, s3_bucket):
    server = start_with(emulator_factory, EmulatorConfig(audience_min_users=1))
    api = Api(server)
    api.create_dataset(purchases_dataset())
    rows = [
        {
            "email": sha(f"buyer{i}@x.com"),
            "order_id": str(i),
            "amount": "5.00",
            "quantity": "1",
            "purchased_at": f"2024-03-{1 + i % 20:02d}T12:00:00Z",
        }
        for i in range(400)
    ]
    s3_client.put_object(Bucket=s3_bucket, Key="p.csv", Body=csv_bytes(rows))
    upload = api.upload_and_wait("crm_purchases", upload_body(s3_bucket, key="p.csv"))
    assert upload["status"] == "SUCCESS", upload.get("message")
    stored = api.stored_rows("crm_purchases")
    in_window = {
        r["user_id"]
        for r in stored
        if r["user_id"] and "2024-03-05" <= r["purchased_at"][:10] <= "2024-03-09"
    }
    body = audience(
        api,
        "March week",
        "SELECT user_id FROM crm_purchases",
        timeWindowStart="2024-03-05T00:00:00Z",
        timeWindowEnd="2024-03-09T23:59:59Z",
    )
    result = api.wait_audience(api.create_audience(body).json()["audienceExecutionId"])
    assert result["status"] == "SUCCEEDED", result.get("statusReason")
    assert result["audienceCount"] == len(in_window) > 0
    everyone = {r["user_id"] for r in stored if r["user_id"]}
    assert len(in_window) < len(everyone)
