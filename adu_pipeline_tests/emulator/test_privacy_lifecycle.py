"""User deletion requests, the audience refresh lifecycle and reporting executions, over HTTP."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from adu_pipeline_tests.emulator.conftest import (
    crm_dataset,
    csv_bytes,
    customer_rows,
    sha,
    upload_body,
    wait_for,
)

DELETION_MEDIA = "application/vnd.amcadvertiseruserdeletionrequest.v1+json"
EXEC_MEDIA = "application/vnd.amcworkflowexecutions.v1+json"
WINDOW = {"timeWindowStart": "2024-01-01T00:00:00Z", "timeWindowEnd": "2024-12-31T23:59:59Z"}
DAY = 86400


@pytest.fixture
def loaded(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(3500)))
    upload = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="crm.csv"))
    assert upload["status"] == "SUCCESS", upload.get("message")
    return api


def _audience(api, **extra) -> dict:
    body = {
        "advertiserId": api.emulator.advertiser_id,
        "audienceName": "all",
        "query": "SELECT user_id FROM crm_customers",
        **WINDOW,
        **extra,
    }
    resp = api.create_audience(body)
    assert resp.status_code == 200, resp.text
    done = api.wait_audience(resp.json()["audienceExecutionId"])
    assert done["status"] == "SUCCEEDED", done.get("statusReason")
    return done


def _delete(api, identities: list[dict]) -> dict:
    path = f"{api.adu}/userDeletionRequest"
    resp = api.call("POST", path, body={"targetIdentities": identities}, media=DELETION_MEDIA)
    assert resp.status_code == 200, resp.text
    request_id = resp.json()["userDeletionRequestId"]
    return wait_for(
        lambda: api.call("GET", f"{path}/{request_id}").json()["identityDeletion"],
        lambda d: d["status"] == "SUCCEEDED",
        30,
    )


def _advance(api, seconds: float) -> None:
    resp = api.http.post("/_emulator/clock", json={"advanceSeconds": seconds})
    assert resp.status_code == 200, resp.text


def test_deletion_removes_rows_and_a_refreshed_audience_is_smaller(loaded):
    api = loaded
    before = _audience(api)
    by_email = [{"hashedIdentity": {"EMAIL": sha(f"person{i}@example.com")}} for i in range(500)]
    by_phone = [{"hashedIdentity": {"PHONE": sha(f"1555{i:07d}").upper()}} for i in range(500, 600)]
    done = _delete(api, by_email + by_phone)
    assert done["identityCount"] == 600 and done["creationDateTime"].endswith("Z")
    assert len(api.stored_rows("crm_customers")) == 3500 - 600
    assert api.http.get("/_emulator/stats").json()["deletedRows"] == 600
    expected = len({r["user_id"] for r in api.stored_rows("crm_customers") if r["user_id"]})
    _advance(api, 21 * DAY + 1)  # refreshRateDays 21: the refresh is due
    after = wait_for(
        lambda: api.get_audience(before["audienceExecutionId"]),
        lambda a: a["lastRefreshedTime"] != before["lastRefreshedTime"],
        30,
    )
    assert after["audienceCount"] == expected < before["audienceCount"]
    assert after["status"] == "SUCCEEDED"


def test_external_identity_deletion_and_listing(api, s3_client, s3_bucket):
    maid = "38400000-8CF0-11BD-B23E-10B96E40000D"
    dataset = {
        "dataSetId": "devices",
        "countryCode": "US",
        "columns": [
            {
                "name": "maid",
                "columnType": "DIMENSION",
                "dataType": "STRING",
                "externalUserIdType": {"externalIdentity": "MAID"},
            },
            {"name": "note", "columnType": "DIMENSION", "dataType": "STRING"},
        ],
    }
    assert api.create_dataset(dataset).status_code == 200
    rows = [{"maid": maid.lower(), "note": "a"}, {"maid": "other-id", "note": "b"}]
    s3_client.put_object(Bucket=s3_bucket, Key="d.csv", Body=csv_bytes(rows))
    assert (
        api.upload_and_wait("devices", upload_body(s3_bucket, key="d.csv"))["status"] == "SUCCESS"
    )
    done = _delete(api, [{"externalIdentity": {"type": "MAID", "value": maid}}])
    assert [r["note"] for r in api.stored_rows("devices")] == ["b"]
    listed = api.call("POST", f"{api.adu}/userDeletionRequest/list", params={"maxResults": 1})
    assert listed.status_code == 200
    assert (
        listed.json()["userDeletions"][0]["userDeletionRequestId"] == done["userDeletionRequestId"]
    )
    missing = api.call("GET", f"{api.adu}/userDeletionRequest/nope")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"targetIdentities": "x"},
        {"targetIdentities": [{"hashedIdentity": {"EMAIL": sha("a")}}] * 1001},
        {"targetIdentities": [{"externalIdentity": {"type": "NOPE", "value": "v"}}]},
        {"targetIdentities": [{"externalIdentity": {"type": "MAID", "value": " "}}]},
        {"targetIdentities": [{"hashedIdentity": {"EMAIL": "not-a-hash"}}]},
        {"targetIdentities": [{"hashedIdentity": {"SHOE_SIZE": sha("a")}}]},
        {"targetIdentities": [{"hashedIdentity": {}}]},
        {"targetIdentities": [{"hashedIdentity": {"EMAIL": 5}}]},
        {"targetIdentities": [{}]},
    ],
)
def test_invalid_deletion_bodies_are_400(api, body):
    resp = api.call("POST", f"{api.adu}/userDeletionRequest", body=body, media=DELETION_MEDIA)
    assert resp.status_code == 400, resp.text
    assert "not-a-hash" not in resp.text


def test_refresh_rate_zero_is_deactivated_after_30_days(loaded):
    api = loaded
    audience = _audience(api, refreshRateDays=0)
    _advance(api, 29 * DAY)
    assert api.get_audience(audience["audienceExecutionId"])["status"] == "SUCCEEDED"
    _advance(api, 2 * DAY)
    got = wait_for(
        lambda: api.get_audience(audience["audienceExecutionId"]),
        lambda a: a["status"] == "DEACTIVATED",
        30,
    )
    assert got["status"] == "DEACTIVATED" and "30 days" in got["statusReason"]
    assert got["lastRefreshedTime"] == audience["lastRefreshedTime"]


def test_unattached_audience_refresh_slows_and_line_item_keeps_it(loaded):
    api = loaded
    audience = _audience(api, refreshRateDays=1)
    audience_id = audience["audienceExecutionId"]
    # unattached: daily for 14 days, then every 2 days
    reply = api.http.post(f"/_emulator/audiences/{audience_id}/lineItem", json={"attached": False})
    assert reply.status_code == 200
    first = _ts(reply.json()["nextRefreshTime"]) - _ts(audience["lastRefreshedTime"])
    assert first == pytest.approx(DAY, abs=2)
    for _ in range(15):
        last = api.get_audience(audience_id)["lastRefreshedTime"]
        _advance(api, DAY + 1)
        wait_for(
            lambda: api.get_audience(audience_id),
            lambda a, last=last: a["lastRefreshedTime"] != last,
            30,
        )
    reply = api.http.post(f"/_emulator/audiences/{audience_id}/lineItem", json={"attached": False})
    last = api.get_audience(audience_id)["lastRefreshedTime"]
    assert _ts(reply.json()["nextRefreshTime"]) - _ts(last) == pytest.approx(2 * DAY, abs=2)
    reply = api.http.post(f"/_emulator/audiences/{audience_id}/lineItem", json={"attached": True})
    assert reply.json()["lineItemAttached"] is True
    assert _ts(reply.json()["nextRefreshTime"]) - _ts(last) == pytest.approx(DAY, abs=2)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/_emulator/clock", {"advanceSeconds": -1}),
        ("/_emulator/clock", {"advanceSeconds": "1"}),
        ("/_emulator/clock", {}),
        ("/_emulator/audiences/x/lineItem", {"attached": "yes"}),
    ],
)
def test_emulator_routes_reject_invalid_bodies(api, path, body):
    assert api.http.post(path, json=body).status_code == 400


def _execute(api, sql: str, **extra) -> httpx.Response:
    body = {"workflow": {"sqlQuery": sql}, **WINDOW, "timeWindowType": "EXPLICIT", **extra}
    path = f"/amc/reporting/{api.instance}/workflowExecutions"
    return api.call("POST", path, body=body, media=EXEC_MEDIA, validate=False)


def _finished(api, execution_id: str) -> dict:
    path = f"/amc/reporting/{api.instance}/workflowExecutions/{execution_id}"
    return wait_for(
        lambda: api.call("GET", path, validate=False).json(),
        lambda e: e["status"] in ("SUCCEEDED", "FAILED"),
        30,
    )


def test_reporting_execution_counts_users(loaded):
    api = loaded
    sql = "SELECT count(DISTINCT user_id) AS n FROM crm_customers WHERE loyalty_tier = 'gold'"
    created = _execute(api, sql)
    assert created.status_code == 200, created.text
    done = _finished(api, created.json()["workflowExecutionId"])
    assert done["status"] == "SUCCEEDED", done.get("statusReason")
    path = f"/amc/reporting/{api.instance}/workflowExecutions/{done['workflowExecutionId']}"
    urls = api.call("GET", path + "/downloadUrls", validate=False).json()["downloadUrls"]
    rows = list(csv.DictReader(io.StringIO(httpx.get(urls[0]).text)))
    gold = {
        r["user_id"]
        for r in api.stored_rows("crm_customers")
        if r["user_id"] and r["loyalty_tier"] == "gold"
    }
    assert int(rows[0]["n"]) == len(gold) > 0


def test_reporting_failures_and_invalid_bodies(loaded):
    api = loaded
    raw = _finished(
        api, _execute(api, "SELECT user_id FROM crm_customers").json()["workflowExecutionId"]
    )
    assert raw["status"] == "FAILED" and "user_id" in raw["statusReason"]
    unknown = _finished(
        api, _execute(api, "SELECT 1 AS n FROM nowhere").json()["workflowExecutionId"]
    )
    assert unknown["status"] == "FAILED" and "nowhere" in unknown["statusReason"]
    assert _execute(api, "SELECT 1", timeWindowType="RELATIVE").status_code == 400
    assert _execute(api, "SELECT 1", timeWindowStart="2024-01-01").status_code == 400
    path = f"/amc/reporting/{api.instance}/workflowExecutions"
    bad = api.call("POST", path, body={"workflow": []}, media=EXEC_MEDIA, validate=False)
    assert bad.status_code == 400
    assert api.call("GET", path + "/nope", validate=False).status_code == 404


def _ts(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
