"""hash_pii: normalize and hash one PII column of a batch, with a counted reason per null."""

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.columns import COUNTRY_INDEPENDENT, normalize_unique
from adu_pipeline.normalization.countries import (
    canonical_country,
    country_reason,
    normalize_countries,
)
from adu_pipeline.normalization.reasons import PiiType, Reason
from adu_pipeline.normalization.sha256 import sha256_hex

_HASHED_PATTERN = "^[0-9a-f]{64}$"


@dataclass(frozen=True)
class PiiColumnResult:
    """Hashes (64 lowercase hex or null) and, per null, the reason; pre-hashed values counted."""

    hashes: pa.Array
    reasons: pa.Array
    passed_through: int


def hash_pii(
    values: pa.Array | pa.ChunkedArray,
    pii_type: PiiType,
    countries: pa.Array | pa.ChunkedArray | str,
) -> PiiColumnResult:
    """Normalize (API.md 5.2/5.2a) and SHA-256 one column; `countries` is per row or one code.

    Per-row countries may be canonical ISO codes, raw spellings (" uk") or null; a row whose
    country is missing or unsupported gets a null hash with that reason.
    """
    pii_type = PiiType(pii_type)
    values = _as_strings(values)
    n = len(values)
    trimmed = pc.utf8_trim_whitespace(values)
    present = pc.fill_null(pc.not_equal(trimmed, ""), False)
    hashed = pc.and_(
        present, pc.fill_null(pc.match_substring_regex(trimmed, _HASHED_PATTERN), False)
    )
    passed_through = pc.sum(hashed).as_py() or 0

    if isinstance(countries, str):
        code = canonical_country(countries)
        reason = _scalar_country_reason(countries, code)
        codes: pa.Array | str | None = code
        country_reasons = pa.nulls(n, pa.string()) if reason is None else _constant(reason, n)
    else:
        countries = _as_strings(countries)
        if len(countries) != n:
            raise ValueError(f"countries has {len(countries)} rows, values has {n}")
        codes, country_reasons = normalize_countries(countries)

    todo = pc.and_(pc.and_not(present, hashed), pc.is_null(country_reasons))
    norm_hashes, norm_reasons = _normalize_and_hash(trimmed, todo, codes, pii_type)

    hashes = pc.if_else(hashed, trimmed, norm_hashes).cast(pa.string())
    reasons = pc.case_when(
        pc.make_struct(pc.invert(present), hashed, pc.is_valid(country_reasons)),
        Reason.MISSING.value,
        pa.scalar(None, pa.string()),
        country_reasons,
        norm_reasons,
    ).cast(pa.string())
    return PiiColumnResult(hashes=hashes, reasons=reasons, passed_through=passed_through)


def _normalize_and_hash(
    trimmed: pa.Array, todo: pa.Array, codes: pa.Array | str | None, pii_type: PiiType
) -> tuple[pa.Array, pa.Array]:
    """Hashes and reasons for the rows in `todo` (null elsewhere), one country at a time."""
    n = len(trimmed)
    rows = pc.indices_nonzero(todo)
    if len(rows) == 0:
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    if pii_type in COUNTRY_INDEPENDENT or isinstance(codes, str):
        groups = [(codes if isinstance(codes, str) else "", rows)]
    else:
        row_codes = pc.take(codes, rows)
        groups = []
        for code in pc.unique(row_codes).to_pylist():
            groups.append((code, pc.take(rows, pc.indices_nonzero(pc.equal(row_codes, code)))))
    hash_parts, reason_parts, index_parts = [], [], []
    for code, group_rows in groups:
        h, r = _hash_group(pc.take(trimmed, group_rows), pii_type, code)
        hash_parts.append(h)
        reason_parts.append(r)
        index_parts.append(group_rows)
    hashes, reasons = pa.concat_arrays(hash_parts), pa.concat_arrays(reason_parts)
    if len(groups) > 1:
        order = pc.sort_indices(pa.concat_arrays(index_parts))
        hashes, reasons = pc.take(hashes, order), pc.take(reasons, order)
    empty = pa.nulls(n, pa.string())
    return pc.replace_with_mask(empty, todo, hashes), pc.replace_with_mask(empty, todo, reasons)


def _hash_group(values: pa.Array, pii_type: PiiType, country: str) -> tuple[pa.Array, pa.Array]:
    """Normalize and hash each distinct value once, then spread back to the rows."""
    encoded = pc.dictionary_encode(values)
    normalized, reasons = normalize_unique(encoded.dictionary, pii_type, country)
    hashes = sha256_hex(normalized)
    return pc.take(hashes, encoded.indices), pc.take(reasons, encoded.indices)


def _scalar_country_reason(raw: str, code: str | None) -> str | None:
    if code is None:
        return (Reason.COUNTRY_UNSUPPORTED if raw.strip() else Reason.COUNTRY_MISSING).value
    reason = country_reason(code)
    return None if reason is None else reason.value


def _constant(value: str, n: int) -> pa.Array:
    return pc.if_else(pa.nulls(n, pa.bool_()).fill_null(True), value, pa.scalar(None, pa.string()))


def _as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return values.cast(pa.string())
