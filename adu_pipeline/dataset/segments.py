"""Segments: one rule-based AMC audience per YAML file in data/segments/.

A segment is SQL over uploaded datasets (selecting `user_id`), the DSP advertiser to activate it
for, the AMC instance it runs in, a refresh rate and a time window. The file name (without
.yaml) is the segment's key, used as the Dagster partition key; `name` is the audience name AMC
and DSP show. The request body itself is built by the AMC library (`audience_request`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from adu_pipeline.amc.bodies import audience_request
from adu_pipeline.dataset.errors import (
    DefinitionError,
    FileModel,
    details_of,
    problem,
    raise_problems,
)
from adu_pipeline.dataset.yaml_io import read_yaml_mapping, validate

# Rule-based audiences' CountryCodeEnum spells the United Kingdom "UK"; we store ISO "GB".
AUDIENCE_COUNTRIES = frozenset(
    ("AE", "AU", "BR", "CA", "DE", "ES", "FR", "GB", "IN", "IT", "JP", "MX", "NL", "SA", "SE", "TR",
     "US")
)  # fmt: skip
DEFAULT_REFRESH_DAYS = 21  # AMC's default refreshRateDays
KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
USER_ID = re.compile(r"\buser_id\b", re.IGNORECASE)
KIND = "segment"


@dataclass(frozen=True)
class TimeWindow:
    """Either the last `relative_days` whole UTC days up to the run date (sliding forward at each
    refresh) or the fixed whole days from `start` to `end` inclusive."""

    relative_days: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def is_relative(self) -> bool:
        return self.relative_days is not None


class Segment(FileModel):
    """One audience to create in AMC and activate in DSP."""

    name: StrictStr
    description: StrictStr = ""
    sql: StrictStr
    advertiser_id: StrictStr
    refresh_days: StrictInt = DEFAULT_REFRESH_DAYS
    relative_days: StrictInt | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    country_code: StrictStr | None = None  # ISO alpha-2 (GB, not UK)
    instance: StrictStr | None = None  # key in data/instances.yaml; None: the first instance
    _key: str = PrivateAttr(default="")
    _path: str | None = PrivateAttr(default=None)

    @property
    def key(self) -> str:
        """The file name without .yaml (the Dagster partition key)."""
        return self._key

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def time_window(self) -> TimeWindow:
        return TimeWindow(self.relative_days, self.start, self.end)

    def datasets_read(self, dataset_ids: Iterable[str]) -> tuple[str, ...]:
        """Which of `dataset_ids` the SQL names (whole word, any case), in the order given."""
        return tuple(i for i in dataset_ids if _names(self.sql, i))

    def audience_body(self, now: dt.datetime) -> dict[str, Any]:
        """CreateAudience (POST /amc/audiences/query) body for a run at `now`."""
        return audience_request(
            self.name,
            self.sql,
            self.advertiser_id,
            relative_days=self.relative_days,
            start=self.start,
            end=self.end,
            refresh_rate_days=self.refresh_days,
            description=self.description or None,
            country_code=self.country_code,
            now=now,
        )

    @field_validator("name", "sql", "description", mode="before")
    @classmethod
    def _stripped(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name == "description":
            return ""
        if isinstance(value, str):
            if not value.strip() and info.field_name != "description":
                raise ValueError("must be a non-empty string")
            return value.strip()
        return value

    @field_validator("sql")
    @classmethod
    def _selects_user_id(cls, value: str) -> str:
        if not USER_ID.search(value):
            raise ValueError("must select user_id (the column AMC fills for matched rows)")
        return value

    @field_validator("advertiser_id", mode="before")
    @classmethod
    def _advertiser(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError("required (the DSP advertiser id, e.g. '5838912345678')")
        if any(ch.isspace() for ch in value.strip()):
            raise ValueError("must not contain spaces")
        return value.strip()

    @field_validator("refresh_days", mode="before")
    @classmethod
    def _refresh(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 21:
            raise ValueError("must be a whole number from 0 to 21")
        return value

    @field_validator("relative_days", mode="before")
    @classmethod
    def _relative(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):  # fmt: skip
            raise ValueError("must be a whole number of days, at least 1")
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError("must be a date like 2025-01-31")

    @field_validator("country_code", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        code = value.strip().upper() if isinstance(value, str) else None
        code = "GB" if code == "UK" else code
        if code not in AUDIENCE_COUNTRIES:
            raise ValueError(
                "must be one the audience API accepts: "
                + ", ".join(sorted(AUDIENCE_COUNTRIES))
                + " (UK accepted for GB)"
            )
        return code

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str | None) -> str | None:
        if value is not None and not KEY_PATTERN.match(value):
            raise ValueError("must be an instance key (lowercase letters, digits and '_')")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _window(cls, data: Any, handler: Any) -> Segment:
        """Exactly one kind of window. Which keys are present is only visible before defaults
        apply; the problem is reported together with the others of the file."""
        found = _window_problems(data) if isinstance(data, dict) else []
        if isinstance(data, dict) and ("start" in data or "end" in data):
            data = {"start": None, "end": None, **data}  # a missing one is then a bad date
        try:
            segment = handler(data)
        except ValidationError as exc:
            raise_problems(cls.__name__, [*details_of(exc), *found])
            raise
        if segment.start and segment.end and segment.start > segment.end:
            found.append(problem(("start",), "must be on or before end"))
        raise_problems(cls.__name__, found)
        return segment


def _window_problems(data: dict[str, Any]) -> list[Any]:
    has_fixed = "start" in data or "end" in data
    if data.get("relative_days") is not None and has_fixed:
        return [problem((), "give either relative_days or start and end, not both")]
    if data.get("relative_days") is None and not has_fixed:
        return [problem((), "a time window is required: relative_days: N, or start and end")]
    return []


def _names(sql: str, dataset_id: str) -> bool:
    return re.search(rf"\b{re.escape(dataset_id)}\b", sql, re.IGNORECASE) is not None


def load_segment(path: str | Path, dataset_ids: Iterable[str] | None = None) -> Segment:
    """One segment file; raises DefinitionError listing every problem in it.

    With `dataset_ids`, a segment whose SQL names none of them is an error."""
    path = Path(path)
    data = read_yaml_mapping(path, KIND)
    problems = []
    if not KEY_PATTERN.match(path.stem):
        problems.append(
            "file name must be lowercase letters, digits and '_' (it is the segment's key)"
        )
    try:
        segment = validate(Segment, data, path, KIND)
    except DefinitionError as exc:
        raise DefinitionError(path, [*problems, *exc.problems], KIND) from None
    known = sorted(dataset_ids or ())
    if known and not segment.datasets_read(known):
        problems.append(f"sql: reads none of the datasets {', '.join(known)}")
    if problems:
        raise DefinitionError(path, problems, KIND)
    segment._key, segment._path = path.stem, str(path)
    return segment


def load_segments(folder: str | Path, dataset_ids: Iterable[str] | None = None) -> list[Segment]:
    """Every *.yaml segment in `folder`, sorted by key; all problems of all files raised at once.

    With `dataset_ids`, a segment whose SQL names none of them is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError(folder, ["segment folder not found"], "segments")
    segments: list[Segment] = []
    problems: list[str] = []
    for path in segment_files(folder):
        try:
            segments.append(load_segment(path, dataset_ids))
        except DefinitionError as exc:
            problems += [f"{path.name}: {p}" for p in exc.problems]
    clashes = audience_name_clashes(segments, lambda s: s.instance or "")
    problems += [f"{segment.key}: {message}" for segment, message in clashes]
    if problems:
        raise DefinitionError(folder, problems, "segments")
    return sorted(segments, key=lambda s: s.key)


def segment_files(folder: Path) -> list[Path]:
    """The segment files of a folder, by name (.yaml and .yml)."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def audience_name_clashes(
    segments: Iterable[Segment], instance_of: Callable[[Segment], str]
) -> list[tuple[Segment, str]]:
    """Audiences are matched by name within an instance: one problem per reused name or key."""
    problems: list[tuple[Segment, str]] = []
    names: dict[tuple[str, str], str] = {}
    keys: set[str] = set()
    for segment in segments:
        instance = instance_of(segment)
        other = names.setdefault((instance, segment.name), segment.key)
        if other != segment.key:
            where = f" in instance {instance}" if instance else ""
            message = f"audience name '{segment.name}' is also used by {other}{where}"
            problems.append((segment, message + " (audiences are matched by name)"))
        if segment.key in keys:
            problems.append((segment, "another file has the same segment key"))
        keys.add(segment.key)
    return problems
