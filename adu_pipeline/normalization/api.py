"""hash_pii: normalize and hash one PII column of a batch, with a counted reason per null.

normalize_pii does everything but the hashing and hash_normalized hashes any number of such
columns with one SHA-256 query, so a batch's columns cost one DuckDB call instead of one per
column and country. Hashing waits until row order is restored: a column's values to hash stay
where they were computed (deduplicated, grouped by country) and only integer indices move.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.arrow import (
    NULL_STRING,
    as_numpy,
    boolean,
    bools,
    int64,
    int64s,
    string,
    strings,
)
from adu_pipeline.normalization.buffers import byte_class, to_numpy
from adu_pipeline.normalization.columns import COUNTRY_INDEPENDENT, normalize_unique
from adu_pipeline.normalization.countries import canonical_country, country_reason
from adu_pipeline.normalization.groups import CountryGroups, Grouping, country_groups
from adu_pipeline.normalization.reasons import PiiType, Reason
from adu_pipeline.normalization.sha256 import sha256_hex

_HASHED_PATTERN = "^[0-9a-f]{64}$"
_NULL = NULL_STRING
# Deduplicate a column unless a sample says its values are (nearly) all distinct, in which
# case encoding would cost more than it saves (emails, phones).
_SAMPLE = 4096
_DISTINCT_RATIO = 0.8


@dataclass(frozen=True)
class PiiColumnResult:
    """Hashes (64 lowercase hex or null) and, per null, the reason; pre-hashed values counted."""

    hashes: pa.Array
    reasons: pa.Array
    passed_through: int


@dataclass(frozen=True)
class NormalizedColumn:
    """One column normalized, not yet hashed: row i's hash is SHA-256 of values[index[i]]
    (values[i] when index is None; null index or value: null hash), unless carried[i] holds
    a pre-hashed value that passes through as it is."""

    values: pa.Array
    index: pa.Array | None
    reasons: pa.Array
    carried: pa.Array | None
    passed_through: int


def hash_pii(
    values: pa.Array | pa.ChunkedArray,
    pii_type: PiiType,
    countries: pa.Array | pa.ChunkedArray | str | CountryGroups,
) -> PiiColumnResult:
    """Normalize (API.md 5.2/5.2a) and SHA-256 one column; `countries` is per row or one code
    (or `country_groups(per-row countries)`, computed once for every column of a batch).

    Per-row countries may be canonical ISO codes, raw spellings (" uk") or null; a row whose
    country is missing or unsupported gets a null hash with that reason. Null or blank
    values get `missing`; 64-lowercase-hex values pass through unchanged.
    """
    return hash_normalized([normalize_pii(values, pii_type, countries)])[0]


def hash_normalized(columns: Sequence[NormalizedColumn]) -> list[PiiColumnResult]:
    """Hash the values of every column in one SHA-256 call, then spread them to rows."""
    if not columns:
        return []
    hashed = sha256_hex(pa.concat_arrays([c.values for c in columns]))
    results, start = [], 0
    for column in columns:
        hashes = hashed.slice(start, len(column.values))
        start += len(column.values)
        if column.index is not None:
            hashes = hashes.take(column.index)
        if column.carried is not None:
            hashes = pc.if_else(pc.is_valid(column.carried), column.carried, hashes)
        results.append(PiiColumnResult(hashes, column.reasons, column.passed_through))
    return results


def normalize_pii(
    values: pa.Array | pa.ChunkedArray,
    pii_type: PiiType,
    countries: pa.Array | pa.ChunkedArray | str | CountryGroups,
) -> NormalizedColumn:
    """hash_pii without the hashing (see hash_normalized); same arguments."""
    pii_type = PiiType(pii_type)
    values = _as_strings(values)
    n = len(values)
    if isinstance(countries, str):
        code = canonical_country(countries)
        reason = _scalar_country_reason(countries, code)
        if reason is not None:
            return _all_country_reason(values, reason)
        return _one_country(values, pii_type, code)

    if not isinstance(countries, CountryGroups):
        if not isinstance(countries, pa.DictionaryArray):  # encoded: distinct values read once
            countries = _as_strings(countries)
        countries = country_groups(countries)
    if len(countries) != n:
        raise ValueError(f"countries has {len(countries)} rows, values has {n}")
    if n == 0:
        empty = strings([])
        return NormalizedColumn(empty, None, empty, None, 0)
    grouping = countries.usable if pii_type in COUNTRY_INDEPENDENT else countries.by_country
    if grouping.all_one:
        return _one_country(values, pii_type, grouping.names[0])
    country_reasons = countries.reasons
    column = _by_group(values, pii_type, grouping, country_reasons)
    if country_reasons.null_count == n:
        return column
    # Pre-hashed values pass through whatever the row's country; a missing value is reported
    # as missing even when the row's country is also unusable.
    trimmed = _trim(values)
    carried = pc.and_(pc.is_valid(country_reasons), _prehashed(trimmed))
    carried_count = pc.sum(carried).as_py() or 0
    reasons, carried_values = column.reasons, column.carried
    if carried_count:
        carried_values = pc.if_else(
            carried, trimmed.cast(pa.string()), _NULL if carried_values is None else carried_values
        )
        reasons = pc.if_else(carried, _NULL, reasons)
    reasons = pc.if_else(_blank(trimmed), string(Reason.MISSING.value), reasons)
    return NormalizedColumn(
        column.values, column.index, reasons, carried_values, column.passed_through + carried_count
    )


def _by_group(
    values: pa.Array, pii_type: PiiType, grouping: Grouping, country_reasons: pa.Array
) -> NormalizedColumn:
    """Each country's rows normalized as one contiguous slice of the sorted rows; the values
    to hash stay in that order and the row indices go back to row order with one take
    (group -1: nothing to hash, the country reason stands)."""
    ordered = values.take(grouping.order)
    bounds = grouping.bounds
    value_parts, index_parts, reason_parts, carried_parts = [], [], [], []
    passed, offset, any_carried = 0, 0, False
    for group in range(-1, len(grouping.names)):
        start, end = int(bounds[group + 1]), int(bounds[group + 2])
        if start == end:
            continue
        if group < 0:
            index_parts.append(np.full(end - start, -1, dtype=np.int64))
            rows = grouping.order[start:end]
            reason_parts.append(country_reasons.take(rows).cast(pa.string()))
            carried_parts.append(pa.nulls(end - start, pa.string()))
            continue
        part = _one_country(ordered[start:end], pii_type, grouping.names[group])
        value_parts.append(part.values)
        index = np.arange(end - start) if part.index is None else _row_index(part.index)
        index_parts.append(np.where(index >= 0, index + offset, -1))
        offset += len(part.values)
        reason_parts.append(part.reasons)
        if part.carried is None:
            carried_parts.append(pa.nulls(end - start, pa.string()))
        else:
            carried_parts.append(part.carried)
            any_carried = True
        passed += part.passed_through
    index = np.concatenate(index_parts)
    valid = index >= 0
    sorted_index = pa.Array.from_buffers(
        pa.int64(),
        len(index),
        [None if valid.all() else bools(valid).buffers()[1], pa.py_buffer(index)],
    )
    back = grouping.back
    carried = pa.concat_arrays(carried_parts).take(back) if any_carried else None
    return NormalizedColumn(
        pa.concat_arrays(value_parts) if value_parts else strings([]),
        sorted_index.take(back),
        pa.concat_arrays(reason_parts).take(back),
        carried,
        passed,
    )


def _row_index(index: pa.Array) -> np.ndarray:
    """An index array as int64 numpy, -1 where null."""
    return as_numpy(index, fill=-1).astype(np.int64)


def _one_country(values: pa.Array, pii_type: PiiType, country: str) -> NormalizedColumn:
    """Values that all share one supported country; many repeats: each distinct value once."""
    trimmed = _trim(values)
    if len(trimmed) > 2 * _SAMPLE and not _mostly_distinct(trimmed):
        encoded = pc.dictionary_encode(trimmed)  # null rows get null indices
        distinct = _distinct(encoded.dictionary, pii_type, country)
        carried = distinct.carried
        passed = 0
        if carried is not None:
            hashed_rows = pc.take(_prehashed(encoded.dictionary), encoded.indices)
            passed = pc.sum(pc.fill_null(hashed_rows, boolean(False))).as_py() or 0
            carried = pc.take(carried, encoded.indices)
        reasons = _take_reasons(distinct.reasons, encoded)
        return NormalizedColumn(distinct.values, encoded.indices, reasons, carried, passed)
    return _distinct(trimmed, pii_type, country)


def _take_reasons(reasons: pa.Array, encoded: pa.DictionaryArray) -> pa.Array:
    """Spread per-distinct-value reasons to rows; null rows are missing."""
    return pc.if_else(
        pc.is_null(encoded.indices), string(Reason.MISSING.value), pc.take(reasons, encoded.indices)
    )


def _distinct(trimmed: pa.Array, pii_type: PiiType, country: str) -> NormalizedColumn:
    """Normalize each value (nulls and blanks allowed; duplicates merely cost time)."""
    blank = _blank(trimmed)
    hashed = _prehashed(trimmed)
    todo = pc.invert(pc.or_(blank, hashed))
    all_todo = pc.all(todo).as_py()
    if all_todo:
        normalized, reasons = normalize_unique(trimmed, pii_type, country)
    else:
        normalized = pa.nulls(len(trimmed), pa.string())
        reasons = pa.nulls(len(trimmed), pa.string())
        if pc.any(todo).as_py():
            part, part_reasons = normalize_unique(pc.filter(trimmed, todo), pii_type, country)
            normalized = pc.replace_with_mask(normalized, todo, part)
            reasons = pc.replace_with_mask(reasons, todo, part_reasons)
    passed, carried = 0, None
    if not all_todo:
        passed = pc.sum(hashed).as_py() or 0
        if passed:
            carried = pc.if_else(hashed, trimmed.cast(pa.string()), _NULL)
        reasons = pc.if_else(blank, string(Reason.MISSING.value), reasons)
    return NormalizedColumn(
        normalized.cast(pa.string()), None, reasons.cast(pa.string()), carried, passed
    )


def _mostly_distinct(values: pa.Array) -> bool:
    step = max(1, len(values) // _SAMPLE)
    sample = pc.take(values, int64s(np.arange(0, len(values), step)[:_SAMPLE]))
    return len(pc.unique(sample)) >= _DISTINCT_RATIO * len(sample)


# Exactly the characters Python's str.strip() removes (the scalar reference uses strip()).
_PY_WHITESPACE = "".join(
    ["\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680", *map(chr, range(0x2000, 0x200B))]
    + ["\u2028\u2029\u202f\u205f\u3000"]
)


# Bytes that may start or end a value that trimming changes: the ASCII ones above, and every
# byte of a multi-byte character (some of those are whitespace).
_EDGE = byte_class("".join(c for c in _PY_WHITESPACE if c < "\x80"))
_EDGE[128:] = True


def _trim(values: pa.Array) -> pa.Array:
    """Python's strip() of each value; the values themselves (no copy) when none has
    whitespace at either end, which a look at first and last bytes tells."""
    data, offsets = to_numpy(values)
    starts, ends = offsets[:-1], offsets[1:]
    nonempty = ends > starts
    if not (_EDGE[data[starts[nonempty]]].any() or _EDGE[data[ends[nonempty] - 1]].any()):
        return values
    return pc.utf8_trim(values, characters=_PY_WHITESPACE)


def _blank(trimmed: pa.Array) -> pa.Array:
    """Null or empty after trimming (non-null boolean)."""
    return pc.fill_null(pc.equal(pc.binary_length(trimmed), int64(0)), boolean(True))


def _prehashed(trimmed: pa.Array) -> pa.Array:
    """Already 64 lowercase hex (non-null boolean); the length test spares most regex work."""
    length64 = pc.fill_null(pc.equal(pc.binary_length(trimmed), int64(64)), boolean(False))
    if not pc.any(length64).as_py():
        return length64
    return pc.and_(
        length64, pc.fill_null(pc.match_substring_regex(trimmed, _HASHED_PATTERN), boolean(False))
    )


def _all_country_reason(values: pa.Array, reason: str) -> NormalizedColumn:
    blank = _blank(_trim(values))
    reasons = pc.if_else(blank, string(Reason.MISSING.value), string(reason))
    hashed = _prehashed(_trim(values))
    passed = pc.sum(hashed).as_py() or 0
    carried = None
    if passed:
        carried = pc.if_else(hashed, _trim(values).cast(pa.string()), _NULL)
        reasons = pc.if_else(hashed, _NULL, reasons)
    nothing = pa.nulls(len(values), pa.int64())
    return NormalizedColumn(strings([]), nothing, reasons.cast(pa.string()), carried, passed)


def _scalar_country_reason(raw: str, code: str | None) -> str | None:
    if code is None:
        return (Reason.COUNTRY_UNSUPPORTED if raw.strip() else Reason.COUNTRY_MISSING).value
    reason = country_reason(code)
    return None if reason is None else reason.value


def _as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else strings([])
    # One string type throughout (batches are far below the 2 GiB limit of 32-bit offsets).
    return values if pa.types.is_string(values.type) else values.cast(pa.string())
