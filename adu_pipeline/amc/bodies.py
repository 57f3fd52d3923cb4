"""Request bodies in Amazon's shapes, and diffs between what we want and what AMC holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adu_pipeline.amc.config import AmcConfigError
from adu_pipeline.amc.models import Audience, Dataset

FILE_FORMATS = {
    "csv": {"csvDataFormat": {"fieldDelimiter": ","}},
    "jsonl": {"jsonDataFormat": "LINES"},
    "parquet": {"parquetDataFormat": "PARQUET_DATA_FORMAT"},
}
COMPRESSIONS = ("GZIP", "NONE", "BZIP", "SNAPPY", "ZIP")
UPDATE_STRATEGIES = ("ADDITIVE", "FULL_REPLACE", "OVERLAP_REPLACE", "OVERLAP_KEEP")
_SOURCE_KEYS = ("sourceFileS3Key", "sourceS3Prefix", "sourceManifestS3Key")


def upload_request(
    bucket: str,
    *,
    key: str | None = None,
    prefix: str | None = None,
    manifest_key: str | None = None,
    file_format: str = "csv",
    compression: str = "GZIP",
    update_strategy: str = "FULL_REPLACE",
    country_code: str | None = None,
    field_delimiter: str = ",",
) -> dict[str, Any]:
    """CreateUpload body (API.md 3.1): exactly one of a file key, a prefix or a manifest key."""
    sources = {
        "sourceFileS3Key": key,
        "sourceS3Prefix": prefix,
        "sourceManifestS3Key": manifest_key,
    }
    given = {k: v for k, v in sources.items() if v}
    if len(given) != 1:
        raise AmcConfigError(
            "an upload needs exactly one of a file key, a prefix or a manifest key"
        )
    fmt = file_format.lower()
    if fmt not in FILE_FORMATS:
        raise AmcConfigError(f"unknown file format {file_format!r}: use csv, jsonl or parquet")
    file_fmt = dict(FILE_FORMATS[fmt])
    if fmt == "csv":
        file_fmt = {"csvDataFormat": {"fieldDelimiter": field_delimiter}}
    comp = compression.upper()
    if comp not in COMPRESSIONS:
        raise AmcConfigError(f"unknown compression {compression!r}: use GZIP or NONE")
    strategy = update_strategy.upper()
    if strategy not in UPDATE_STRATEGIES:
        raise AmcConfigError(
            f"unknown update strategy {update_strategy!r}: use {', '.join(UPDATE_STRATEGIES)}"
        )
    body: dict[str, Any] = {
        "dataSource": {"sourceS3Bucket": bucket, **given},
        "fileFormat": file_fmt,
        "compressionFormat": comp,
        "updateStrategy": strategy,
    }
    if country_code:
        body["countryCode"] = country_code.strip().upper()
    return body


def same_data_source(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two dataSource objects name the same bucket and key/prefix/manifest."""
    keys = ("sourceS3Bucket", *_SOURCE_KEYS)
    return all((a.get(k) or None) == (b.get(k) or None) for k in keys)


def amc_timestamp(value: date | datetime) -> str:
    """AMC's UTC format `yyyy-MM-ddTHH:mm:ssZ`."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def audience_request(
    name: str,
    query: str,
    advertiser_id: str,
    *,
    time_window_start: date | datetime | str | None = None,
    time_window_end: date | datetime | str | None = None,
    relative_days: int | None = None,
    refresh_rate_days: int | None = None,
    description: str | None = None,
    country_code: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Rule-based audience create body (API.md 6.2).

    A relative window of N days becomes [today - N, today) with `timeWindowRelative: true`, so AMC
    slides it at each refresh; otherwise give a fixed start and end.
    """
    if not name or not query or not advertiser_id:
        raise AmcConfigError("an audience needs a name, a SQL query and a DSP advertiser id")
    if relative_days is not None:
        if relative_days <= 0:
            raise AmcConfigError("the relative time window must be a positive number of days")
        end = today or datetime.now(UTC).date()
        start_s, end_s = amc_timestamp(end - timedelta(days=relative_days)), amc_timestamp(end)
        relative = True
    else:
        if time_window_start is None or time_window_end is None:
            raise AmcConfigError("an audience needs a relative window or a fixed start and end")
        start_s = _ts(time_window_start)
        end_s = _ts(time_window_end)
        relative = False
    body: dict[str, Any] = {
        "audienceName": name,
        "advertiserId": str(advertiser_id),
        "query": query,
        "timeWindowStart": start_s,
        "timeWindowEnd": end_s,
        "timeWindowRelative": relative,
    }
    if refresh_rate_days is not None:
        if not 0 <= refresh_rate_days <= 21:
            raise AmcConfigError("refresh days must be between 0 and 21")
        body["refreshRateDays"] = int(refresh_rate_days)
    if description:
        body["audienceDescription"] = description
    if country_code:
        code = country_code.strip().upper()
        body["countryCode"] = "UK" if code == "GB" else code  # API.md 5.4: audiences spell UK
    return body


def _ts(value: date | datetime | str) -> str:
    return value if isinstance(value, str) else amc_timestamp(value)


def audience_differences(wanted: Mapping[str, Any], existing: Audience) -> list[str]:
    """What differs between a create body and an existing audience of the same name."""
    have = existing.raw
    diffs: list[str] = []
    if _sql(wanted.get("query")) != _sql(have.get("query")):
        diffs.append("query differs")
    pairs = [
        ("advertiserId", str(wanted.get("advertiserId")), str(have.get("advertiserId"))),
        (
            "refreshRateDays",
            wanted.get("refreshRateDays", 21),
            existing.refresh_rate_days if existing.refresh_rate_days is not None else 21,
        ),
        (
            "timeWindowRelative",
            bool(wanted.get("timeWindowRelative", False)),
            bool(existing.time_window_relative),
        ),
    ]
    if not wanted.get("timeWindowRelative"):
        pairs += [
            ("timeWindowStart", wanted.get("timeWindowStart"), have.get("timeWindowStart")),
            ("timeWindowEnd", wanted.get("timeWindowEnd"), have.get("timeWindowEnd")),
        ]
    else:  # a relative window slides at each refresh: only its length must agree
        want_len = _window_days(wanted.get("timeWindowStart"), wanted.get("timeWindowEnd"))
        have_len = _window_days(have.get("timeWindowStart"), have.get("timeWindowEnd"))
        if want_len is not None and have_len is not None:
            pairs.append(("time window days", want_len, have_len))
    for name, want, got in pairs:
        if want != got:
            diffs.append(f"{name}: AMC has {got!r}, wanted {want!r}")
    return diffs


def _window_days(start: Any, end: Any) -> float | None:
    try:
        first = datetime.strptime(str(start), "%Y-%m-%dT%H:%M:%SZ")
        last = datetime.strptime(str(end), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return (last - first).total_seconds() / 86400


def _sql(text: Any) -> str:
    return " ".join(str(text or "").split()).rstrip(";").lower()


# -- datasets -----------------------------------------------------------------------------------

_COLUMN_DEFAULTS: dict[str, Any] = {
    "nullable": True,
    "isMainEventTime": False,
    "isMainUserId": False,
    "isMainUserIdType": False,
    "isCountryCode": False,
    "requiresOneWayHashing": False,
    "externalUserIdType": None,
    "consentType": None,
}
_COMPARED = ("dataType", "columnType", *_COLUMN_DEFAULTS)


@dataclass(frozen=True)
class DatasetDiff:
    """Differences between a CreateDataSet body and the dataset AMC holds."""

    missing_columns: tuple[Mapping[str, Any], ...] = ()
    changed: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def matches(self) -> bool:
        return not (self.missing_columns or self.changed or self.extra_columns)

    @property
    def only_addable_columns(self) -> bool:
        """True when the only difference is new nullable columns (the column API can add them)."""
        addable = all(
            c.get("nullable", True)
            and not any(
                c.get(k)
                for k in ("isMainEventTime", "isMainUserId", "isMainUserIdType", "isCountryCode")
            )
            for c in self.missing_columns
        )
        return (
            bool(self.missing_columns) and addable and not self.changed and not self.extra_columns
        )

    def lines(self) -> list[str]:
        out = [f"column {c.get('name')!r} is not in AMC" for c in self.missing_columns]
        out += list(self.changed)
        out += [
            f"column {name!r} is in AMC but not in the definition" for name in self.extra_columns
        ]
        return out


def dataset_differences(wanted_body: Mapping[str, Any], existing: Dataset) -> DatasetDiff:
    wanted = dict(wanted_body.get("dataSet", wanted_body))
    want_cols = {str(c["name"]): c for c in wanted.get("columns", [])}
    have_cols = {str(c.get("name")): c for c in existing.columns}
    missing = tuple(c for name, c in want_cols.items() if name not in have_cols)
    changed: list[str] = []
    for name, want in want_cols.items():
        have = have_cols.get(name)
        if have is None:
            continue
        for key in _COMPARED:
            w = _col_value(want, key)
            h = _col_value(have, key)
            if w != h:
                changed.append(f"column {name!r} {key}: AMC has {h!r}, definition says {w!r}")
    extra = tuple(
        name
        for name, c in have_cols.items()
        if name not in want_cols and not (c.get("isMainUserId") or c.get("isMainUserIdType"))
    )
    is_fact = any(c.get("isMainEventTime") for c in want_cols.values())
    want_period = wanted.get("period") or ("P1D" if is_fact else None)
    have_period = existing.period or ("P1D" if is_fact else None)
    if want_period != have_period:
        changed.append(f"period: AMC has {have_period!r}, definition says {want_period!r}")
    if (wanted.get("countryCode") or None) != existing.country_code:
        changed.append(
            f"countryCode: AMC has {existing.country_code!r}, "
            f"definition says {wanted.get('countryCode')!r}"
        )
    return DatasetDiff(missing_columns=missing, changed=tuple(changed), extra_columns=extra)


def _col_value(column: Mapping[str, Any], key: str) -> Any:
    if key == "nullable" and "nullable" not in column and "isNullable" in column:
        return bool(column["isNullable"])
    value = column.get(key, _COLUMN_DEFAULTS.get(key))
    return _COLUMN_DEFAULTS.get(key) if value is None else value


def wrap_dataset_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Accept `{dataSet: {...}}` or the bare DataSet object; return the wrapped form."""
    if "dataSet" in body:
        return dict(body)
    return {"dataSet": dict(body)}
