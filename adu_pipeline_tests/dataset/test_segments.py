"""Segments: loading, one message per problem, CreateAudience body per the OpenAPI doc, diff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from adu_pipeline.dataset import DefinitionError, load_segments, segment_diff
from adu_pipeline_tests.dataset.openapi import AUDIENCES, errors

SEGMENTS = Path(__file__).resolve().parents[2] / "data" / "segments"
TODAY = dt.date(2025, 3, 10)
GOOD = {
    "name": "adu test audience",
    "description": "test",
    "advertiser_id": "5838912345678",
    "refresh_days": 7,
    "relative_days": 30,
    "sql": "SELECT user_id FROM crm_customers",
}


def write(folder: Path, key: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_segments_load_and_give_valid_bodies():
    segments = load_segments(SEGMENTS, dataset_ids={"crm_customers"})
    assert {s.key for s in segments} >= {"loyal_customers"}
    for segment in segments:
        body = segment.audience_body(TODAY)
        assert errors(AUDIENCES, "AMCQueryBasedAudiencesRequest", body) == [], segment.key


def test_loyal_customers_is_broad_and_relative():
    loyal = next(s for s in load_segments(SEGMENTS) if s.key == "loyal_customers")
    assert loyal.time_window.relative_days == 30
    assert "crm_customers" in loyal.sql and "loyalty_tier" not in loyal.sql  # broad
    body = loyal.audience_body(TODAY)
    assert body["timeWindowRelative"] is True
    assert (body["timeWindowStart"], body["timeWindowEnd"]) == (
        "2025-02-09T00:00:00Z", "2025-03-11T00:00:00Z",
    )  # fmt: skip


def test_fixed_window_and_uk_spelling(tmp_path):
    data = {**GOOD, "country_code": "gb", "start": dt.date(2025, 1, 1), "end": "2025-01-31"}
    del data["relative_days"]
    write(tmp_path, "uk_fixed", data)
    (segment,) = load_segments(tmp_path)
    assert segment.country_code == "GB"
    body = segment.audience_body(TODAY)
    assert body == {
        "advertiserId": "5838912345678",
        "audienceName": "adu test audience",
        "query": "SELECT user_id FROM crm_customers",
        "timeWindowStart": "2025-01-01T00:00:00Z",
        "timeWindowEnd": "2025-02-01T00:00:00Z",
        "timeWindowRelative": False,
        "refreshRateDays": 7,
        "audienceDescription": "test",
        "countryCode": "UK",
    }
    assert errors(AUDIENCES, "AMCQueryBasedAudiencesRequest", body) == []


def test_numeric_advertiser_id_and_default_refresh(tmp_path):
    data = {**GOOD, "advertiser_id": 5838912345678}
    del data["refresh_days"]
    write(tmp_path, "numeric", data)
    (segment,) = load_segments(tmp_path)
    assert segment.advertiser_id == "5838912345678" and segment.refresh_days == 21


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (without("name"), "name is required"),
        ({**GOOD, "name": "  "}, "name must be a non-empty string"),
        (without("sql"), "sql is required"),
        ({**GOOD, "sql": "SELECT email FROM crm_customers"}, "sql must select user_id"),
        (without("advertiser_id"), "advertiser_id is required"),
        ({**GOOD, "advertiser_id": "58 38"}, "advertiser_id must not contain spaces"),
        ({**GOOD, "refresh_days": 22}, "refresh_days must be a whole number from 0 to 21"),
        ({**GOOD, "refresh_days": -1}, "refresh_days must be a whole number from 0 to 21"),
        ({**GOOD, "refresh_days": True}, "refresh_days must be a whole number from 0 to 21"),
        ({**GOOD, "relative_days": 0}, "relative_days must be a whole number of days, at least 1"),
        (without("relative_days"), "a time window is required"),
        (
            {**GOOD, "start": "2025-01-01", "end": "2025-01-02"},
            "give either relative_days or start and end, not both",
        ),
        (
            {**without("relative_days"), "start": "2025-02-01", "end": "2025-01-01"},
            "start must be on or before end",
        ),
        (
            {**without("relative_days"), "start": "01/02/2025", "end": "2025-01-01"},
            "start must be a date like 2025-01-31",
        ),
        ({**without("relative_days"), "start": "2025-01-01"}, "end must be a date like"),
        ({**GOOD, "country_code": "XX"}, "country_code must be one the audience API accepts"),
        ({**GOOD, "window": 30}, "unknown key 'window'"),
        (
            {**GOOD, "advertiserId": "1"},
            "unknown key 'advertiserId' (did you mean 'advertiser_id'?)",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_has_one_message(tmp_path, data, expected):
    write(tmp_path, "segment", data)
    with pytest.raises(DefinitionError) as info:
        load_segments(tmp_path)
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith("segment.yaml: ")
    assert expected in info.value.problems[0]


def test_problems_of_all_files_are_reported_together(tmp_path):
    write(tmp_path, "one", {**GOOD, "refresh_days": 30})
    write(tmp_path, "two", {**GOOD, "sql": "SELECT 1", "relative_days": -3})
    write(tmp_path, "Bad-Name", GOOD)
    with pytest.raises(DefinitionError) as info:
        load_segments(tmp_path)
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert str(info.value).startswith(f"{tmp_path}: invalid segments (4 problems): ")
    assert any(p.startswith("Bad-Name.yaml: file name must be lowercase") for p in problems)


def test_audience_names_must_be_unique(tmp_path):
    write(tmp_path, "a", GOOD)
    write(tmp_path, "b", GOOD)
    with pytest.raises(
        DefinitionError, match="audience name 'adu test audience' is also used by a"
    ):
        load_segments(tmp_path)


def test_sql_must_read_a_known_dataset(tmp_path):
    write(tmp_path, "other", {**GOOD, "sql": "SELECT user_id FROM other_table"})
    with pytest.raises(DefinitionError, match="sql reads none of the datasets crm_customers"):
        load_segments(tmp_path, dataset_ids={"crm_customers"})


def test_missing_folder(tmp_path):
    with pytest.raises(DefinitionError, match="segment folder not found"):
        load_segments(tmp_path / "nope")


def existing_audience(segment, created: dt.date) -> dict:
    """What GET /amc/audiences/query/{id} returns for an audience created from `segment`."""
    body = segment.audience_body(created)
    return {**body, "audienceExecutionId": "x", "status": "SUCCEEDED",
            "query": "  " + body["query"].replace("\n", "\n   ")}  # fmt: skip


def test_segment_diff_same_segment_created_days_ago_is_equal():
    (segment,) = [s for s in load_segments(SEGMENTS) if s.key == "loyal_customers"]
    existing = existing_audience(segment, TODAY - dt.timedelta(days=12))
    assert segment_diff(segment, existing) == []
    existing["timeWindowRelative"] = "TRUE"  # the guide's string spelling
    assert segment_diff(segment, existing) == []


def test_segment_diff_reports_sql_and_window(tmp_path):
    write(tmp_path, "s", GOOD)
    (segment,) = load_segments(tmp_path)
    existing = existing_audience(segment, TODAY)
    existing["query"] = "SELECT user_id FROM crm_customers WHERE 1=1"
    existing["timeWindowStart"] = "2025-02-25T00:00:00Z"
    assert segment_diff(segment, existing) == [
        "query differs from the segment's sql (whitespace ignored)",
        "relative window is 14 days in AMC, 30 in the segment",
    ]
    existing = existing_audience(segment, TODAY)
    existing["timeWindowRelative"] = False
    existing["refreshRateDays"] = 21
    existing["countryCode"] = "UK"
    assert segment_diff(segment, existing) == [
        "timeWindowRelative is false in AMC, true in the segment",
        "refreshRateDays is 21 in AMC, 7 in the segment",
        "countryCode is UK in AMC, not set in the segment",
    ]


def test_segment_diff_fixed_window(tmp_path):
    write(tmp_path, "f", {**without("relative_days"), "start": "2025-01-01", "end": "2025-01-31"})
    (segment,) = load_segments(tmp_path)
    existing = existing_audience(segment, TODAY)
    assert segment_diff(segment, existing) == []
    existing["timeWindowEnd"] = "2025-01-31T00:00:00Z"
    assert segment_diff(segment, existing) == [
        "time window is 2025-01-01T00:00:00Z..2025-01-31T00:00:00Z in AMC, "
        "2025-01-01T00:00:00Z..2025-02-01T00:00:00Z in the segment"
    ]
