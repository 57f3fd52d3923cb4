"""Convert export columns to AMC dataTypes, turning unparseable values into counted reasons.

Each cast returns (values of the AMC output type, reason per row or null). A null input gives
a null value with reason "missing"; a value that cannot be converted gives null with a reason
such as "invalid_date". The caller decides whether that null is allowed or rejects the row.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INTEGER": pa.int32(),
    "LONG": pa.int64(),
    "DECIMAL": pa.decimal128(18, 2),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("s", tz="UTC"),
}
MISSING = "missing"
_INT_BOUNDS = {"INTEGER": (-(2**31), 2**31 - 1), "LONG": (-(2**63), 2**63 - 1)}
_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


def cast_column(values: pa.Array, data_type: str) -> tuple[pa.Array, pa.Array]:
    """(values as ARROW_TYPES[data_type], reason or null per row)."""
    target = ARROW_TYPES[data_type]
    if values.type == target:
        return values, _reasons(values, pc.is_valid(values))
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        direct = _try_direct_cast(values, target)
        if direct is not None:
            return direct, _reasons(values, pc.is_valid(direct))
        values = values.cast(pa.string())
    text = pc.utf8_trim_whitespace(values)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if data_type == "STRING":
        out = values.cast(pa.string())
        return out, _reasons(out, pc.is_valid(out))
    if data_type in _INT_BOUNDS:
        out = _to_integer(text, data_type)
    elif data_type == "DECIMAL":
        out = _to_decimal(text)
    elif data_type == "DATE":
        out = _to_timestamp(text).cast(pa.date32())
    else:
        out = _to_timestamp(text)
    ok = pc.is_valid(out)
    reasons = _reasons(text, ok, invalid=f"invalid_{data_type.lower()}")
    return out, reasons


def fill(value, data_type: str, length: int) -> pa.Array:
    """A constant column (the export date) of an AMC type."""
    return pa.array([value] * length, ARROW_TYPES[data_type])


def _reasons(text: pa.Array, ok: pa.Array, invalid: str = "invalid") -> pa.Array:
    missing = pc.is_null(text)
    none = pa.scalar(None, pa.string())
    return pc.if_else(missing, MISSING, pc.if_else(ok, none, invalid))


def _try_direct_cast(values: pa.Array, target: pa.DataType) -> pa.Array | None:
    """Typed inputs (parquet) convert directly when Arrow can do so without loss."""
    try:
        return values.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _to_integer(text: pa.Array, data_type: str) -> pa.Array:
    plain = pc.match_substring_regex(text, r"^[+-]?[0-9]{1,19}(\.0*)?$")
    candidates = pc.if_else(plain, pc.replace_substring_regex(text, r"\.0*$", ""), None)
    wide = pc.cast(candidates, pa.decimal128(38, 0))
    low, high = _INT_BOUNDS[data_type]
    in_range = pc.and_(
        pc.greater_equal(wide, pa.scalar(low, pa.decimal128(38, 0))),
        pc.less_equal(wide, pa.scalar(high, pa.decimal128(38, 0))),
    )
    return pc.if_else(in_range, wide, None).cast(ARROW_TYPES[data_type])


def _to_decimal(text: pa.Array) -> pa.Array:
    plain = pc.match_substring_regex(text, r"^[+-]?([0-9]{1,16}(\.[0-9]*)?|\.[0-9]+)$")
    candidates = pc.if_else(plain, pc.replace_substring_regex(text, r"\.$", ""), None)
    candidates = pc.replace_substring_regex(candidates, r"(\.[0-9]{1,20})[0-9]*$", r"\1")
    wide = pc.cast(candidates, pa.decimal128(38, 20))
    rounded = pc.round(wide, ndigits=2, round_mode="half_towards_infinity")
    return rounded.cast(ARROW_TYPES["DECIMAL"])


def _to_timestamp(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, r"(T|\s)(\d\d:\d\d:\d\d)\.\d+", r"\1\2")
    result = pa.nulls(len(text), pa.timestamp("s"))
    for fmt in _TIMESTAMP_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        if parsed.type.tz is not None:
            parsed = parsed.cast(pa.int64()).cast(pa.timestamp("s"))
        result = pc.coalesce(result, parsed)
    return result.cast(pa.int64()).cast(ARROW_TYPES["TIMESTAMP"])
