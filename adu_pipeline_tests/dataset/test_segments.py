"""Segments: loading, one message per problem, the CreateAudience body per the OpenAPI doc."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from adu_pipeline.dataset import DefinitionError, load_segment, load_segments
from adu_pipeline_tests.dataset.openapi import AUDIENCES, errors

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


def write(folder: Path, key: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_segments_load_and_give_valid_bodies():
    segments = load_segments(SEGMENTS, dataset_ids={"crm_customers", "offline_conversions"})
    assert {s.key for s in segments} >= {"loyal_customers", "recent_buyers"}
    for segment in segments:
        body = segment.audience_body(NOW)
        assert errors(AUDIENCES, "AMCQueryBasedAudiencesRequest", body) == [], segment.key


def test_loyal_customers_is_broad_and_relative():
    loyal = next(s for s in load_segments(SEGMENTS) if s.key == "loyal_customers")
    assert loyal.time_window.relative_days == 30 and loyal.instance == "us"
    assert "crm_customers" in loyal.sql and "loyalty_tier" not in loyal.sql  # broad
    body = loyal.audience_body(NOW)
    assert body["timeWindowRelative"] is True and body["refreshRateDays"] == 1
    assert body["audienceName"] == "adu loyal customers"


def test_datasets_read_is_whole_word_and_case_insensitive(tmp_path):
    write(tmp_path, "s", {**GOOD, "sql": "SELECT user_id FROM CRM_Customers JOIN crm_customers_x"})
    segment = load_segment(tmp_path / "s.yaml")
    ids = ("crm", "crm_customers", "crm_customers_list", "customers")
    assert segment.datasets_read(ids) == ("crm_customers",)
    assert segment.instance is None and segment.key == "s"


def test_fixed_window_and_uk_spelling(tmp_path):
    data = {**GOOD, "country_code": "gb", "start": dt.date(2025, 1, 1), "end": "2025-01-31"}
    del data["relative_days"]
    write(tmp_path, "uk_fixed", data)
    (segment,) = load_segments(tmp_path)
    assert segment.country_code == "GB"
    assert (segment.start, segment.end) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    body = segment.audience_body(NOW)  # the window's bounds are the AMC library's rule
    assert {k: v for k, v in body.items() if k != "timeWindowEnd"} == {
        "advertiserId": "5838912345678",
        "audienceName": "adu test audience",
        "query": "SELECT user_id FROM crm_customers",
        "timeWindowStart": "2025-01-01T00:00:00Z",
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
        (without("name"), "name: required"),
        ({**GOOD, "name": "  "}, "name: must be a non-empty string"),
        (without("sql"), "sql: required"),
        ({**GOOD, "sql": "SELECT email FROM crm_customers"}, "sql: must select user_id"),
        (without("advertiser_id"), "advertiser_id: required"),
        ({**GOOD, "advertiser_id": "58 38"}, "advertiser_id: must not contain spaces"),
        ({**GOOD, "refresh_days": 22}, "refresh_days: must be a whole number from 0 to 21"),
        ({**GOOD, "refresh_days": -1}, "refresh_days: must be a whole number from 0 to 21"),
        ({**GOOD, "refresh_days": True}, "refresh_days: must be a whole number from 0 to 21"),
        ({**GOOD, "relative_days": 0}, "relative_days: must be a whole number of days, at least 1"),
        (without("relative_days"), "a time window is required"),
        (
            {**GOOD, "start": "2025-01-01", "end": "2025-01-02"},
            "give either relative_days or start and end, not both",
        ),
        (
            {**without("relative_days"), "start": "2025-02-01", "end": "2025-01-01"},
            "start: must be on or before end",
        ),
        (
            {**without("relative_days"), "start": "01/02/2025", "end": "2025-01-01"},
            "start: must be a date like 2025-01-31",
        ),
        ({**without("relative_days"), "start": "2025-01-01"}, "end: must be a date like"),
        ({**GOOD, "country_code": "XX"}, "country_code: must be one the audience API accepts"),
        ({**GOOD, "window": 30}, "unknown key 'window'"),
        ({**GOOD, "instance": "US-East"}, "instance: must be an instance key"),
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
    with pytest.raises(DefinitionError, match="sql: reads none of the datasets crm_customers"):
        load_segments(tmp_path, dataset_ids={"crm_customers"})


def test_missing_folder(tmp_path):
    with pytest.raises(DefinitionError, match="segment folder not found"):
        load_segments(tmp_path / "nope")
