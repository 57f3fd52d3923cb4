"""Segments: one rule-based AMC audience per YAML file in data/segments/.

A segment is SQL over the uploaded dataset (selecting `user_id`), the DSP advertiser to activate it
for, a refresh rate and a time window. The file name (without .yaml) is the segment's key, used as
the Dagster partition key; `name` is the audience name AMC and DSP show.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adu_pipeline.dataset.model import DefinitionError
from adu_pipeline.dataset.yaml_io import read_yaml_mapping, unknown_key_problems

SEGMENT_KEYS = {
    "name", "description", "sql", "advertiser_id", "refresh_days", "relative_days", "start",
    "end", "country_code",
}  # fmt: skip
# Rule-based audiences' CountryCodeEnum spells the United Kingdom "UK"; we store ISO "GB".
AUDIENCE_COUNTRIES = frozenset(
    ("AE", "AU", "BR", "CA", "DE", "ES", "FR", "GB", "IN", "IT", "JP", "MX", "NL", "SA", "SE", "TR",
     "US")
)  # fmt: skip
DEFAULT_REFRESH_DAYS = 21  # AMC's default refreshRateDays
KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
USER_ID = re.compile(r"\buser_id\b", re.IGNORECASE)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def audience_country(iso: str) -> str:
    """ISO alpha-2 -> the rule-based audience API's spelling (GB -> UK)."""
    return "UK" if iso == "GB" else iso


@dataclass(frozen=True)
class TimeWindow:
    """Either the last `relative_days` whole UTC days up to and including the run date (sliding
    forward at each refresh) or a fixed range of whole days from `start` to `end` inclusive."""

    relative_days: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def is_relative(self) -> bool:
        return self.relative_days is not None

    def bounds(self, today: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC; the end is midnight after the last included day."""
        if self.relative_days is not None:
            first, last = today - dt.timedelta(days=self.relative_days - 1), today
        else:
            assert self.start is not None and self.end is not None
            first, last = self.start, self.end
        return _midnight(first), _midnight(last + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Segment:
    """One audience to create in AMC and activate in DSP."""

    key: str
    name: str
    description: str
    sql: str
    advertiser_id: str
    refresh_days: int
    time_window: TimeWindow
    country_code: str | None = None  # ISO alpha-2 (GB, not UK)
    path: str | None = None

    def audience_body(self, today: dt.date) -> dict[str, Any]:
        """CreateAudience (POST /amc/audiences/query) body for a run on `today`."""
        start, end = self.time_window.bounds(today)
        body: dict[str, Any] = {
            "advertiserId": self.advertiser_id,
            "audienceName": self.name,
            "query": self.sql,
            "timeWindowStart": start.strftime(TIME_FORMAT),
            "timeWindowEnd": end.strftime(TIME_FORMAT),
            "timeWindowRelative": self.time_window.is_relative,
            "refreshRateDays": self.refresh_days,
        }
        if self.description:
            body["audienceDescription"] = self.description
        if self.country_code:
            body["countryCode"] = audience_country(self.country_code)
        return body


def load_segments(folder: str | Path, dataset_ids: set[str] | None = None) -> list[Segment]:
    """Every *.yaml segment in `folder`, sorted by key; all problems of all files raised at once.

    With `dataset_ids`, a segment whose SQL names none of them is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError(folder, ["segment folder not found"], "segments")
    segments: list[Segment] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            segments.append(load_segment(path, dataset_ids))
        except DefinitionError as exc:
            problems += [f"{path.name}: {p}" for p in exc.problems]
    names: dict[str, str] = {}
    for segment in segments:
        other = names.setdefault(segment.name, segment.key)
        if other != segment.key:
            problems.append(
                f"{segment.key}: audience name '{segment.name}' is also used by {other} "
                "(audiences are matched by name)"
            )
    if problems:
        raise DefinitionError(folder, problems, "segments")
    return segments


def load_segment(path: str | Path, dataset_ids: set[str] | None = None) -> Segment:
    """One segment file; raises DefinitionError listing every problem in it."""
    path = Path(path)
    data = read_yaml_mapping(path, "segment")
    problems = unknown_key_problems("", data, SEGMENT_KEYS)
    if not KEY_PATTERN.match(path.stem):
        problems.append(
            "file name must be lowercase letters, digits and '_' (it is the segment's key)"
        )
    name = _text(data, "name", problems, required=True)
    description = _text(data, "description", problems) or ""
    sql = _text(data, "sql", problems, required=True)
    if sql and not USER_ID.search(sql):
        problems.append("sql must select user_id (the column AMC fills for matched rows)")
    if (
        sql
        and dataset_ids
        and not any(re.search(rf"\b{re.escape(i)}\b", sql, re.IGNORECASE) for i in dataset_ids)
    ):
        problems.append(f"sql reads none of the datasets {', '.join(sorted(dataset_ids))}")
    advertiser = _advertiser(data.get("advertiser_id"), problems)
    refresh = _refresh(data.get("refresh_days", DEFAULT_REFRESH_DAYS), problems)
    window = _window(data, problems)
    country = _country(data.get("country_code"), problems)
    if problems:
        raise DefinitionError(path, problems, "segment")
    return Segment(
        key=path.stem,
        name=name,
        description=description,
        sql=sql.strip(),
        advertiser_id=advertiser,
        refresh_days=refresh,
        time_window=window,
        country_code=country,
        path=str(path),
    )


def _text(
    data: dict[str, Any], key: str, problems: list[str], required: bool = False
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(f"{key} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{key} must be a non-empty string")
        return None
    return value.strip()


def _advertiser(value: Any, problems: list[str]) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.append("advertiser_id is required (the DSP advertiser id, e.g. '5838912345678')")
        return ""
    if any(ch.isspace() for ch in value.strip()):
        problems.append("advertiser_id must not contain spaces")
    return value.strip()


def _refresh(value: Any, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 21:
        problems.append("refresh_days must be a whole number from 0 to 21")
        return DEFAULT_REFRESH_DAYS
    return value


def _window(data: dict[str, Any], problems: list[str]) -> TimeWindow:
    relative = data.get("relative_days")
    has_fixed = "start" in data or "end" in data
    if relative is not None and has_fixed:
        problems.append("give either relative_days or start and end, not both")
        return TimeWindow()
    if relative is not None:
        if isinstance(relative, bool) or not isinstance(relative, int) or relative < 1:
            problems.append("relative_days must be a whole number of days, at least 1")
            return TimeWindow()
        return TimeWindow(relative_days=relative)
    if not has_fixed:
        problems.append("a time window is required: relative_days: N, or start and end dates")
        return TimeWindow()
    start = _date(data.get("start"), "start", problems)
    end = _date(data.get("end"), "end", problems)
    if start and end and start > end:
        problems.append("start must be on or before end")
    return TimeWindow(start=start, end=end)


def _date(value: Any, key: str, problems: list[str]) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{key} must be a date like 2025-01-31")
    return None


def _country(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    code = "GB" if code == "UK" else code
    if code not in AUDIENCE_COUNTRIES:
        problems.append(
            "country_code must be one the audience API accepts: "
            + ", ".join(sorted(AUDIENCE_COUNTRIES))
            + " (UK accepted for GB)"
        )
        return None
    return code


def segment_diff(segment: Segment, existing_audience_json: dict[str, Any]) -> list[str]:
    """Why an existing audience of the same name is not this segment (empty if it is).

    A relative window slides at each refresh, so only its length is compared."""
    existing = existing_audience_json
    problems = []
    if _squash(existing.get("query") or "") != _squash(segment.sql):
        problems.append("query differs from the segment's sql (whitespace ignored)")
    relative = bool(_truthy(existing.get("timeWindowRelative", False)))
    if relative != segment.time_window.is_relative:
        problems.append(
            f"timeWindowRelative is {str(relative).lower()} in AMC, "
            f"{str(segment.time_window.is_relative).lower()} in the segment"
        )
    else:
        problems += _window_differences(segment, existing)
    if str(existing.get("advertiserId", "")) != segment.advertiser_id:
        problems.append("advertiserId differs")
    refresh = existing.get("refreshRateDays", DEFAULT_REFRESH_DAYS)
    if refresh != segment.refresh_days:
        problems.append(
            f"refreshRateDays is {refresh} in AMC, {segment.refresh_days} in the segment"
        )
    ours = audience_country(segment.country_code) if segment.country_code else None
    if (existing.get("countryCode") or None) != ours:
        problems.append(
            f"countryCode is {existing.get('countryCode') or 'not set'} in AMC, "
            f"{ours or 'not set'} in the segment"
        )
    return problems


def _window_differences(segment: Segment, existing: dict[str, Any]) -> list[str]:
    try:
        start = _parse_time(existing["timeWindowStart"])
        end = _parse_time(existing["timeWindowEnd"])
    except (KeyError, TypeError, ValueError):
        return ["the existing audience has no readable timeWindowStart/timeWindowEnd"]
    window = segment.time_window
    if window.relative_days is not None:
        days = (end - start) / dt.timedelta(days=1)
        if days != window.relative_days:
            return [
                f"relative window is {days:g} days in AMC, {window.relative_days} in the segment"
            ]
        return []
    ours = window.bounds(dt.date.today())
    if (start, end) != ours:
        return [
            f"time window is {start.strftime(TIME_FORMAT)}..{end.strftime(TIME_FORMAT)} in AMC, "
            f"{ours[0].strftime(TIME_FORMAT)}..{ours[1].strftime(TIME_FORMAT)} in the segment"
        ]
    return []


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _truthy(value: Any) -> bool:
    return value.strip().upper() == "TRUE" if isinstance(value, str) else bool(value)


def _squash(sql: str) -> str:
    return " ".join(sql.split())
