"""Load a dataset definition YAML and check it against AMC's rules, reporting every violation."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from adu_pipeline.dataset.model import (
    COLUMN_TYPES,
    CONSENT_TYPES,
    DATA_TYPES,
    EVENT_TIME_TYPES,
    EXTERNAL_IDENTITY_TYPES,
    HASHED_PII_TYPES,
    PERIODS,
    ColumnDefinition,
    DatasetDefinition,
    DefinitionError,
)
from adu_pipeline.dataset.yaml_io import read_yaml_mapping, unknown_key_problems
from adu_pipeline.normalization import SUPPORTED_COUNTRIES, PiiType

DATASET_KEYS = {"id", "description", "period", "countryCode", "columns"}
COLUMN_KEYS = {
    "name", "source", "description", "dataType", "columnType", "hashedPii", "externalIdentity",
    "isCountryCode", "isMainEventTime", "nullable", "consentType",
}  # fmt: skip
# Columns AMC creates and fills itself after identity resolution; uploads must not define them.
AMC_MANAGED_KEYS = ("isMainUserId", "isMainUserIdType")
RESERVED_NAMES = ("user_id", "user_type", "user_id_type")
MAX_COLUMNS = 100
MAX_DESCRIPTION = 255  # AMC's limit on UpdateDataSet / UpdateColumnInDataSet descriptions
ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
COLUMN_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


def load_definition(path: str | Path) -> DatasetDefinition:
    """Read and validate one dataset YAML file; raises DefinitionError listing every problem."""
    data = read_yaml_mapping(path, "dataset definition")
    return parse_definition(data, path=str(path))


def parse_definition(data: dict[str, Any], path: str = "<definition>") -> DatasetDefinition:
    """Validate an already-parsed mapping (same rules and messages as load_definition)."""
    problems: list[str] = unknown_key_problems("", data, DATASET_KEYS)
    dataset_id = _check_id(data.get("id"), problems)
    description = _check_description("", data.get("description", ""), problems)
    columns = _parse_columns(data.get("columns"), problems)
    period = data.get("period")
    country = data.get("countryCode")
    if columns is not None:
        _check_dataset_rules(columns, data["columns"], period, country, problems)
    if problems:
        raise DefinitionError(path, problems)
    assert columns is not None and dataset_id is not None
    return DatasetDefinition(
        id=dataset_id,
        description=description,
        period=period,
        country_code=country,
        columns=tuple(columns),
        path=path,
    )


def _check_id(value: Any, problems: list[str]) -> str | None:
    if value is None:
        problems.append("id is required")
    elif not isinstance(value, str):
        problems.append("id must be a string")
    elif value == "list":
        problems.append("id must not be 'list' (AMC reserves it for the list operation)")
    elif not ID_PATTERN.match(value):
        problems.append(
            f"id '{value}' must match ^[a-z0-9_]+$ (lowercase letters, digits and '_' only)"
        )
    else:
        return value
    return None


def _check_description(prefix: str, value: Any, problems: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{prefix}description must be a string")
        return ""
    if len(value) > MAX_DESCRIPTION:
        problems.append(
            f"{prefix}description has {len(value)} characters; AMC allows at most {MAX_DESCRIPTION}"
        )
    return value


def _parse_columns(value: Any, problems: list[str]) -> list[ColumnDefinition] | None:
    if not isinstance(value, list) or not value:
        problems.append("columns is required and must be a non-empty list")
        return None
    if len(value) > MAX_COLUMNS:
        problems.append(f"columns has {len(value)} entries; AMC allows at most {MAX_COLUMNS}")
    columns = []
    for position, raw in enumerate(value, start=1):
        column = _parse_column(position, raw, problems)
        if column is not None:
            columns.append(column)
    return columns


def _label(position: int, raw: dict[str, Any]) -> str:
    name = raw.get("name")
    return f"column '{name}': " if isinstance(name, str) and name else f"column #{position}: "


def _parse_column(position: int, raw: Any, problems: list[str]) -> ColumnDefinition | None:
    if not isinstance(raw, dict):
        problems.append(f"column #{position}: must be a mapping (name: ..., dataType: ...)")
        return None
    prefix = _label(position, raw)
    before = len(problems)
    for key in AMC_MANAGED_KEYS:
        if key in raw:
            problems.append(
                f"{prefix}{key} is not allowed in an upload definition: AMC adds the resolved "
                "user id and user id type columns itself"
            )
    problems.extend(unknown_key_problems(prefix, raw, COLUMN_KEYS | set(AMC_MANAGED_KEYS)))

    name = raw.get("name")
    if name is None:
        problems.append(f"{prefix}name is required")
    elif not isinstance(name, str) or not COLUMN_NAME_PATTERN.match(name):
        problems.append(
            f"{prefix}name must start with a letter or '_' and hold only letters, digits and '_'"
        )
    elif name.lower() in RESERVED_NAMES:
        problems.append(f"{prefix}name '{name}' is reserved for the column AMC adds itself")

    data_type = _enum(prefix, "dataType", raw.get("dataType"), DATA_TYPES, problems, required=True)
    column_type = _enum(
        prefix, "columnType", raw.get("columnType"), COLUMN_TYPES, problems, required=True
    )
    flags = {
        key: _flag(prefix, key, raw.get(key), default, problems)
        for key, default in (
            ("nullable", True),
            ("isCountryCode", False),
            ("isMainEventTime", False),
        )
    }
    hashed = _hashed_pii(prefix, raw.get("hashedPii"), problems)
    external = _enum(prefix, "externalIdentity", raw.get("externalIdentity"),
                     EXTERNAL_IDENTITY_TYPES, problems)  # fmt: skip
    consent = _enum(prefix, "consentType", raw.get("consentType"), CONSENT_TYPES, problems)
    source = raw.get("source")
    if source is None and not flags["isMainEventTime"]:
        problems.append(
            f"{prefix}source is required (the CRM export column it is read from); only the "
            "main event time column may leave it out to be filled with the export date"
        )
    elif source is not None and (not isinstance(source, str) or not source.strip()):
        problems.append(f"{prefix}source must be a non-empty string")
    description = _check_description(prefix, raw.get("description", ""), problems)

    if "hashedPii" in raw and "externalIdentity" in raw:
        problems.append(f"{prefix}hashedPii and externalIdentity are mutually exclusive")
    if hashed is not None or external is not None:
        if data_type not in (None, "STRING"):
            problems.append(
                f"{prefix}an identity column must have dataType STRING, not {data_type}"
            )
        if column_type not in (None, "DIMENSION"):
            problems.append(
                f"{prefix}an identity column must have columnType DIMENSION, not {column_type}"
            )
    if flags["isMainEventTime"] and data_type is not None and data_type not in EVENT_TIME_TYPES:
        problems.append(
            f"{prefix}isMainEventTime needs dataType DATE or TIMESTAMP, not {data_type}"
        )
    if flags["isCountryCode"]:
        if data_type not in (None, "STRING"):
            problems.append(f"{prefix}a country code column must have dataType STRING")
        if hashed is not None or external is not None:
            problems.append(f"{prefix}a country code column cannot also be an identity column")
        if flags["isMainEventTime"]:
            problems.append(f"{prefix}a country code column cannot be the main event time")
    if consent is not None and data_type not in (None, "STRING"):
        problems.append(f"{prefix}a consent column must have dataType STRING")
    if len(problems) > before:
        return None
    return ColumnDefinition(
        name=name,
        data_type=data_type,
        column_type=column_type,
        source=source,
        description=description,
        nullable=flags["nullable"],
        hashed_pii=PiiType(hashed) if hashed else None,
        external_identity=external,
        is_country_code=flags["isCountryCode"],
        is_main_event_time=flags["isMainEventTime"],
        consent_type=consent,
    )


def _enum(prefix, key, value, allowed, problems, required=False) -> str | None:
    if value is None:
        if required:
            problems.append(f"{prefix}{key} is required (one of {', '.join(allowed)})")
        return None
    if value not in allowed:
        shown = value if isinstance(value, str) else type(value).__name__
        problems.append(f"{prefix}{key} '{shown}' must be one of {', '.join(allowed)}")
        return None
    return value


def _flag(prefix: str, key: str, value: Any, default: bool, problems: list[str]) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.append(f"{prefix}{key} must be true or false")
        return default
    return value


def _hashed_pii(prefix: str, value: Any, problems: list[str]) -> str | None:
    if value == "COUNTRY_CODE":
        problems.append(
            f"{prefix}hashedPii COUNTRY_CODE is not supported (Amazon documents no normalization "
            "for it); mark a plain column with isCountryCode: true instead"
        )
        return None
    return _enum(prefix, "hashedPii", value, HASHED_PII_TYPES, problems)


def _check_dataset_rules(
    columns: list[ColumnDefinition],
    raw_columns: list[Any],
    period: Any,
    country: Any,
    problems: list[str],
) -> None:
    """Rules that span columns: uniqueness, one event time / country column, period, country.

    Period and country rules read the raw columns too, so one invalid column does not also
    trigger a misleading dataset-level problem."""
    raw = [c for c in raw_columns if isinstance(c, dict)]
    _check_unique(columns, "name", lambda c: c.name, problems)
    _check_unique(columns, "source", lambda c: c.source, problems)
    consent_users = defaultdict(list)
    for column in columns:
        if column.consent_type:
            consent_users[column.consent_type].append(column.name)
    for consent, names in consent_users.items():
        if len(names) > 1:
            problems.append(
                f"consentType {consent} is used by columns {', '.join(names)}; "
                "AMC allows each consent type once per dataset"
            )
    event_times = [c for c in columns if c.is_main_event_time]
    if len(event_times) > 1:
        problems.append(
            "only one column may have isMainEventTime: true (found "
            f"{', '.join(c.name for c in event_times)})"
        )
    country_columns = [c.name for c in columns if c.is_country_code]
    if len(country_columns) > 1:
        problems.append(
            f"only one column may have isCountryCode: true (found {', '.join(country_columns)})"
        )
    raw_event_times = [c for c in raw if c.get("isMainEventTime") is True]
    _check_period(period, raw_event_times, problems)
    has_identity = any(c.get("hashedPii") or c.get("externalIdentity") for c in raw)
    has_pii = any(c.get("hashedPii") for c in raw)
    _check_country(country, has_identity, has_pii, problems)


def _check_unique(columns, what, key, problems) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for column in columns:
        if key(column) is not None:
            owners[key(column)].append(column.name)
    for value, names in owners.items():
        if len(names) > 1:
            if what == "name":
                problems.append(f"column '{value}': name is used by {len(names)} columns")
            else:
                problems.append(
                    f"columns {', '.join(names)}: share the {what} '{value}'; each export column "
                    "maps to one dataset column"
                )


def _check_period(period: Any, event_times: list[dict[str, Any]], problems: list[str]) -> None:
    if period is None:
        return
    if period not in PERIODS:
        shown = period if isinstance(period, str) else type(period).__name__
        problems.append(f"period '{shown}' must be one of {', '.join(PERIODS)}")
    elif not event_times:
        problems.append(
            "period is only allowed for FACT datasets (a column with isMainEventTime: true); "
            "leave it out for a DIMENSION dataset"
        )
    elif period == "PT1H" and event_times[0].get("dataType") == "DATE":
        problems.append(
            "period PT1H needs a TIMESTAMP main event time; "
            f"column '{event_times[0].get('name')}' is DATE"
        )


def _check_country(country: Any, has_identity: bool, has_pii: bool, problems: list[str]) -> None:
    if country is None:
        return
    if isinstance(country, bool):
        problems.append("countryCode must be a string (quote it, e.g. countryCode: 'NO')")
    elif not isinstance(country, str) or not COUNTRY_PATTERN.match(country):
        shown = country if isinstance(country, str) else type(country).__name__
        problems.append(f"countryCode '{shown}' must be an ISO-3166 alpha-2 code (^[A-Z]{{2}}$)")
    elif country == "UK":
        problems.append("countryCode 'UK' is not ISO-3166: use 'GB' for the United Kingdom")
    elif not has_identity:
        problems.append(
            "countryCode is only allowed when the dataset has identity columns "
            "(hashedPii or externalIdentity)"
        )
    elif has_pii and country not in SUPPORTED_COUNTRIES:
        problems.append(
            f"countryCode '{country}' has no PII normalization rules here "
            f"(supported: {', '.join(sorted(SUPPORTED_COUNTRIES))})"
        )
