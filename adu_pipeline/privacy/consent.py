"""Consent columns (`consentType` TCF, GPP, AMZN_USER_DATA, AMZN_AD_STORAGE), checked per row.

Vectorized over Arrow arrays: a batch of a million rows is checked with a few dozen NumPy and
Arrow passes, never a Python loop per row. Each check returns the value to write (trimmed; flags
upper-cased; null where blank or malformed) and, per row, a reason code or null.

- TCF v2 (IAB Tech Lab, "Consent string and vendor list formats v2"): '.'-separated base64url
  segments; the first is the core string. Its fixed header is decoded (Version 2, Created,
  LastUpdated, CmpId, CmpVersion, ConsentScreen, ConsentLanguage, VendorListVersion,
  TcfPolicyVersion, ..., PublisherCC) and its variable part walked to the end (vendor consents
  and legitimate interests as bit field or ranges, publisher restrictions); a string that ends
  before its structure does is malformed. Later segments must have a segment type 1..3
  (disclosed vendors, allowed vendors, publisher TC).
- GPP v1 (IAB Tech Lab, "Global Privacy Platform String"): a base64url header (Type 3,
  Version 1, the section ids as a Fibonacci range), then one '~'-separated section per id.
- AMZN_USER_DATA / AMZN_AD_STORAGE: GRANTED or DENIED (Amazon consent guide; any case).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.privacy.bits import Base64Bits

CONSENT_TYPES = ("TCF", "GPP", "AMZN_USER_DATA", "AMZN_AD_STORAGE")
FLAG_VALUES = ("GRANTED", "DENIED")
_NULL = pa.scalar(None, pa.string())


class ConsentReason(StrEnum):
    MALFORMED_TCF = "consent_malformed_tcf"
    MALFORMED_GPP = "consent_malformed_gpp"
    INVALID_FLAG = "consent_invalid_flag"
    MISSING = "consent_missing"  # a row of a country that needs consent has none


@dataclass(frozen=True)
class ValueCheck:
    """Per row: `values` to write (null where blank or invalid), `reasons` (null where fine)."""

    values: pa.Array
    reasons: pa.Array

    @property
    def invalid(self) -> pa.Array:
        return pc.is_valid(self.reasons)


def check_consent(values: pa.Array | pa.ChunkedArray, consent_type: str) -> ValueCheck:
    """The check of one `consentType` column."""
    if consent_type == "TCF":
        return check_tcf(values)
    if consent_type == "GPP":
        return check_gpp(values)
    if consent_type in ("AMZN_USER_DATA", "AMZN_AD_STORAGE"):
        return check_flag(values)
    raise ValueError(f"unknown consent type {consent_type[:30]!r}")


# -- AMZN flags ----------------------------------------------------------------------------------


def check_flag(values: pa.Array | pa.ChunkedArray) -> ValueCheck:
    """GRANTED / DENIED in any case and spacing; written upper-case."""
    trimmed, blank = _trimmed(values)
    upper = pc.utf8_upper(trimmed)
    ok = pc.is_in(upper, value_set=pa.array(FLAG_VALUES))
    bad = pc.and_not(pc.invert(blank), pc.fill_null(ok, False))
    return _result(upper, blank, bad, ConsentReason.INVALID_FLAG)


# -- TCF v2 ---------------------------------------------------------------------------------------

# Every later segment starts with its 3-bit type 1..3: first character 'I'..'f' (values 8..31).
_TCF_SHAPE = r"^[A-Za-z0-9_-]+(\.[I-Za-f][A-Za-z0-9_-]*)*$"
# (name, bit position, width) of the core string's fixed header.
TCF_HEADER = (
    ("version", 0, 6),
    ("created", 6, 36),  # deciseconds since 1970-01-01 UTC
    ("last_updated", 42, 36),
    ("cmp_id", 78, 12),
    ("cmp_version", 90, 12),
    ("consent_screen", 102, 6),
    ("consent_language", 108, 12),  # two letters, 6 bits each (A = 0)
    ("vendor_list_version", 120, 12),
    ("tcf_policy_version", 132, 6),
    ("is_service_specific", 138, 1),
    ("use_non_standard_texts", 139, 1),
    ("special_feature_opt_ins", 140, 12),
    ("purposes_consent", 152, 24),
    ("purposes_li_transparency", 176, 24),
    ("purpose_one_treatment", 200, 1),
    ("publisher_cc", 201, 12),
)
TCF_VENDOR_SECTION = 213  # bit where the vendor consent section starts


def check_tcf(values: pa.Array | pa.ChunkedArray) -> ValueCheck:
    """A TCF v2 TC string whose core segment decodes to its end; else consent_malformed_tcf."""
    trimmed, blank = _trimmed(values)
    decoded = decode_tcf_core(trimmed)
    bad = pc.and_not(pc.invert(blank), decoded.column("valid").combine_chunks())
    return _result(trimmed, blank, bad, ConsentReason.MALFORMED_TCF)


def decode_tcf_core(values: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Per row: the core header fields (`TCF_HEADER` names, languages as letters, times as UTC
    timestamps), the two max vendor ids, and `valid` (the whole core structure decodes).
    Fields are null where the row is not a valid TC string."""
    strings = _as_strings(values)
    n = len(strings)
    shaped = pc.fill_null(pc.match_substring_regex(strings, _TCF_SHAPE), False)
    candidates = np.flatnonzero(shaped.to_numpy(zero_copy_only=False))
    chosen = pc.take(strings, candidates)
    dot = pc.find_substring(chosen, ".").to_numpy(zero_copy_only=False).astype(np.int64)
    core_chars = np.where(dot < 0, np.iinfo(np.int64).max, dot)
    fields, ok = _decode_core(Base64Bits(chosen, core_chars))
    valid = np.zeros(n, dtype=bool)
    valid[candidates] = ok
    columns: dict[str, pa.Array] = {}
    for name, array in fields.items():
        full = np.zeros(n, dtype=array.dtype)
        full[candidates] = array
        mask = ~valid
        if name in ("consent_language", "publisher_cc"):
            columns[name] = pa.array(_letters(full), pa.string(), mask=mask)
        elif name in ("created", "last_updated"):
            columns[name] = pa.array(full * 100, pa.int64(), mask=mask).cast(
                pa.timestamp("ms", tz="UTC")
            )
        else:
            columns[name] = pa.array(full, pa.int64(), mask=mask)
    columns["valid"] = pa.array(valid)
    return pa.table(columns)


def _decode_core(bits: Base64Bits) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Walk the core segment of every row at once; (fields, ok)."""
    m = len(bits)
    rows = np.arange(m)
    ok = np.ones(m, dtype=bool)  # the alphabet was checked by _TCF_SHAPE
    fields: dict[str, np.ndarray] = {}
    for name, position, width in TCF_HEADER:
        value, inside = bits.read(rows, np.full(m, position), width)
        fields[name] = value
        ok &= inside
    ok &= fields["version"] == 2
    ok &= (fields["created"] > 0) & (fields["last_updated"] > 0)
    ok &= (fields["cmp_id"] > 0) & (fields["vendor_list_version"] > 0)
    for name in ("consent_language", "publisher_cc"):  # two letters A..Z
        ok &= ((fields[name] >> 6) < 26) & ((fields[name] & 63) < 26)
    pos = np.full(m, TCF_VENDOR_SECTION, dtype=np.int64)
    for label in ("max_vendor_consent", "max_vendor_li"):
        fields[label], pos = _vendor_section(bits, rows, pos, ok)
    count, inside = bits.read(rows, pos, 12)  # NumPubRestrictions
    ok &= inside
    pos = pos + 12
    pos = _restrictions(bits, np.where(ok, count, 0), pos, ok)
    ok &= pos <= bits.nbits
    return fields, ok


def _vendor_section(
    bits: Base64Bits, rows: np.ndarray, pos: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """MaxVendorId(16), IsRangeEncoding(1), then a bit field or a range list; ok updated."""
    max_vendor, inside = bits.read(rows, pos, 16)
    ok &= inside
    is_range, inside = bits.read(rows, pos + 16, 1)
    ok &= inside
    pos = pos + 17
    pos = np.where(is_range == 1, pos, pos + max_vendor)
    count, inside = bits.read(rows, pos, 12)
    ranged = (is_range == 1) & ok
    ok &= inside | ~ranged
    pos = np.where(ranged, pos + 12, pos)
    pos = _ranges(bits, np.where(ranged, count, 0), pos, ok, max_vendor)
    return max_vendor, pos


def _ranges(
    bits: Base64Bits,
    count: np.ndarray,
    pos: np.ndarray,
    ok: np.ndarray,
    max_id: np.ndarray | None = None,
) -> np.ndarray:
    """Walk `count[i]` range entries (IsARange(1), Start(16), [End(16)]) of every row together;
    entries must be 1 <= start <= end (<= max_id when given). Returns the new positions."""
    pos = pos.copy()
    remaining = count.copy()
    while True:
        rows = np.flatnonzero((remaining > 0) & ok)
        if not len(rows):
            return pos
        is_a_range, in1 = bits.read(rows, pos[rows], 1)
        start, in2 = bits.read(rows, pos[rows] + 1, 16)
        end, in3 = bits.read(rows, pos[rows] + 17, 16)
        ranged = is_a_range == 1
        end = np.where(ranged, end, start)
        good = in1 & in2 & (in3 | ~ranged) & (start >= 1) & (end >= start)
        if max_id is not None:
            good &= end <= max_id[rows]
        ok[rows] &= good
        pos[rows] += np.where(ranged, 33, 17)
        remaining[rows] -= 1


def _restrictions(
    bits: Base64Bits, count: np.ndarray, pos: np.ndarray, ok: np.ndarray
) -> np.ndarray:
    """Publisher restrictions: PurposeId(6), RestrictionType(2), then a range list each."""
    pos = pos.copy()
    remaining = count.copy()
    while True:
        rows = np.flatnonzero((remaining > 0) & ok)
        if not len(rows):
            return pos
        entries, inside = bits.read(rows, pos[rows] + 8, 12)
        ok[rows] &= inside
        sub_count = np.zeros(len(pos), dtype=np.int64)
        sub_count[rows] = np.where(inside, entries, 0)
        pos[rows] += 20
        moved = _ranges(bits, sub_count, pos, ok)
        pos[rows] = moved[rows]
        remaining[rows] -= 1


def _letters(codes: np.ndarray) -> list[str]:
    """Two 6-bit letters (A = 0) per value."""
    first = np.clip(codes >> 6, 0, 25) + 65
    second = np.clip(codes & 63, 0, 25) + 65
    joined = np.stack([first, second], axis=1).astype(np.uint8).tobytes().decode("ascii")
    return [joined[i : i + 2] for i in range(0, len(joined), 2)]


# -- GPP v1 ---------------------------------------------------------------------------------------

_GPP_SHAPE = r"^[A-Za-z0-9_-]+(~[A-Za-z0-9._-]+)*$"


def check_gpp(values: pa.Array | pa.ChunkedArray) -> ValueCheck:
    """A GPP string whose header decodes (Type 3, Version 1, section ids) and is followed by
    exactly one section per id; else consent_malformed_gpp."""
    trimmed, blank = _trimmed(values)
    shaped = pc.fill_null(pc.match_substring_regex(trimmed, _GPP_SHAPE), False)
    headers = pc.list_element(pc.split_pattern(pc.if_else(shaped, trimmed, _NULL), "~"), 0)
    # Headers repeat (one per set of sections): decode each distinct header once.
    encoded = pc.dictionary_encode(headers)
    counts = pa.array(
        [gpp_section_ids_count(h) for h in encoded.dictionary.to_pylist()], pa.int64()
    )
    expected = pc.take(counts, encoded.indices)
    found = pc.count_substring(trimmed, "~").cast(pa.int64())
    good = pc.fill_null(pc.and_(shaped, pc.equal(expected, found)), False)
    bad = pc.and_not(pc.invert(blank), good)
    return _result(trimmed, blank, bad, ConsentReason.MALFORMED_GPP)


def gpp_section_ids_count(header: str) -> int | None:
    """How many sections a GPP header lists, None when it is not a valid v1 header."""
    ids = gpp_section_ids(header)
    return None if ids is None else len(ids)


@lru_cache(maxsize=4096)
def gpp_section_ids(header: str) -> tuple[int, ...] | None:
    """The section ids of a GPP v1 header (Type(6) = 3, Version(6) = 1, Range(Fibonacci))."""
    bits = _bit_string(header)
    if bits is None or len(bits) < 24 or int(bits[0:6], 2) != 3 or int(bits[6:12], 2) != 1:
        return None
    entries = int(bits[12:24], 2)
    pos, last, ids = 24, 0, []
    for _ in range(entries):
        if pos >= len(bits):
            return None
        is_range = bits[pos] == "1"
        offset, pos = _fibonacci(bits, pos + 1)
        if offset is None:
            return None
        start = last + offset
        if is_range:
            length, pos = _fibonacci(bits, pos)
            if length is None:
                return None
            ids.extend(range(start, start + length + 1))
            last = start + length
        else:
            ids.append(start)
            last = start
    return tuple(ids)


def _fibonacci(bits: str, pos: int) -> tuple[int | None, int]:
    """A Fibonacci-coded integer (terminated by '11') at `pos`; (value, next position)."""
    end = bits.find("11", pos)
    if end < 0:
        return None, len(bits)
    a, b, value = 1, 2, 0
    for bit in bits[pos : end + 1]:
        if bit == "1":
            value += a
        a, b = b, a + b
    return value, end + 2


def _bit_string(text: str) -> str | None:
    values = [_SIX.get(c) for c in text]
    if not values or None in values:
        return None
    return "".join(format(v, "06b") for v in values)


_SIX = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)}  # fmt: skip


# -- rows that need consent ---------------------------------------------------------------------


def consent_missing(
    countries: pa.Array | str | None,
    consent_values: Sequence[pa.Array],
    required_for: frozenset[str],
    rows: int,
) -> pa.Array:
    """Per row (of `rows`): true when its country (ISO alpha-2 per row, or one code for all)
    needs consent and every consent column is null (blank, or rejected as malformed)."""
    n = rows
    if not required_for:
        return pa.array(np.zeros(n, dtype=bool))
    if countries is None or isinstance(countries, str):
        needs = pa.array(np.full(n, countries in required_for, dtype=bool))
    else:
        needs = pc.fill_null(pc.is_in(countries, value_set=pa.array(sorted(required_for))), False)
    present = pa.array(np.zeros(n, dtype=bool))
    for values in consent_values:
        present = pc.or_(present, pc.is_valid(values))
    return pc.and_not(needs, present)


# -- helpers -------------------------------------------------------------------------------------


def _as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _trimmed(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """(trimmed strings, blank mask: null or empty after trimming)."""
    trimmed = pc.utf8_trim_whitespace(_as_strings(values))
    blank = pc.fill_null(pc.equal(pc.binary_length(trimmed), 0), True)
    return trimmed, blank


def _result(values: pa.Array, blank: pa.Array, bad: pa.Array, reason: str) -> ValueCheck:
    reasons = pc.if_else(bad, pa.scalar(str(reason)), _NULL)
    written = pc.if_else(pc.or_(blank, bad), _NULL, values)
    return ValueCheck(values=written, reasons=reasons)
