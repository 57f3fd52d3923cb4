"""What separates the object we want from the one AMC holds: one diff per kind of object.

`audience_differences` and `dataset_differences` are the only comparisons the project makes; the
client's `ensure_*` flows, the CLI and the Dagster assets all go through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adu_pipeline.amc.bodies import (
    DEFAULT_REFRESH_RATE_DAYS,
    audience_country,
    parse_amc_timestamp,
    wrap_dataset_body,
)
from adu_pipeline.amc.config import AmcConfigError
from adu_pipeline.amc.models import Audience, Dataset

DEFAULT_PERIOD = "P1D"  # AMC's period for a FACT dataset created without one
# Columns AMC adds to every dataset for identity resolution; never ours to diff.
AMC_MANAGED_COLUMNS = ("user_id", "user_type", "user_id_type")
# Column fields compared, with the value AMC assumes when a field is absent.
COLUMN_FIELDS: dict[str, Any] = {
    "dataType": None,
    "columnType": None,
    "nullable": True,
    "hashedPii": None,
    "externalIdentity": None,
    "isMainEventTime": False,
    "isCountryCode": False,
    "isMainUserId": False,
    "isMainUserIdType": False,
    "consentType": None,
}


# -- audiences ----------------------------------------------------------------------------------


def audience_differences(wanted_body: Mapping[str, Any], existing: Audience) -> list[str]:
    """Why an audience of the same name is not the one `wanted_body` would create (one line each).

    The query is compared ignoring whitespace and a trailing `;`. A relative window slides at each
    refresh, so only its length must agree; a fixed window's bounds must agree exactly.
    refreshRateDays defaults to AMC's 21 on both sides, and countryCode GB equals UK.
    """
    have = existing.raw
    lines: list[str] = []
    if _squash_sql(wanted_body.get("query")) != _squash_sql(existing.query):
        lines.append("query differs (whitespace and a trailing ';' ignored)")
    want_relative = _truthy(wanted_body.get("timeWindowRelative", False))
    have_relative = bool(existing.time_window_relative)
    if want_relative != have_relative:
        lines.append(_line("timeWindowRelative", have_relative, want_relative))
    else:
        lines += _window_differences(wanted_body, have, relative=want_relative)
    pairs = (
        ("advertiserId", existing.advertiser_id, _opt_str(wanted_body.get("advertiserId"))),
        (
            "refreshRateDays",
            _refresh(existing.refresh_rate_days),
            _refresh(wanted_body.get("refreshRateDays")),
        ),
        (
            "countryCode",
            _country(have.get("countryCode")),
            _country(wanted_body.get("countryCode")),
        ),
    )
    lines += [_line(name, got, want) for name, got, want in pairs if got != want]
    return lines


def _window_differences(wanted: Mapping[str, Any], have: Mapping[str, Any], *, relative: bool):
    want_start, want_end = _window(wanted)
    have_start, have_end = _window(have)
    if want_start is None or want_end is None:
        return ["the wanted body has no readable timeWindowStart/timeWindowEnd"]
    if have_start is None or have_end is None:
        return ["the audience in AMC has no readable timeWindowStart/timeWindowEnd"]
    if relative:
        want_days = (want_end - want_start).total_seconds() / 86400
        have_days = (have_end - have_start).total_seconds() / 86400
        return [] if want_days == have_days else [_line("time window days", have_days, want_days)]
    if (want_start, want_end) == (have_start, have_end):
        return []
    return [
        _line(
            "time window",
            f"{have.get('timeWindowStart')}..{have.get('timeWindowEnd')}",
            f"{wanted.get('timeWindowStart')}..{wanted.get('timeWindowEnd')}",
        )
    ]


def _window(obj: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    def read(key: str) -> datetime | None:
        try:
            return parse_amc_timestamp(obj[key], key)
        except (KeyError, AmcConfigError):
            return None

    return read("timeWindowStart"), read("timeWindowEnd")


def _squash_sql(text: Any) -> str:
    return " ".join(str(text or "").split()).rstrip(";").rstrip()


def _truthy(value: Any) -> bool:
    """The guide's example sends "TRUE" as a string; the spec says boolean."""
    return value.strip().upper() == "TRUE" if isinstance(value, str) else bool(value)


def _refresh(value: Any) -> int:
    return DEFAULT_REFRESH_RATE_DAYS if value is None or value == "" else int(value)


def _country(value: Any) -> str | None:
    return audience_country(str(value)) if value else None


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _line(name: str, have: Any, want: Any) -> str:
    return f"{name}: AMC has {_show(have)}, wanted {_show(want)}"


# -- datasets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetDiff:
    """What separates a CreateDataSet body from the dataset AMC holds.

    AMC lets a dataset grow by nullable columns (AddColumnToDataSet) and change descriptions;
    anything else would need a new dataset, so it is a blocking difference for a person to
    resolve. Nothing here ever suggests deleting.
    """

    addable_columns: tuple[Mapping[str, Any], ...] = ()  # AMC Column bodies for AddColumn
    differences: tuple[str, ...] = ()  # blocking, one line each
    notes: tuple[str, ...] = ()  # harmless (descriptions)

    @property
    def is_compatible(self) -> bool:
        """True when AMC's dataset can be brought to the body without loss (adding columns)."""
        return not self.differences

    @property
    def is_identical(self) -> bool:
        """True when nothing needs doing (notes aside)."""
        return not (self.differences or self.addable_columns)

    @property
    def addable_names(self) -> tuple[str, ...]:
        return tuple(str(c.get("name")) for c in self.addable_columns)

    def format(self) -> str:
        lines = [f"- {d}" for d in self.differences]
        lines += [f"- column '{n}' can be added (new, nullable)" for n in self.addable_names]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) if lines else "no differences"


def dataset_differences(wanted_body: Mapping[str, Any], existing: Dataset) -> DatasetDiff:
    """Diff a CreateDataSet body (`{"dataSet": {...}}` or the bare object) against GetDataSet."""
    wanted = wrap_dataset_body(wanted_body)["dataSet"]
    want_columns = {str(c.get("name")): c for c in wanted.get("columns") or []}
    differences, notes = _dataset_fields(wanted, existing, want_columns)
    have_columns = {
        str(c.get("name")): c for c in existing.columns if not _amc_managed(c, want_columns)
    }
    addable: list[Mapping[str, Any]] = []
    for name, column in want_columns.items():
        if name not in have_columns:
            reason = _why_not_addable(column)
            if reason:
                differences.append(f"column '{name}' is new but cannot be added: {reason}")
            else:
                addable.append(column)
            continue
        differences += _column_differences(name, column, have_columns[name])
        if (have_columns[name].get("description") or "") != (column.get("description") or ""):
            notes.append(f"column '{name}': description differs")
    differences += [
        f"column '{name}' exists in AMC but not in the definition "
        "(columns are never deleted; add it back to the definition)"
        for name in have_columns
        if name not in want_columns
    ]
    return DatasetDiff(tuple(addable), tuple(differences), tuple(notes))


def _dataset_fields(
    wanted: Mapping[str, Any], existing: Dataset, columns: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    differences: list[str] = []
    notes: list[str] = []
    want_id = str(wanted.get("dataSetId") or "")
    if existing.dataset_id and want_id and existing.dataset_id != want_id:
        differences.append(
            f"dataSetId is {existing.dataset_id} in AMC, {want_id} in the definition"
        )
    if any(_truthy(c.get("isMainEventTime")) for c in columns.values()):  # FACT: period counts
        want_period = wanted.get("period") or DEFAULT_PERIOD
        have_period = existing.period or DEFAULT_PERIOD
        if want_period != have_period:
            differences.append(f"period is {have_period} in AMC, {want_period} in the definition")
    want_country = wanted.get("countryCode") or None
    if existing.country_code != want_country:
        differences.append(
            f"countryCode is {_show(existing.country_code)} in AMC, "
            f"{_show(want_country)} in the definition"
        )
    if (existing.description or "") != (wanted.get("description") or ""):
        notes.append("dataset description differs")
    return differences, notes


def _amc_managed(column: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """user_id / user_type columns AMC adds itself for identity resolution."""
    if _truthy(column.get("isMainUserId")) or _truthy(column.get("isMainUserIdType")):
        return True
    name = column.get("name")
    return name in AMC_MANAGED_COLUMNS and name not in wanted


def _why_not_addable(column: Mapping[str, Any]) -> str | None:
    fields = _fields(column)
    if fields["isMainEventTime"]:
        return "a main event time column changes the dataset's type"
    if fields["isCountryCode"]:
        return "AMC cannot turn an existing dataset's rows into a country-code column"
    if fields["isMainUserId"] or fields["isMainUserIdType"]:
        return "AMC manages the user id columns itself"
    if not fields["nullable"]:
        return "it is not nullable (rows already uploaded have no value)"
    return None


def _fields(column: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields of an AMC Column, defaults filled (and the older `isNullable`)."""
    id_type = column.get("externalUserIdType") or {}
    flat = dict(column)
    flat["hashedPii"] = id_type.get("hashedPii")
    flat["externalIdentity"] = id_type.get("externalIdentity")
    if "nullable" not in flat and "isNullable" in flat:
        flat["nullable"] = flat["isNullable"]
    return {
        key: default if flat.get(key) is None else flat[key]
        for key, default in COLUMN_FIELDS.items()
    }


def _column_differences(name: str, wanted: Mapping[str, Any], have: Mapping[str, Any]) -> list[str]:
    ours, theirs = _fields(wanted), _fields(have)
    return [
        f"column '{name}': {key} is {_show(theirs[key])} in AMC, "
        f"{_show(ours[key])} in the definition"
        for key in COLUMN_FIELDS
        if ours[key] != theirs[key]
    ]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "not set" if value is None else str(value)
