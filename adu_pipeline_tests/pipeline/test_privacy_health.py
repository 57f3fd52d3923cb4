"""audience_health over AMC's own audience objects (Audience.from_api of GetAudience bodies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adu_pipeline.amc.bodies import amc_timestamp
from adu_pipeline.amc.models import Audience
from adu_pipeline.lib.audience_health import DEACTIVATED, FRESH, STALE, audience_health

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def audience(status="SUCCEEDED", rate=1, created_days=5, refreshed_days=0.5, reason=None):
    body = {
        "audienceExecutionId": "a-1",
        "audienceName": "adu loyal customers",
        "status": status,
        "refreshRateDays": rate,
        "createTime": amc_timestamp(NOW - timedelta(days=created_days)),
        "lastRefreshedTime": amc_timestamp(NOW - timedelta(days=refreshed_days)),
    }
    if reason:
        body["statusReason"] = reason
    return Audience.from_api(body)


def test_refreshed_on_time_is_fresh():
    health = audience_health(audience(), NOW)
    assert health.state == FRESH and health.metadata["days_since_refresh"] == 0.5


def test_older_than_its_rate_plus_margin_is_stale_with_the_reason():
    health = audience_health(audience(refreshed_days=3), NOW)
    assert health.state == STALE
    assert "last refreshed 3.0 days ago" in health.reason and "refreshRateDays 1" in health.reason


def test_the_slowed_rate_without_a_line_item_is_allowed():
    # 40 days old: Amazon refreshes an unattached audience every 7 days, so 6 days is in time
    assert audience_health(audience(created_days=40, refreshed_days=6), NOW).state == FRESH
    slow = audience_health(audience(created_days=40, refreshed_days=9), NOW)
    assert slow.state == STALE and "every 7 days without a line item" in slow.reason
    stopped = audience_health(audience(created_days=130, refreshed_days=20), NOW)
    assert stopped.state == STALE and "after 100 days" in stopped.reason


def test_deactivated_and_zero_rate_audiences():
    gone = audience_health(audience(status="DEACTIVATED", rate=0, reason="deactivated"), NOW)
    assert gone.state == DEACTIVATED and "deactivated" in gone.reason
    due = audience_health(audience(rate=0, created_days=35, refreshed_days=35), NOW)
    assert due.state == STALE and "refreshRateDays=0" in due.reason
    assert audience_health(audience(rate=0, created_days=10, refreshed_days=10), NOW).state == FRESH


def test_audiences_not_live_are_not_judged():
    assert audience_health(audience(status="RUNNING"), NOW) is None
    assert audience_health(audience(status="FAILED"), NOW) is None
