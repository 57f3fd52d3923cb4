"""Opt-out / deletion files: people who asked to be forgotten, turned into hashes on arrival.

File format (landing folder of opt-outs, e.g. data/optouts/): `optouts_YYYY-MM-DD.csv` (or
.csv.gz), UTF-8, a header row, any of these columns (names in any case; at least one
identifier column):

| column | holds |
|---|---|
| `email` | a raw email address |
| `phone` | a raw phone number (national numbers read with the row's country) |
| `hashed_email`, `hashed_phone` | an already normalized SHA-256, 64 hex characters (any case) |
| `country` | the row's country (ISO alpha-2 or a spelling the pipeline reads, e.g. UK) |

Raw values are normalized and hashed by the pipeline's own normalizer (`hash_pii`), so an
opt-out hash equals the hash of the same person in any upload. Only EMAIL and PHONE are read:
they identify one person (a first name or a ZIP alone would delete strangers). Raw values never
leave this function: results, counts and errors carry hashes, reasons and numbers only.

Per row, each identifier becomes one (hashed type, sha256) identity; a row with none is
rejected with the reason of its first bad value (`invalid_email`, `invalid_phone`,
`invalid_hash`, `country_missing`, ...) or `no_identifier` when it is blank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.errors import InputError
from adu_pipeline.hashing.readers import open_input
from adu_pipeline.normalization import PiiType, hash_pii
from adu_pipeline.staging.landing import parse_landing_name

OPTOUT_STEM = "optouts"
OPTOUT_TYPES = (PiiType.EMAIL, PiiType.PHONE)
RAW_COLUMNS = {"email": PiiType.EMAIL, "phone": PiiType.PHONE}
HASHED_COLUMNS = {"hashed_email": PiiType.EMAIL, "hashed_phone": PiiType.PHONE}
COUNTRY_COLUMN = "country"
KNOWN_COLUMNS = (*RAW_COLUMNS, *HASHED_COLUMNS, COUNTRY_COLUMN)
INVALID_HASH = "invalid_hash"
NO_IDENTIFIER = "no_identifier"
IDENTITY_SCHEMA = pa.schema([("hashed_type", pa.string()), ("sha256", pa.string())])
_HEX64 = "^[0-9a-f]{64}$"
_NULL = pa.scalar(None, pa.string())


@dataclass
class OptOutFileResult:
    """What a file held, value-free: counts by reason and the distinct identities."""

    rows_in: int = 0
    rows_accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # row reason -> rows
    values_invalid: dict[str, int] = field(default_factory=dict)  # "column:reason" -> values
    identities: pa.Table = field(default_factory=IDENTITY_SCHEMA.empty_table)

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def to_dict(self) -> dict[str, int]:
        """Flat counts for metadata and logs (never a value)."""
        out = {
            "rows_in": self.rows_in,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "identities": self.identities.num_rows,
        }
        out.update({f"rejected.{k}": v for k, v in sorted(self.rejected.items())})
        out.update({f"invalid.{k}": v for k, v in sorted(self.values_invalid.items())})
        return out


def is_optout_file(name: str) -> bool:
    """`optouts_YYYY-MM-DD.csv` (or .csv.gz)."""
    parsed = parse_landing_name(name)
    return parsed is not None and parsed[0] == OPTOUT_STEM and name.endswith((".csv", ".csv.gz"))


def read_optout_file(
    path: str | os.PathLike,
    *,
    default_country: str | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> OptOutFileResult:
    """Normalize and hash every row of an opt-out file; every row is accepted or counted."""
    source = open_input(Path(path), encoding=encoding, delimiter=delimiter)
    names = {n.strip().lower(): n for n in source.column_names}
    unknown = len([n for n in names if n not in KNOWN_COLUMNS])
    if unknown or len(names) != len(source.column_names):
        raise InputError(
            f"opt-out file {Path(path).name}: {unknown or 'duplicate'} column name(s) this "
            f"format does not know; use {', '.join(KNOWN_COLUMNS)}"
        )
    if not any(c in names for c in (*RAW_COLUMNS, *HASHED_COLUMNS)):
        raise InputError(
            f"opt-out file {Path(path).name}: no identifier column "
            f"(email, phone, hashed_email or hashed_phone)"
        )
    result = OptOutFileResult()
    parts: list[pa.Table] = []
    for batch in source:
        parts.append(_batch(batch, names, default_country, result))
    table = pa.concat_tables([IDENTITY_SCHEMA.empty_table(), *parts])
    result.identities = _distinct(table)
    return result


def _batch(
    batch: pa.RecordBatch,
    names: dict[str, str],
    default_country: str | None,
    result: OptOutFileResult,
) -> pa.Table:
    n = batch.num_rows
    result.rows_in += n
    countries = _countries(batch, names, default_country, n)
    found: list[tuple[str, PiiType, pa.Array, pa.Array]] = []  # (column, type, hashes, reasons)
    for column, pii_type in RAW_COLUMNS.items():
        if column in names:
            values = batch.column(names[column])
            # email normalization does not depend on the country (COUNTRY_INDEPENDENT)
            where = "US" if pii_type is PiiType.EMAIL else countries
            hashed = hash_pii(values, pii_type, where)
            found.append((column, pii_type, hashed.hashes, hashed.reasons))
    for column, pii_type in HASHED_COLUMNS.items():
        if column in names:
            hashes, reasons = _given_hashes(batch.column(names[column]))
            found.append((column, pii_type, hashes, reasons))
    accepted = pa.array([False] * n)
    first_reason = pa.nulls(n, pa.string())
    tables = []
    for column, pii_type, hashes, reasons in found:
        accepted = pc.or_(accepted, pc.is_valid(hashes))
        bad = pc.and_(pc.is_null(hashes), pc.not_equal(pc.fill_null(reasons, "missing"), "missing"))
        first_reason = pc.coalesce(first_reason, pc.if_else(bad, reasons, _NULL))
        _count(result.values_invalid, pc.filter(reasons, bad), prefix=f"{column}:")
        valid = pc.filter(hashes, pc.is_valid(hashes))
        tables.append(
            pa.table(
                {
                    "hashed_type": pa.array([pii_type.value] * len(valid), pa.string()),
                    "sha256": valid,
                }
            )
        )
    rejected = pc.invert(accepted)
    row_reasons = pc.fill_null(pc.filter(first_reason, rejected), NO_IDENTIFIER)
    _count(result.rejected, row_reasons)
    result.rows_accepted += n - len(row_reasons)
    return pa.concat_tables([IDENTITY_SCHEMA.empty_table(), *tables])


def _countries(
    batch: pa.RecordBatch, names: dict[str, str], default: str | None, n: int
) -> pa.Array | str:
    if COUNTRY_COLUMN not in names:
        return default or ""
    raw = batch.column(names[COUNTRY_COLUMN])
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(raw), ""), True)
    return pc.if_else(blank, pa.scalar(default, pa.string()), raw)


def _given_hashes(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Already-hashed values: 64 hex characters in any case, written lower-case."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    blank = pc.fill_null(pc.equal(pc.binary_length(lowered), 0), True)
    good = pc.fill_null(pc.match_substring_regex(lowered, _HEX64), False)
    hashes = pc.if_else(good, lowered, _NULL)
    reasons = pc.if_else(good, _NULL, pc.if_else(blank, "missing", INVALID_HASH))
    return hashes, reasons


def _count(counts: dict[str, int], reasons: pa.Array, prefix: str = "") -> None:
    for item in pc.value_counts(reasons).to_pylist():
        if item["values"] is not None:
            key = prefix + item["values"]
            counts[key] = counts.get(key, 0) + item["counts"]


def _distinct(table: pa.Table) -> pa.Table:
    if not table.num_rows:
        return table
    return (
        table.group_by(["hashed_type", "sha256"])
        .aggregate([])
        .sort_by([("hashed_type", "ascending"), ("sha256", "ascending")])
    )
