"""audience_differences: when an audience of the same name is the segment's, and when it is not
(the cases segment_diff covered, ported here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from adu_pipeline.amc import Audience, amc_timestamp, audience_differences
from adu_pipeline.dataset import load_segments

SEGMENTS = Path(__file__).resolve().parents[2] / "data" / "segments"
NOW = dt.datetime(2025, 3, 10, 15, 30, tzinfo=dt.UTC)
GOOD = {
    "name": "adu test audience",
    "description": "test",
    "advertiser_id": "5838912345678",
    "refresh_days": 7,
    "relative_days": 30,
    "sql": "SELECT user_id FROM crm_customers",
}


def segment_from(tmp_path: Path, data: dict):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (segment,) = load_segments(tmp_path)
    return segment


def existing_audience(segment, created: dt.datetime, **changes) -> Audience:
    """What GET /amc/audiences/query/{id} returns for an audience created from `segment`."""
    body = segment.audience_body(created)
    raw = {**body, "audienceExecutionId": "x", "status": "SUCCEEDED",
           "query": "  " + body["query"].replace("\n", "\n   ")}  # fmt: skip
    return Audience.from_api({**raw, **changes})


def test_same_segment_created_days_ago_is_equal():
    (segment,) = [s for s in load_segments(SEGMENTS) if s.key == "loyal_customers"]
    wanted = segment.audience_body(NOW)
    existing = existing_audience(segment, NOW - dt.timedelta(days=12))
    assert audience_differences(wanted, existing) == []
    spelled = existing_audience(segment, NOW - dt.timedelta(days=12), timeWindowRelative="TRUE")
    assert audience_differences(wanted, spelled) == []  # the guide's string spelling


def test_reports_sql_and_window_length(tmp_path):
    segment = segment_from(tmp_path, GOOD)
    wanted = segment.audience_body(NOW)
    existing = existing_audience(
        segment,
        NOW,
        query="SELECT user_id FROM crm_customers WHERE 1=1",
        timeWindowStart=amc_timestamp(NOW - dt.timedelta(days=14)),
    )
    assert audience_differences(wanted, existing) == [
        "query differs (whitespace and a trailing ';' ignored)",
        "time window days: AMC has 14.0, wanted 30.0",
    ]


def test_reports_relative_flag_refresh_and_country(tmp_path):
    segment = segment_from(tmp_path, GOOD)
    existing = existing_audience(
        segment, NOW, timeWindowRelative=False, refreshRateDays=21, countryCode="UK"
    )
    assert audience_differences(segment.audience_body(NOW), existing) == [
        "timeWindowRelative: AMC has false, wanted true",
        "refreshRateDays: AMC has 21, wanted 7",
        "countryCode: AMC has UK, wanted not set",
    ]


def test_fixed_window_bounds_must_agree_exactly(tmp_path):
    data = {k: v for k, v in GOOD.items() if k != "relative_days"}
    segment = segment_from(tmp_path, {**data, "start": "2025-01-01", "end": "2025-01-31"})
    wanted = segment.audience_body(NOW)
    assert audience_differences(wanted, existing_audience(segment, NOW)) == []
    assert audience_differences(wanted, existing_audience(segment, NOW - dt.timedelta(9))) == []
    moved = existing_audience(segment, NOW, timeWindowEnd="2025-01-31T00:00:00Z")
    assert audience_differences(wanted, moved) == [
        "time window: AMC has 2025-01-01T00:00:00Z..2025-01-31T00:00:00Z, "
        "wanted 2025-01-01T00:00:00Z..2025-02-01T00:00:00Z"
    ]


def test_trailing_semicolon_gb_uk_and_default_refresh_are_equal(tmp_path):
    data = {k: v for k, v in GOOD.items() if k != "refresh_days"}
    segment = segment_from(tmp_path, {**data, "country_code": "GB"})
    wanted = segment.audience_body(NOW)
    assert "refreshRateDays" in wanted  # the segment's default, 21, is sent explicitly
    existing = Audience.from_api(
        {
            **{k: v for k, v in wanted.items() if k != "refreshRateDays"},  # AMC's default
            "query": wanted["query"] + " ;",
            "countryCode": "GB",
        }
    )
    assert audience_differences(wanted, existing) == []


def test_advertiser_and_unreadable_window(tmp_path):
    segment = segment_from(tmp_path, GOOD)
    existing = existing_audience(segment, NOW, advertiserId="111", timeWindowEnd=None)
    assert audience_differences(segment.audience_body(NOW), existing) == [
        "the audience in AMC has no readable timeWindowStart/timeWindowEnd",
        "advertiserId: AMC has 111, wanted 5838912345678",
    ]


def test_a_change_of_case_in_the_sql_is_a_difference(tmp_path):
    segment = segment_from(tmp_path, {**GOOD, "sql": "SELECT user_id FROM t WHERE x = 'Gold'"})
    existing = existing_audience(segment, NOW, query="SELECT user_id FROM t WHERE x = 'gold'")
    assert audience_differences(segment.audience_body(NOW), existing) == [
        "query differs (whitespace and a trailing ';' ignored)"
    ]
