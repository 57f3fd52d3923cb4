"""The row path of an upload: check one record against the dataset, convert its values and
resolve its user id (`upload_rows` reads the objects; `screen` is the batch path, which hands
every row it is unsure of to this one).

Like AMC, one bad row or column fails the whole upload; the message names the object, the row
(1-based data row, header excluded) and the column, never the value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NamedTuple

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.matching import IdentityColumns, resolve
from adu_pipeline.emulator.models.s3io import UploadFailed, s3_client

__all__ = [
    "CheckedRow",
    "RowChecker",
    "UploadFailed",
    "convert",
    "identity_key",
    "s3_client",
]

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT_TEXT = re.compile(r"^[+-]?\d+$")
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1), "LONG": (-(2**63), 2**63 - 1)}


class CheckedRow(NamedTuple):
    """A row as stored: its partition, its values (identifiers dropped) and, apart, the
    identifiers as `identity_key`s, kept only so a user deletion request can find the row."""

    partition: str
    row: dict
    identities: list[str]


def identity_key(identity_type: str, value: str) -> str:
    """The one spelling of an identifier a deletion matches on: `EMAIL|<sha256>`, `MAID|<id>`.

    HashedPiiType and ExternalIdentityType names never collide; hashes and MAIDs are compared
    lowercase (MAIDs are case-insensitive UUIDs), other external ids as sent."""
    if identity_type == "MAID" or SHA256_HEX.match(value.lower()):
        value = value.lower()
    return f"{identity_type}|{value}"


# --- checking ---------------------------------------------------------------------------------


class RowChecker:
    """Converts one parsed record into a stored row, or fails the upload naming row and column."""

    def __init__(self, dataset: dict, upload_country: str | None, config: EmulatorConfig):
        columns = dataset["columns"]
        self.config = config
        self.user_id_col = next((c["name"] for c in columns if c.get("isMainUserId")), None)
        self.user_type_col = next((c["name"] for c in columns if c.get("isMainUserIdType")), None)
        self.reserved = {n for n in (self.user_id_col, self.user_type_col) if n}
        self.columns = [c for c in columns if c["name"] not in self.reserved]
        self.by_name = {c["name"]: c for c in self.columns}
        self.identity_names = [c["name"] for c in self.columns if rules.is_identity(c)]
        self.identity_types = {
            c["name"]: rules.hashed_pii_type(c) or c["externalUserIdType"]["externalIdentity"]
            for c in self.columns
            if rules.is_identity(c)
        }
        self.identity = IdentityColumns.of(self.columns)
        self.country_col = next((c["name"] for c in self.columns if c.get("isCountryCode")), None)
        self.default_country = upload_country or dataset.get("countryCode")
        event = rules.main_event_time(self.columns)
        self.event_col = event["name"] if event else None
        self.period = dataset.get("period") or "P1D"
        self.matched = 0
        self.echo_unknown_names = True

    def check(self, record: dict, where: str) -> CheckedRow:
        for name in record:
            if name in self.reserved:
                raise UploadFailed(
                    f"{where} column {name}: the resolved user id columns must not be uploaded."
                )
            if name not in self.by_name:
                if self.echo_unknown_names and SAFE_NAME.match(name):
                    raise UploadFailed(f"{where} column {name}: not a column of the data set.")
                position = list(record).index(name) + 1
                raise UploadFailed(
                    f"{where}: field {position} of the header is not a column of the data set "
                    f"(expected: {', '.join(self.by_name)})."
                )
        row = {}
        for name, column in self.by_name.items():
            row[name] = convert(record.get(name), column, f"{where} column {name}")
        has_country = bool(self.default_country) or bool(self.country_col and row[self.country_col])
        if self.config.require_country_for_matching is False:
            has_country = True
        if self.user_id_col:
            user_id, user_type = resolve(row, self.identity, self.config.match_shares, has_country)
            row[self.user_id_col] = user_id
            if self.user_type_col:
                row[self.user_type_col] = user_type
            self.matched += user_id is not None
        identities = [
            identity_key(self.identity_types[name], row[name])
            for name in self.identity_names
            if row[name]
        ]
        for name in self.identity_names:
            row[name] = None  # AMC keeps only the resolved user id, never the identifiers
        return CheckedRow(self.partition(row), row, identities)

    def partition(self, row: dict) -> str:
        if not self.event_col:
            return ""
        value = row[self.event_col]
        if self.period == "PT1H":
            return value[:13] if "T" in value else value + "T00"
        return value[:7] if self.period == "P1M" else value[:10]


def convert(value: Any, column: dict, where: str) -> Any:
    """One value to its stored form (str, int, decimal text, ISO time text) or fail."""
    if value is None or (isinstance(value, str) and value == "" and column["dataType"] != "STRING"):
        if column.get("isMainEventTime"):
            raise UploadFailed(f"{where}: the main event time must not be null.")
        if not column.get("nullable", True):
            raise UploadFailed(f"{where}: null in a non-nullable column.")
        return None
    data_type = column["dataType"]
    if data_type == "STRING":
        out = _string(value, where)
        if rules.hashed_pii_type(column) and not SHA256_HEX.match(out):
            raise UploadFailed(
                f"{where}: hashed PII must be a SHA-256 hex digest (64 lowercase hex characters)."
            )
        if column.get("isCountryCode") and not re.fullmatch(r"[A-Z]{2}", out):
            raise UploadFailed(f"{where}: country code must be an ISO 3166 alpha-2 code.")
        return out
    if data_type in INT_RANGE:
        return _integer(value, data_type, where)
    if data_type == "DECIMAL":
        return _decimal(value, where)
    if data_type == "TIMESTAMP":
        return _timestamp(value, where)
    return _date(value, where)


def _string(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise UploadFailed(f"{where}: expected a STRING value.")
    return value if isinstance(value, str) else str(value)


def _integer(value: Any, data_type: str, where: str) -> int:
    if isinstance(value, bool):
        raise UploadFailed(f"{where}: expected an {data_type} value.")
    if isinstance(value, str) and INT_TEXT.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise UploadFailed(f"{where}: expected an {data_type} value.")
    low, high = INT_RANGE[data_type]
    if not low <= value <= high:
        raise UploadFailed(f"{where}: value out of range for {data_type}.")
    return value


def _decimal(value: Any, where: str) -> str:
    if isinstance(value, bool):
        raise UploadFailed(f"{where}: expected a DECIMAL value.")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise UploadFailed(f"{where}: expected a DECIMAL value.") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 16:
        raise UploadFailed(f"{where}: DECIMAL value out of range.")
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _timestamp(value: Any, where: str) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and TIMESTAMP_TEXT.match(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UploadFailed(f"{where}: not a valid TIMESTAMP.") from None
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise UploadFailed(f"{where}: TIMESTAMP must be yyyy-MM-ddTHH:mm:ssZ.")


def _date(value: Any, where: str) -> str:
    if isinstance(value, datetime):
        raise UploadFailed(f"{where}: DATE must be yyyy-MM-dd, not a timestamp.")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and DATE_TEXT.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise UploadFailed(f"{where}: not a valid DATE.") from None
    raise UploadFailed(f"{where}: DATE must be yyyy-MM-dd.")
