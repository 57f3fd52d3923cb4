"""Shared column helpers: outcomes with reasons, and the scalar fallback for exotic rows."""

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.reference import Outcome

Column = tuple[pa.Array, pa.Array]  # (normalized or null, reason or null)
_NULL = pa.scalar(None, pa.string())


def nonempty(normalized: pa.Array) -> Column:
    """Empty results become null with empty_after_normalization."""
    empty = pc.equal(normalized, "")
    reasons = pc.if_else(empty, Reason.EMPTY_AFTER_NORMALIZATION.value, _NULL)
    return pc.if_else(empty, _NULL, normalized), reasons


def scalar(values: pa.Array, rule: Callable[[str], Outcome]) -> Column:
    """The reference rule value by value (for the few rows the column form can't express)."""
    out: list[str | None] = []
    reasons: list[str | None] = []
    for value in values.to_pylist():
        normalized, reason = rule(value)
        out.append(normalized)
        reasons.append(None if reason is None else reason.value)
    return pa.array(out, pa.string()), pa.array(reasons, pa.string())


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
    exotic = pc.and_(non_ascii, pc.match_substring_regex(values, exotic_pattern))
    if not pc.any(exotic).as_py():
        return vectorized(values)
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


def replace_all(values: pa.Array, pairs: dict[str, str]) -> pa.Array:
    """Literal replacements, skipped when no value is non-ASCII (the pairs are all non-ASCII)."""
    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return values
    for old, new in pairs.items():
        values = pc.replace_substring(values, old, new)
    return values
