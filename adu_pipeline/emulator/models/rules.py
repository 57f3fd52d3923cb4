"""AMC's semantic rules for dataset and upload bodies (API.md sections 2-3), beyond the schemas.

Each check returns every violation so a caller fixes its body in one round trip.
"""

from __future__ import annotations

import re
from typing import Any

DATA_SET_ID = re.compile(r"^[a-z0-9_]+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_COLUMNS = 100
USER_ID_COLUMN = "user_id"
USER_ID_TYPE_COLUMN = "user_id_type"
COMPRESSIONS = ("GZIP", "BZIP", "SNAPPY", "ZIP", "NONE")
MAX_DATASETS = 5000
SOURCE_KEYS = ("sourceFileS3Key", "sourceS3Prefix", "sourceManifestS3Key")
FORMAT_KEYS = ("csvDataFormat", "jsonDataFormat", "parquetDataFormat")
SINGLE_CHARACTER_CSV_OPTIONS = ("quoteCharacter", "quoteEscapeCharacter", "commentCharacter")

COLUMN_DEFAULTS = {
    "description": "",
    "nullable": True,
    "isMainEventTime": False,
    "isMainUserId": False,
    "isMainUserIdType": False,
    "isCountryCode": False,
    "requiresOneWayHashing": False,
}


def with_defaults(column: dict) -> dict:
    """The column with AMC's defaults for every optional flag it leaves out."""
    return {**column, **{k: v for k, v in COLUMN_DEFAULTS.items() if k not in column}}


def is_identity(column: dict) -> bool:
    return bool(column.get("externalUserIdType"))


def hashed_pii_type(column: dict) -> str | None:
    return (column.get("externalUserIdType") or {}).get("hashedPii")


def main_event_time(columns: list[dict]) -> dict | None:
    return next((c for c in columns if c.get("isMainEventTime")), None)


def column_errors(column: dict, where: str) -> list[str]:
    """Rules for one column, on create and on add."""
    errors = []
    name = column.get("name", "")
    if not name.strip() or any(ch.isspace() for ch in name):
        errors.append(f"{where}: column name must be non-empty and contain no spaces")
    if column.get("isMainEventTime") and column.get("dataType") not in ("TIMESTAMP", "DATE"):
        errors.append(f"{where}: the main event time column must be TIMESTAMP or DATE")
    for flag in ("isMainUserId", "isMainUserIdType"):
        if column.get(flag) and column.get("columnType") == "METRIC":
            errors.append(f"{where}: a {flag} column cannot be METRIC")
        if column.get(flag) and column.get("dataType") != "STRING":
            errors.append(f"{where}: a {flag} column must be STRING")
    if hashed_pii_type(column) and column.get("dataType") != "STRING":
        errors.append(f"{where}: a hashedPii column must be STRING")
    if column.get("isCountryCode") and column.get("dataType") != "STRING":
        errors.append(f"{where}: the country code column must be STRING")
    if is_identity(column) and (column.get("isMainUserId") or column.get("isMainUserIdType")):
        errors.append(f"{where}: an identity column cannot also be the main user id")
    return errors


def dataset_errors(ds: dict) -> list[str]:
    """Rules of API.md 2.1/2.2 for a CreateDataSet body's `dataSet`."""
    errors = []
    data_set_id = ds.get("dataSetId", "")
    if data_set_id == "list" or not DATA_SET_ID.match(data_set_id):
        errors.append(
            "dataSetId must use only lowercase letters, digits and '_' (and not be 'list')"
        )
    columns = ds.get("columns", [])
    if not columns:
        errors.append("columns must hold at least one column")
    if len(columns) > MAX_COLUMNS:
        errors.append(f"columns: at most {MAX_COLUMNS} columns are allowed")
    seen: set[str] = set()
    for i, column in enumerate(columns):
        name = column.get("name", "")
        where = f"columns/{i} ({name})"
        errors += column_errors(column, where)
        if name.lower() in seen:
            errors.append(f"{where}: duplicate column name")
        seen.add(name.lower())
    for flag in ("isMainEventTime", "isMainUserId", "isMainUserIdType", "isCountryCode"):
        if sum(1 for c in columns if c.get(flag)) > 1:
            errors.append(f"columns: at most one column may set {flag}")
    consents = [c["consentType"] for c in columns if c.get("consentType")]
    if len(consents) != len(set(consents)):
        errors.append("columns: each consentType may be used by one column only")
    if ds.get("period") and not main_event_time(columns):
        errors.append("period applies to FACT datasets only (a column with isMainEventTime)")
    if ds.get("countryCode") and not any(is_identity(c) for c in columns):
        errors.append(
            "Country code cannot be specified for a data set that does not contain identity"
        )
    has_identity = any(is_identity(c) for c in columns)
    for reserved in (USER_ID_COLUMN, USER_ID_TYPE_COLUMN):
        clash = next((c for c in columns if c.get("name") == reserved), None)
        if (
            has_identity
            and clash
            and not (clash.get("isMainUserId") or clash.get("isMainUserIdType"))
        ):
            errors.append(f"column name {reserved} is reserved for the resolved user id")
    return errors


def normalized_dataset(ds: dict) -> dict:
    """The dataset as AMC stores it: defaults filled, user id columns added for identity data."""
    columns = [with_defaults(c) for c in ds["columns"]]
    if any(is_identity(c) for c in columns):
        if not any(c["isMainUserId"] for c in columns):
            columns.append(_user_column(USER_ID_COLUMN, "isMainUserId", "Resolved AMC user id."))
        if not any(c["isMainUserIdType"] for c in columns):
            columns.append(
                _user_column(USER_ID_TYPE_COLUMN, "isMainUserIdType", "Resolved user id type.")
            )
    out: dict[str, Any] = {
        "dataSetId": ds["dataSetId"],
        "description": ds.get("description", ""),
        "columns": columns,
    }
    if main_event_time(columns):
        out["period"] = ds.get("period") or "P1D"
    for key in ("countryCode", "customerEncryptionKeyArn"):
        if ds.get(key):
            out[key] = ds[key]
    return out


def _user_column(name: str, flag: str, description: str) -> dict:
    return with_defaults(
        {
            "name": name,
            "columnType": "DIMENSION",
            "dataType": "STRING",
            "description": description,
            flag: True,
        }
    )


def upload_errors(body: dict, dataset: dict) -> list[str]:
    """Rules of API.md 3.1 plus what the emulator supports, for a CreateUpload body."""
    errors = []
    source = body.get("dataSource") if isinstance(body.get("dataSource"), dict) else {}
    given = [k for k in SOURCE_KEYS if source.get(k)]
    if len(given) != 1:
        errors.append(
            "dataSource must hold exactly one of sourceFileS3Key, sourceS3Prefix, "
            f"sourceManifestS3Key (found {len(given)})"
        )
    fmt = body.get("fileFormat") if isinstance(body.get("fileFormat"), dict) else {}
    formats = [k for k in FORMAT_KEYS if k in fmt]
    if len(formats) != 1:
        errors.append(
            "fileFormat must hold exactly one of csvDataFormat, jsonDataFormat, parquetDataFormat"
        )
    csv_format = fmt.get("csvDataFormat")
    if isinstance(csv_format, dict):
        errors += _csv_errors(csv_format)
    strategy = body.get("updateStrategy")
    if (
        isinstance(strategy, str)
        and strategy.startswith("OVERLAP_")
        and not main_event_time(dataset["columns"])
    ):
        errors.append(
            f"updateStrategy {strategy} applies to FACT datasets only; "
            f"dataset {dataset['dataSetId']} has no main event time column"
        )
    return errors


def _csv_errors(options: dict) -> list[str]:
    """Delimiters may be any non-empty string; quote, escape and comment are one character."""
    errors = []
    for key in ("fieldDelimiter", "recordDelimiter"):
        value = options.get(key)
        if isinstance(value, str) and value == "":
            errors.append(f"csvDataFormat.{key} must not be empty")
    for key in SINGLE_CHARACTER_CSV_OPTIONS:
        value = options.get(key)
        if isinstance(value, str) and len(value) != 1:
            errors.append(f"csvDataFormat.{key} must be a single character")
    field, record = options.get("fieldDelimiter", ","), options.get("recordDelimiter", "\n")
    if isinstance(field, str) and isinstance(record, str) and field and field == record:
        errors.append("csvDataFormat.fieldDelimiter and recordDelimiter must differ")
    return errors
