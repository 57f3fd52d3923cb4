"""Shared column helpers: outcomes with reasons, and the scalar fallback for exotic rows."""

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.arrow import NULL_STRING, bools, labels, string, strings
from adu_pipeline.normalization.buffers import Strings, on_subset
from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.reference import Outcome

Column = tuple[pa.Array, pa.Array]  # (normalized or null, reason or null)
_NULL = NULL_STRING


def lower(values: pa.Array, extra: dict[str, str] | None = None) -> pa.Array:
    """Python-style lower(): ASCII by table, non-ASCII rows by Arrow (then `extra` replacements)."""

    def unicode_lower(subset: pa.Array) -> pa.Array:
        subset = pc.utf8_lower(subset)
        for old, new in (extra or {}).items():
            subset = pc.replace_substring(subset, old, new)
        return subset

    return pc.ascii_lower(on_subset(values, non_ascii(values), unicode_lower))


def upper(values: pa.Array) -> pa.Array:
    """Python-style upper(): 'ß' -> 'SS' (Arrow alone gives 'ẞ')."""

    def unicode_upper(subset: pa.Array) -> pa.Array:
        return pc.utf8_upper(pc.replace_substring(subset, "ß", "SS"))

    return pc.ascii_upper(on_subset(values, non_ascii(values), unicode_upper))


def non_ascii(values: pa.Array) -> pa.Array:
    return pc.invert(pc.string_is_ascii(values))


def from_strings(strings: Strings, valid: np.ndarray, reason: np.ndarray | None = None) -> Column:
    """Build (normalized, reasons) from byte buffers: rows not `valid` become null with
    `reason` (an object array of reason strings) or, by default, empty_after_normalization."""
    data, offsets = strings
    n = len(offsets) - 1
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    wide = offsets[-1] >= 2**31
    array_type = pa.LargeStringArray if wide else pa.StringArray
    out = array_type.from_buffers(
        n,
        pa.py_buffer(offsets.astype(np.int64 if wide else np.int32)),
        pa.py_buffer(data),
        bitmap,
    )
    if reason is None:
        reasons = pc.if_else(bools(valid), _NULL, string(Reason.EMPTY_AFTER_NORMALIZATION.value))
    else:
        reasons = labels(reason, ~valid)
    return out, reasons


def nonempty(normalized: pa.Array) -> Column:
    """Empty results become null with empty_after_normalization."""
    empty = pc.equal(normalized, string(""))
    reasons = pc.if_else(empty, string(Reason.EMPTY_AFTER_NORMALIZATION.value), _NULL)
    return pc.if_else(empty, _NULL, normalized), reasons


def scalar(values: pa.Array, rule: Callable[[str], Outcome]) -> Column:
    """The reference rule value by value (for the few rows the column form can't express)."""
    out: list[str | None] = []
    reasons: list[str | None] = []
    for value in values.to_pylist():
        normalized, reason = rule(value)
        out.append(normalized)
        reasons.append(None if reason is None else reason.value)
    return strings(out), strings(reasons)


def with_fallback(
    values: pa.Array,
    exotic_pattern: str | None,
    vectorized: Callable[[pa.Array], Column],
    rule: Callable[[str], Outcome],
) -> Column:
    """Run `vectorized` on all values except non-ASCII ones matching `exotic_pattern`,
    which go through the scalar `rule` (characters whose case mapping or class differs
    between Python and Arrow's Unicode tables)."""
    if exotic_pattern is None or len(values) == 0:
        return vectorized(values)
    non_ascii = pc.invert(pc.string_is_ascii(values))
    if not pc.any(non_ascii).as_py():
        return vectorized(values)
    # The pattern is only looked for in the non-ASCII rows (it is a large character class).
    found = pc.match_substring_regex(pc.filter(values, non_ascii), exotic_pattern)
    if not pc.any(found).as_py():
        return vectorized(values)
    exotic = pc.replace_with_mask(non_ascii, non_ascii, found)
    fast_out, fast_reasons = vectorized(pc.filter(values, pc.invert(exotic)))
    slow_out, slow_reasons = scalar(pc.filter(values, exotic), rule)
    return (
        merge(exotic, slow_out, fast_out),
        merge(exotic, slow_reasons, fast_reasons),
    )


def merge(mask: pa.Array, when_true: pa.Array, when_false: pa.Array) -> pa.Array:
    """Interleave two filtered arrays back into row order by the mask that split them."""
    out = pc.replace_with_mask(pa.nulls(len(mask), pa.string()), mask, when_true)
    return pc.replace_with_mask(out, pc.invert(mask), when_false)
