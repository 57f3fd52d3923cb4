"""The preflight count (`amc.reporting.count_distinct_users`) against the real emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adu_pipeline.amc import AmcClient
from adu_pipeline.amc.errors import AmcApiError
from adu_pipeline.amc.reporting import count_distinct_users, count_sql
from adu_pipeline_tests.amc.conftest import config_for
from adu_pipeline_tests.emulator.conftest import (
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    upload_body,
)

WINDOW = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 12, 31, tzinfo=UTC))


@pytest.fixture
def loaded(emulator, s3_client, s3_bucket):
    api = Api(emulator)
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="crm.csv", Body=csv_bytes(customer_rows(3000)))
    assert (
        api.upload_and_wait("crm_customers", upload_body(s3_bucket, key="crm.csv"))["status"]
        == "SUCCESS"
    )
    yield api
    api.http.close()


def test_count_matches_the_stored_users(loaded):
    gold = {
        r["user_id"]
        for r in loaded.stored_rows("crm_customers")
        if r["user_id"] and r["loyalty_tier"] == "gold"
    }
    sql = "SELECT user_id FROM crm_customers WHERE loyalty_tier = 'gold';"
    with AmcClient(config_for(loaded.emulator)) as client:
        assert count_distinct_users(client, sql, WINDOW, max_interval=0.2) == len(gold) > 0
        body = {"timeWindowStart": "2024-01-01T00:00:00Z", "timeWindowEnd": "2024-12-31T00:00:00Z"}
        assert count_distinct_users(client, sql, body, max_interval=0.2) == len(gold)


def test_a_failing_query_names_the_reason(loaded):
    with (
        AmcClient(config_for(loaded.emulator)) as client,
        pytest.raises(AmcApiError, match="nowhere"),
    ):
        count_distinct_users(client, "SELECT user_id FROM nowhere", WINDOW, max_interval=0.2)


def test_count_sql_wraps_the_segment():
    assert count_sql(" SELECT user_id FROM t; ") == (
        "SELECT count(DISTINCT user_id) AS distinct_users FROM (SELECT user_id FROM t) AS segment"
    )
