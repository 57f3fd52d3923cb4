"""Apply a resolved plan to one batch: hash PII, cast typed columns, decide row rejections.

Runs in a worker process for large inputs, so it only receives the columns it transforms and
returns plain Arrow data (picklable). Pass-through columns never leave the main process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.hashing.casts import ARROW_TYPES, MISSING, cast_column, fill
from adu_pipeline.hashing.plan import ColumnKind, OutputColumn
from adu_pipeline.normalization import (
    PiiColumnResult,
    country_groups,
    hash_normalized,
    normalize_countries,
    normalize_pii,
)
from adu_pipeline.normalization.arrow import NULL_STRING, boolean, string

HASHED, PASSED_THROUGH, OK = "hashed", "passed_through", "ok"
FINE_STATUSES = frozenset({HASHED, PASSED_THROUGH, OK, MISSING})
INVALID_COUNTRY = "invalid_country"
_NULL_STR = NULL_STRING


@dataclass(frozen=True)
class TransformSpec:
    """Everything a worker needs besides the batch (small and picklable)."""

    columns: tuple[OutputColumn, ...]
    country_column: str | None
    default_country: str | None
    export_date: dt.date | None


@dataclass
class Computed:
    """Transformed columns of one batch, before rejected rows are removed.

    `statuses` has, per checked column, one non-null string per row: hashed, passed_through,
    ok, missing, or the reason the value became null. `reject` marks rows to drop and
    `reject_reasons` holds the first failing non-nullable column's "column:reason" for them.
    """

    arrays: dict[str, pa.Array]
    statuses: dict[str, pa.Array]
    reject: pa.Array | None
    reject_reasons: pa.Array | None


def compute(batch: pa.RecordBatch, spec: TransformSpec) -> Computed:
    """Transform the non-pass-through columns of `batch` (it holds only their sources)."""
    n = batch.num_rows
    row_countries = _row_countries(batch, spec)
    # Grouped once per batch (distinct spellings looked up once, rows sorted by country once)
    # and shared by every PII column.
    if not isinstance(row_countries, str):
        row_countries = pc.dictionary_encode(row_countries)  # distinct spellings read once
    pii_countries = (
        row_countries if isinstance(row_countries, str) else country_groups(row_countries)
    )
    arrays: dict[str, pa.Array] = {}
    statuses: dict[str, pa.Array] = {}
    pii = [c for c in spec.columns if c.kind is ColumnKind.PII]
    # Every PII column normalized first, then all hashed with one SHA-256 call.
    normalized = [normalize_pii(_column(batch, c.source), c.pii_type, pii_countries) for c in pii]
    hashed = dict(zip((c.name for c in pii), hash_normalized(normalized), strict=True))
    for col in spec.columns:  # in plan order, which the rejects file follows
        if col.kind is ColumnKind.PASSTHROUGH:
            continue
        if col.kind is ColumnKind.EXPORT_DATE:
            arrays[col.name] = fill(_event_time(spec.export_date, col.data_type), col.data_type, n)
            continue
        source = _column(batch, col.source)
        if col.kind is ColumnKind.PII:
            arrays[col.name], statuses[col.name] = _status(source, hashed[col.name])
        elif col.kind is ColumnKind.COUNTRY:
            arrays[col.name], statuses[col.name] = _country(row_countries, n)
        else:
            values, reasons = cast_column(source, col.data_type)
            arrays[col.name], statuses[col.name] = values, pc.fill_null(reasons, string(OK))
    reject, reasons = _rejections(spec.columns, arrays, statuses)
    return Computed(arrays=arrays, statuses=statuses, reject=reject, reject_reasons=reasons)


def _column(batch: pa.RecordBatch, name: str | None) -> pa.Array:
    return batch.column(batch.schema.get_field_index(name))


def _row_countries(batch: pa.RecordBatch, spec: TransformSpec) -> pa.Array | str:
    """Per-row country spelling (row column, else the default), or one code for all rows."""
    if spec.country_column is None:
        return spec.default_country or ""
    raw = _column(batch, spec.country_column)
    if not pa.types.is_string(raw.type):
        raw = raw.cast(pa.string())
    blank = _blank(raw)
    default = string(spec.default_country)
    return pc.if_else(blank, default, raw)


def _status(source: pa.Array, result: PiiColumnResult) -> tuple[pa.Array, pa.Array]:
    """(hashes, per-row status) of one PII column."""
    hashes = result.hashes
    produced: pa.Array | pa.Scalar = string(HASHED)
    if result.passed_through:
        text = source if pa.types.is_string(source.type) else source.cast(pa.string())
        # A value is passed through when the output is the input itself (a SHA-256 is never
        # equal to its own input), so the count survives row filtering without a total.
        kept = pc.fill_null(pc.equal(hashes, pc.utf8_trim_whitespace(text)), boolean(False))
        produced = pc.if_else(kept, string(PASSED_THROUGH), string(HASHED))
    status = pc.if_else(
        pc.is_valid(hashes), produced, pc.fill_null(result.reasons, string("invalid"))
    )
    return hashes, status


def _country(countries, n: int) -> tuple[pa.Array, pa.Array]:
    """The isCountryCode column: ISO alpha-2 (UK -> GB) of the row's effective country."""
    if isinstance(countries, str):
        countries = pa.repeat(string(countries or None), n)
    codes, _ = normalize_countries(countries)
    blank = _blank(countries)
    status = pc.if_else(
        pc.is_valid(codes),
        string(OK),
        pc.if_else(blank, string(MISSING), string(INVALID_COUNTRY)),
    )
    return codes, status


def _blank(text: pa.Array) -> pa.Array:
    """Null or whitespace only (non-null boolean); a dictionary's distinct values looked at once."""
    if pa.types.is_dictionary(text.type):
        return pc.fill_null(pc.take(_blank(text.dictionary), text.indices), boolean(True))
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), string("")), boolean(True))


def _rejections(columns, arrays, statuses) -> tuple[pa.Array | None, pa.Array | None]:
    """Rows with a null in a non-nullable column; reason = first such column in plan order."""
    reject = None
    reasons = None
    for col in columns:
        if col.nullable or col.name not in statuses:
            continue
        bad = pc.is_null(arrays[col.name])
        label = pc.binary_join_element_wise(string(f"{col.name}:"), statuses[col.name], string(""))
        if reject is None:
            reject, reasons = bad, pc.if_else(bad, label, _NULL_STR)
        else:
            reasons = pc.if_else(pc.and_not(bad, reject), label, reasons)
            reject = pc.or_(reject, bad)
    return reject, reasons


def _event_time(export_date: dt.date | None, data_type: str):
    if export_date is None:
        raise ValueError("the plan fills the main event time but no export date was given")
    if data_type == "TIMESTAMP":
        return dt.datetime(export_date.year, export_date.month, export_date.day, tzinfo=dt.UTC)
    return export_date


def output_type(col: OutputColumn, input_type: pa.DataType) -> pa.DataType:
    """Arrow type of an output column."""
    if col.kind is ColumnKind.PASSTHROUGH:
        return input_type
    if col.kind in (ColumnKind.PII, ColumnKind.COUNTRY):
        return pa.string()
    return ARROW_TYPES[col.data_type]
