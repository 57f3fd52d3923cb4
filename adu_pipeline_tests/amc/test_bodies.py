"""The one CreateAudience builder: its time windows, pinned, and a check that it stays alone."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adu_pipeline.amc import AmcConfigError, amc_timestamp, audience_request
from adu_pipeline_tests.dataset.openapi import AUDIENCES, errors

PACKAGE = Path(__file__).resolve().parents[2] / "adu_pipeline"
WINDOW_KEYS = frozenset({"timeWindowStart", "timeWindowEnd", "timeWindowRelative"})
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def body(**kw):
    return audience_request("a", "SELECT user_id FROM t", "5838912345678", **kw)


def window(b: dict) -> tuple[str, str, bool]:
    return b["timeWindowStart"], b["timeWindowEnd"], b["timeWindowRelative"]


def test_relative_window_ends_at_the_run_time():
    assert window(body(relative_days=30, now=NOW)) == (
        "2026-10-31T12:00:00Z",
        "2026-11-30T12:00:00Z",
        True,
    )


def test_relative_window_is_utc_whole_seconds_and_naive_now_is_utc():
    paris = datetime.fromisoformat("2026-11-30T13:00:00.987654+01:00")
    assert window(body(relative_days=1, now=paris))[:2] == (
        "2026-11-29T12:00:00Z",
        "2026-11-30T12:00:00Z",
    )
    assert window(body(relative_days=1, now=NOW.replace(tzinfo=None))) == window(
        body(relative_days=1, now=NOW)
    )


def test_fixed_dates_are_midnight_utc_and_the_end_day_is_included():
    b = body(start=date(2025, 1, 1), end=date(2025, 1, 31), now=NOW)
    assert window(b) == ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", False)


def test_fixed_datetimes_and_strings_are_used_as_given():
    b = body(start=datetime(2025, 1, 1, 6, 30), end="2025-01-02T07:00:00Z")
    assert window(b) == ("2025-01-01T06:30:00Z", "2025-01-02T07:00:00Z", False)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"start": "2025-01-01", "end": "2025-01-02T00:00:00Z"}, "start must be a UTC timestamp"),
        ({"start": date(2025, 1, 1), "end": "2025-01-02"}, "end must be a UTC timestamp"),
        ({"start": date(2025, 1, 2), "end": date(2025, 1, 1)}, "start must be before its end"),
        ({"relative_days": 0}, "positive number of days"),
        ({"relative_days": 7, "start": date(2025, 1, 1)}, "not both"),
        ({"start": date(2025, 1, 1)}, "a relative window or a fixed start and end"),
        ({"relative_days": 7, "refresh_rate_days": 22}, "between 0 and 21"),
    ],
)
def test_bad_windows_are_one_line_errors(kw, message):
    with pytest.raises(AmcConfigError, match=message):
        body(**kw)


def test_full_body_gb_is_sent_as_uk_and_matches_the_spec():
    b = audience_request(
        "n", "SELECT user_id FROM t", 5838912345678, relative_days=7, refresh_rate_days=3,
        description="d", country_code=" gb", now=NOW,
    )  # fmt: skip
    assert b == {
        "audienceName": "n",
        "advertiserId": "5838912345678",
        "query": "SELECT user_id FROM t",
        "timeWindowStart": "2026-11-23T12:00:00Z",
        "timeWindowEnd": "2026-11-30T12:00:00Z",
        "timeWindowRelative": True,
        "refreshRateDays": 3,
        "audienceDescription": "d",
        "countryCode": "UK",
    }
    assert errors(AUDIENCES, "AMCQueryBasedAudiencesRequest", b) == []


def test_amc_timestamp_is_the_one_format():
    assert amc_timestamp(date(2026, 1, 2)) == "2026-01-02T00:00:00Z"
    assert amc_timestamp(datetime(2026, 1, 2, 3, 4, 5, 999)) == "2026-01-02T03:04:05Z"


# -- one builder --------------------------------------------------------------------------------


def window_writes(source: str) -> list[int]:
    """Lines where a time-window key is written: a dict literal key, `x["key"] = ...`, or
    `dict(key=...)` / `f(**{...})` keyword."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if WINDOW_KEYS & set(keys):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value in WINDOW_KEYS
                ):
                    lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg in WINDOW_KEYS:
            lines.append(node.value.lineno)
    return sorted(lines)


def test_the_scanner_sees_every_way_of_writing_a_window():
    source = (
        "a = {'timeWindowStart': 1}\n"
        "b['timeWindowRelative'] = True\n"
        "c = dict(timeWindowEnd=2)\n"
        "d = x.get('timeWindowStart')\n"  # a read: fine
        "e = {'query': 'timeWindowStart'}\n"  # a value: fine
    )
    assert window_writes(source) == [1, 2, 3]


def test_audience_request_is_the_only_window_builder():
    writers = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("emulator/"):  # the server side answers with windows
            continue
        found = window_writes(path.read_text(encoding="utf-8"))
        if found:
            writers[relative] = found
    assert set(writers) == {"amc/bodies.py"}, writers
