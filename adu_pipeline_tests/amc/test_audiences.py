"""Rule-based audiences against the emulator: the SQL really runs over matched upload rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adu_pipeline.amc import (
    AmcAudienceConflict,
    AmcNotFoundError,
    AmcServerError,
    JobStatus,
    audience_request,
    upload_request,
)
from adu_pipeline.dataset import load_definition
from adu_pipeline_tests.amc.conftest import WAIT, crm_csv_gz
from adu_pipeline_tests.amc.test_datasets import CRM_DEFINITION

SQL = "SELECT user_id FROM crm_customers"


@pytest.fixture
def loaded(client, waiter, s3_client, s3_bucket):
    """crm_customers with 6,000 hashed rows ingested (enough for the 2,000-user minimum)."""
    client.ensure_dataset(load_definition(CRM_DEFINITION).create_body())
    s3_client.put_object(Bucket=s3_bucket, Key="aud/part-0.csv.gz", Body=crm_csv_gz(6000))
    upload = client.create_upload(
        "crm_customers", upload_request(s3_bucket, key="aud/part-0.csv.gz")
    )
    done = waiter.wait_for_upload("crm_customers", upload.upload_id, **WAIT)
    assert done.status.is_success, done.message
    return done


def body(emu, name="high value", sql=SQL, days=30):
    return audience_request(name, sql, emu.advertiser_id, relative_days=days, refresh_rate_days=7)


def test_create_wait_get_list_delete(client, waiter, emu, loaded):
    created = client.create_audience(body(emu))
    assert created.audience_id and created.status is JobStatus.PENDING
    done = waiter.wait_for_audience(created.audience_id, **WAIT)
    assert done.status is JobStatus.SUCCEEDED, done.status_reason
    assert done.audience_count and done.audience_count >= 2000
    assert done.dsp_audience_id
    assert done.name == "high value" and done.refresh_rate_days == 7
    assert [a.audience_id for a in client.list_audiences()] == [created.audience_id]
    client.delete_audience(created.audience_id)
    with pytest.raises(AmcNotFoundError):
        client.get_audience(created.audience_id)


def test_list_audiences_follows_pages(client, emu, hooks):
    ids = {client.create_audience(body(emu, name=f"a{i}")).audience_id for i in range(3)}
    before = hooks.count("GET", "/amc/audiences/query")
    assert {a.audience_id for a in client.list_audiences(page_size=2)} == ids
    assert hooks.count("GET", "/amc/audiences/query") - before == 2


def test_too_small_audience_fails_with_reason_and_update_reruns_it(client, waiter, emu, loaded):
    small = body(emu, name="tiny", sql=SQL + " WHERE loyalty_tier = 'Nope'")
    audience = client.create_audience(small)
    failed = waiter.wait_for_audience(audience.audience_id, **WAIT)
    assert failed.status is JobStatus.FAILED
    assert failed.status_reason and "2,000" in failed.status_reason
    fixed = dict(small, query=SQL)
    result = client.ensure_audience(fixed)
    assert result.action == "updated" and result.audience.audience_id == audience.audience_id
    done = waiter.wait_for_audience(audience.audience_id, **WAIT)
    assert done.status is JobStatus.SUCCEEDED, done.status_reason
    assert len(client.list_audiences()) == 1


def test_unknown_table_fails_with_reason(client, waiter, emu):
    audience = client.create_audience(body(emu, name="bad", sql="SELECT user_id FROM nowhere"))
    failed = waiter.wait_for_audience(audience.audience_id, **WAIT)
    assert failed.status is JobStatus.FAILED
    assert "nowhere" in (failed.status_reason or "")


def test_ensure_audience_creates_once(client, emu, hooks):
    first = client.ensure_audience(body(emu))
    second = client.ensure_audience(body(emu))
    assert first.action == "created" and second.action == "reused"
    assert second.audience.audience_id == first.audience.audience_id
    assert second.differences == ()
    assert hooks.count("POST", "/amc/audiences/query") == 1
    assert len(client.list_audiences()) == 1


def test_a_different_audience_of_the_same_name_is_a_conflict(client, emu, hooks):
    client.ensure_audience(body(emu))
    with pytest.raises(AmcAudienceConflict) as info:
        client.ensure_audience(body(emu, sql=SQL + " WHERE 1=1", days=60))
    conflict = info.value
    assert conflict.differences == (
        "query differs (whitespace and a trailing ';' ignored)",
        "time window days: AMC has 30.0, wanted 60.0",
    )
    assert str(conflict).startswith("audience 'high value' exists (")
    assert "with other settings: query differs" in str(conflict)
    assert hooks.count("POST", "/amc/audiences/query") == 1  # nothing was created or changed
    assert hooks.count("PUT", "/amc/audiences/query") == 0
    assert len(client.list_audiences()) == 1


def test_a_repeat_a_day_later_with_the_same_segment_is_reused(client, emu):
    """A relative window ends at the run time: the next day's body has other bounds, same length."""
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    client.ensure_audience(
        audience_request("daily", SQL, emu.advertiser_id, relative_days=30, now=now)
    )
    later = audience_request(
        "daily", SQL + " ;\n", emu.advertiser_id, relative_days=30, now=now + timedelta(days=1)
    )
    assert client.ensure_audience(later).action == "reused"


def test_create_audience_is_never_retried_blindly(client, emu, hooks):
    hooks.fail("/amc/audiences/query", 500, count=1, method="POST")
    with pytest.raises(AmcServerError):
        client.create_audience(body(emu))
    assert hooks.count("POST", "/amc/audiences/query") == 1
    assert client.list_audiences() == []


def test_ensure_looks_again_after_a_5xx_then_creates_once(client, emu, hooks, fake_time):
    hooks.fail("/amc/audiences/query", 503, count=1, method="POST")
    result = client.ensure_audience(body(emu))
    assert result.action == "created"
    assert hooks.count("POST", "/amc/audiences/query") == 2  # the 503, then one real create
    assert hooks.count("GET", "/amc/audiences/query") == 2  # before, and after the 503
    assert len(client.list_audiences()) == 1
    assert len(fake_time.sleeps) == 1
