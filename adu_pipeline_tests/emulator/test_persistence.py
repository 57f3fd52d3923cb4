"""A restarted emulator on the same state dir loses nothing and resumes unfinished jobs."""

from __future__ import annotations

import socket
import time

import pytest

from adu_pipeline.errors import InputError
from adu_pipeline_tests.emulator.conftest import (
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    upload_body,
)


def test_restart_keeps_everything(emulator_factory, s3_client, s3_bucket):
    first = emulator_factory.start()
    api = Api(first)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(2600)))
    upload = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="crm.csv"))
    assert upload["status"] == "SUCCESS", upload.get("message")
    body = {
        "advertiserId": first.advertiser_id,
        "audienceName": "Everyone",
        "query": "SELECT user_id FROM crm_customers",
        "timeWindowStart": "2024-01-01T00:00:00Z",
        "timeWindowEnd": "2024-01-31T00:00:00Z",
    }
    audience_id = api.create_audience(body).json()["audienceExecutionId"]
    audience = api.wait_audience(audience_id)
    assert audience["status"] == "SUCCEEDED", audience.get("statusReason")
    rows_before = api.stored_rows("crm_customers")
    token = api.token
    first.stop()

    second = emulator_factory.start(state_dir=first.state_dir, port=first.port)
    assert second.url == first.url
    again = Api(second, token=token)  # the token issued before the restart still works
    dataset = again.call("GET", f"{again.adu}/dataSets/crm_customers")
    assert dataset.status_code == 200
    assert again.get_upload("crm_customers", upload["uploadId"]) == upload
    assert again.get_audience(audience_id) == audience
    assert again.stored_rows("crm_customers") == rows_before


def test_pending_upload_and_audience_resume_after_restart(emulator_factory, s3_client, s3_bucket):
    slow = emulator_factory.start(step_seconds=3600)  # nothing advances while this one runs
    api = Api(slow)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(10)))
    upload_id = api.upload("crm_customers", upload_body(s3_bucket, key="crm.csv")).json()[
        "uploadId"
    ]
    body = {
        "advertiserId": slow.advertiser_id,
        "audienceName": "Later",
        "query": "SELECT user_id FROM crm_customers",
        "timeWindowStart": "2024-01-01T00:00:00Z",
        "timeWindowEnd": "2024-01-31T00:00:00Z",
    }
    audience_id = api.create_audience(body).json()["audienceExecutionId"]
    assert api.get_upload("crm_customers", upload_id)["status"] == "SUBMITTED"
    slow.stop()

    # restart two hours later (a shifted clock): the jobs were due an hour after creation
    later = emulator_factory.start(state_dir=slow.state_dir, clock=lambda: time.time() + 7200)
    again = Api(later)  # the old token expired meanwhile (tokens live 3600 s)
    stale = {**again.headers(), "Authorization": f"Bearer {api.token}"}
    expired = again.call("POST", f"{again.adu}/dataSets/list", headers=stale)
    assert expired.status_code == 401
    assert "expired" in expired.json()["details"]
    upload = again.wait_upload("crm_customers", upload_id)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"] == {"OutputRowCount": 10}
    audience = again.wait_audience(audience_id)
    assert audience["status"] == "FAILED"  # 10 rows are far below 2,000 users
    assert "at least 2,000" in audience["statusReason"]


def test_second_emulator_on_the_same_state_refuses_to_start(emulator_factory):
    """Two servers on one SQLite state would run each other's jobs: the second one says so."""
    first = emulator_factory.start()
    with pytest.raises(InputError, match="already using the state folder") as caught:
        emulator_factory.start(state_dir=first.state_dir)
    assert "\n" not in str(caught.value)
    assert Api(first).call("GET", "/amc/accounts").status_code == 200  # the first still serves
    first.stop()
    second = emulator_factory.start(state_dir=first.state_dir)  # free once the first stopped
    assert Api(second).call("GET", "/amc/accounts").status_code == 200


def test_stop_is_fast_with_idle_and_half_sent_connections(emulator_factory):
    server = emulator_factory.start()
    api = Api(server)
    assert api.call("POST", f"{api.adu}/dataSets/list").status_code == 200  # a used connection
    idle = socket.create_connection(("127.0.0.1", server.port))
    half = socket.create_connection(("127.0.0.1", server.port))
    half.sendall(b"GET /amc/accounts HTTP/1.1\r\nHost: x\r\n")  # never finished
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    for sock in (idle, half):
        sock.close()
    api.http.close()


def test_rows_staged_before_a_crash_are_dropped_when_the_upload_resumes(
    emulator_factory, s3_client, s3_bucket
):
    slow = emulator_factory.start(step_seconds=3600)
    api = Api(slow)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(10)))
    upload_id = api.upload("crm_customers", upload_body(s3_bucket, key="crm.csv")).json()[
        "uploadId"
    ]
    with slow.app.store.tx() as c:  # as a crash mid-ingest leaves it: IN_PROGRESS, rows staged
        c.execute(
            "UPDATE uploads SET status='IN_PROGRESS', next_at=0 WHERE upload_id=?", (upload_id,)
        )
        c.executemany(
            "INSERT INTO rows (instance_id, data_set_id, upload_id, partition, data)"
            " VALUES (?,?,?,?,?)",
            [(api.instance, "crm_customers", upload_id, "", '{"loyalty_tier": "stale"}')] * 7,
        )
    assert api.stored_rows("crm_customers") == []  # staged rows are not live
    slow.stop()

    resumed = emulator_factory.start(state_dir=slow.state_dir)
    again = Api(resumed)
    upload = again.wait_upload("crm_customers", upload_id)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"] == {"OutputRowCount": 10}
    stored = again.stored_rows("crm_customers")
    assert len(stored) == 10 and all(r["loyalty_tier"] != "stale" for r in stored)
    assert resumed.app.store.one("SELECT count(*) AS n FROM rows")["n"] == 10
