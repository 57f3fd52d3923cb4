"""The pandera schema of the hashed output, and value-free summaries of its failures.

pandera's own failure cases and messages quote the offending values, which for a PII column may be
raw PII that escaped hashing. Callers report `summarize_failures(...)` (counts per column and
check) and never `str(exc)` or `exc.failure_cases`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
from pandera.errors import SchemaErrors

from adu_pipeline.dataset.columns import ColumnDefinition

HEX64 = r"[0-9a-f]{64}"
COUNTRY = r"[A-Z]{2}"
INT32 = (-(2**31), 2**31 - 1)

# check name -> what it means, for summaries; names are stable so dashboards can key on them.
CHECK_REASONS = {
    "pii_sha256_hex": "not 64 lowercase hex (unhashed or malformed PII)",
    "iso_country_alpha2": "not an ISO-3166 alpha-2 code",
    "not_nullable": "null in a column that must not be null",
    "column_in_dataframe": "column missing from the output",
    "column_in_schema": "column not in the dataset definition",
    "column_ordered": "column out of the definition's order",
    "decimal_scale_2": "more than 2 decimal places",
    "int32_range": "outside the 32-bit integer range",
    "date_at_midnight": "date column holds a time of day",
}
for _data_type in ("STRING", "INTEGER", "LONG", "DECIMAL", "DATE", "TIMESTAMP"):
    CHECK_REASONS[f"type_{_data_type}"] = f"column type is not the output type of {_data_type}"


class HasSchema(Protocol):
    """A dataset definition, as far as validation needs one."""

    def pandera_schema(self) -> pa.DataFrameSchema: ...


def build_schema(
    dataset_id: str,
    columns: Sequence[ColumnDefinition],
    *,
    strict: bool = True,
    ordered: bool = True,
) -> pa.DataFrameSchema:
    """Schema of a dataset's hashed output: output types, nullability, hash and country formats."""
    schemas = {c.name: _column_schema(c) for c in columns}
    return pa.DataFrameSchema(
        schemas, strict=strict, ordered=ordered, name=f"{dataset_id}_hashed", coerce=False
    )


def _column_schema(column: ColumnDefinition) -> pa.Column:
    checks = [pa.Check(_TYPE_CHECKS[column.data_type], name=f"type_{column.data_type}")]
    if column.hashed_pii is not None:
        checks.append(pa.Check(lambda s: _as_text(s).str.fullmatch(HEX64), name="pii_sha256_hex"))
    if column.is_country_code:
        checks.append(
            pa.Check(lambda s: _as_text(s).str.fullmatch(COUNTRY), name="iso_country_alpha2")
        )
    if column.data_type == "DECIMAL":
        checks.append(pa.Check(_decimal_scale_ok, name="decimal_scale_2"))
    if column.data_type == "INTEGER":
        checks.append(pa.Check(_int32_range_ok, name="int32_range"))
    if column.data_type == "DATE":
        checks.append(pa.Check(_date_at_midnight, name="date_at_midnight"))
    return pa.Column(
        dtype=None, nullable=column.nullable, required=True, checks=checks,
        description=column.description or None,
    )  # fmt: skip


def _as_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype) or _is_arrow_string(series):
        return series
    return series.astype("string")


def _is_arrow_string(series: pd.Series) -> bool:
    arrow = _arrow_type(series)
    return arrow is not None and (
        pyarrow.types.is_string(arrow) or pyarrow.types.is_large_string(arrow)
    )


def _arrow_type(series: pd.Series) -> pyarrow.DataType | None:
    return series.dtype.pyarrow_dtype if isinstance(series.dtype, pd.ArrowDtype) else None


def _all_instances(series: pd.Series, kinds: type | tuple[type, ...]) -> bool:
    values = series.dropna()
    return bool(values.map(lambda v: isinstance(v, kinds)).all()) if len(values) else True


def _is_string(series: pd.Series) -> bool:
    if _arrow_type(series) is not None:
        return _is_arrow_string(series)
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return series.dtype == object and _all_instances(series, str)


def _is_int(width: int) -> Callable[[pd.Series], bool]:
    def check(series: pd.Series) -> bool:
        arrow = _arrow_type(series)
        if arrow is not None:
            return pyarrow.types.is_integer(arrow) and arrow.bit_width == width
        return pd.api.types.is_integer_dtype(series.dtype) and series.dtype.itemsize * 8 == width

    return check


def _is_decimal(series: pd.Series) -> bool:
    arrow = _arrow_type(series)
    if arrow is not None:
        return pyarrow.types.is_decimal(arrow)
    return series.dtype == object and _all_instances(series, decimal.Decimal)


def _is_date(series: pd.Series) -> bool:
    arrow = _arrow_type(series)
    if arrow is not None:
        return pyarrow.types.is_date(arrow)
    if pd.api.types.is_datetime64_dtype(series.dtype):  # tz-naive only; midnight checked apart
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return bool(values.map(lambda v: type(v) is dt.date).all()) if len(values) else True


def _is_timestamp_utc(series: pd.Series) -> bool:
    arrow = _arrow_type(series)
    if arrow is not None:
        return pyarrow.types.is_timestamp(arrow) and arrow.tz in ("UTC", "+00:00", "Etc/UTC")
    tz = getattr(series.dtype, "tz", None)
    return tz is not None and str(tz) in ("UTC", "+00:00", "Etc/UTC")


_TYPE_CHECKS: dict[str, Callable[[pd.Series], bool]] = {
    "STRING": _is_string,
    "INTEGER": _is_int(32),
    "LONG": _is_int(64),
    "DECIMAL": _is_decimal,
    "DATE": _is_date,
    "TIMESTAMP": _is_timestamp_utc,
}


def _decimal_scale_ok(series: pd.Series) -> pd.Series | bool:
    arrow = _arrow_type(series)
    if arrow is not None:
        return pyarrow.types.is_decimal(arrow) and arrow.scale <= 2
    return series.map(
        lambda v: not isinstance(v, decimal.Decimal) or v.as_tuple().exponent >= -2,
        na_action="ignore",
    ).fillna(True)


def _int32_range_ok(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers.isna() | numbers.between(*INT32)


def _date_at_midnight(series: pd.Series) -> pd.Series | bool:
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.isna() | (series == series.dt.normalize())
    return True


def summarize_failures(exc: SchemaErrors) -> dict[str, Any]:
    """Counts per column and check, with readable reasons; never a value from the frame."""
    columns: dict[str, dict[str, int]] = {}
    schema: dict[str, list[str]] = {}
    total = 0
    for record in exc.failure_cases.to_dict("records"):
        check = str(record.get("check"))
        if record.get("schema_context") == "DataFrameSchema" and check in (
            "column_in_dataframe", "column_in_schema", "column_ordered",
        ):  # fmt: skip
            # here failure_case is a column name from the header, not a row value
            schema.setdefault(check, []).append(str(record.get("failure_case")))
            total += 1
            continue
        column = record.get("column")
        column = str(column) if isinstance(column, str) else "<frame>"
        counts = columns.setdefault(column, {})
        counts[check] = counts.get(check, 0) + 1
        total += 1
    return {
        "failure_count": total,
        "columns": columns,
        "schema": schema,
        "reasons": _reasons(columns, schema),
    }


def _reasons(columns: dict[str, dict[str, int]], schema: dict[str, list[str]]) -> list[str]:
    lines = [
        f"{check}: {', '.join(names)} ({CHECK_REASONS.get(check, check)})"
        for check, names in schema.items()
    ]
    for column, counts in columns.items():
        for check, count in counts.items():
            lines.append(f"{column}: {count} failing ({CHECK_REASONS.get(check, check)})")
    return lines


def merge_summaries(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Add two summaries, for outputs validated batch by batch."""
    columns = {c: dict(v) for c, v in first["columns"].items()}
    for column, counts in second["columns"].items():
        merged = columns.setdefault(column, {})
        for check, count in counts.items():
            merged[check] = merged.get(check, 0) + count
    schema = {k: list(v) for k, v in first["schema"].items()}
    for check, names in second["schema"].items():
        schema[check] = sorted(set(schema.get(check, [])) | set(names))
    return {
        "failure_count": first["failure_count"] + second["failure_count"],
        "columns": columns,
        "schema": schema,
        "reasons": _reasons(columns, schema),
    }


def validate_frame(defn: HasSchema, frame: pd.DataFrame) -> dict[str, Any]:
    """Validate lazily (every failure found) and return a value-free result."""
    try:
        defn.pandera_schema().validate(frame, lazy=True)
    except SchemaErrors as exc:
        return {"valid": False, "rows": len(frame), **summarize_failures(exc)}
    empty = {"failure_count": 0, "columns": {}, "schema": {}, "reasons": []}
    return {"valid": True, "rows": len(frame), **empty}


def arrow_to_frame(table: pyarrow.Table) -> pd.DataFrame:
    """Arrow -> pandas keeping the Arrow types (int32 with nulls stays int32, dates stay date32)."""
    # one chunk per column: compute kernels pay a fixed cost per chunk
    return table.combine_chunks().to_pandas(types_mapper=pd.ArrowDtype)


def columns_for_metadata(columns: Sequence[ColumnDefinition]) -> list[dict[str, str]]:
    """name/type/description per output column, ready for Dagster's TableColumn(**d)."""
    return [{"name": c.name, "type": c.data_type, "description": _describe(c)} for c in columns]


def _describe(column: ColumnDefinition) -> str:
    parts = [column.description] if column.description else []
    if column.hashed_pii is not None:
        parts.append(f"SHA-256 of the normalized {column.hashed_pii} (64 lowercase hex) or null")
    if column.external_identity:
        parts.append(f"external identity {column.external_identity}, sent as is")
    if column.is_country_code:
        parts.append("row country code, ISO-3166 alpha-2")
    if column.is_main_event_time:
        parts.append("main event time")
    if column.consent_type:
        parts.append(f"consent {column.consent_type}")
    parts.append(
        f"from export column '{column.source}'" if column.source else "filled with the export date"
    )
    parts.append("nullable" if column.nullable else "never null")
    return "; ".join(parts)
