"""PHONE over Arrow columns: E.164 digits without '+', from phonenumbers' own metadata.

phonenumbers.parse + is_possible_number or is_valid_number (the reference, reference.phone; the
row country decides which, reference.PHONE_KEEPS_POSSIBLE) handle ~40k numbers/s.
This module applies the same steps to whole columns for the common shape of input (digits,
spaces, dashes, dots, slashes, parentheses, one leading '+') whose calling code belongs to a
supported country (1, 44, 49, 33, 39, 34, 91, 81):

1. a leading '+' or the default region's international prefix (011, 00, 010) announces a
   calling code (the first 1-3 digits that phonenumbers knows); otherwise a number that starts
   with the region's own calling code loses it when that makes it fit the region's pattern;
2. the national prefix (0, 1, ...) is stripped by the region's rule unless that would make a
   viable number unviable or too short;
3. possible = the national number's length is one of the general lengths (or local-only
   lengths) of the calling code's main region, as is_possible_number decides (US for NANPA);
   valid = it also fits the general pattern and one number type's pattern and lengths, of the
   region phonenumbers attributes it to (leading digits decide among regions sharing a calling
   code, e.g. NANPA or GB and its dependencies), as is_valid_number decides.

Anything else (letters, extensions, other calling codes, '+0...', Japan's 000x special
prefix) is left to phonenumbers itself, value by value; tests measure the agreement.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.arrow import (
    NULL_STRING,
    as_numpy,
    boolean,
    bools,
    int64s,
    string,
    strings,
)
from adu_pipeline.normalization.buffers import (
    DIGITS,
    byte_class,
    distinct,
    from_numpy,
    keep,
    position_in_row,
    row_sums,
    to_numpy,
)
from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.text import Column, merge, scalar

# Punctuation may precede the '+' ("(+44) ..."): phonenumbers starts at the first '+' or digit.
# The shape the column rule takes (`_shape` tests it on the bytes; tests compare the two).
_FAST_SHAPE = r"^[ ().\-/]*\+?[0-9 ().\-/]*$"
_PUNCTUATION = byte_class(" ().-/")
_SHAPE_BYTES = _PUNCTUATION | DIGITS | byte_class("+")
_PLUS = ord("+")
_MAX_INPUT = 250  # phonenumbers' _MAX_INPUT_STRING_LENGTH
_MAX_NSN = 17
_NULL = NULL_STRING
_TOO_SHORT, _POSSIBLE, _LOCAL_ONLY, _TOO_LONG, _INVALID_LENGTH = range(5)
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@dataclass(frozen=True)
class _Desc:
    pattern: str | None
    lengths: tuple[int, ...]
    local_lengths: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Region:
    code: str
    country_code: int
    idd: str | None  # literal international prefix, None if the pattern isn't a literal
    national_prefix: str | None  # national_prefix_for_parsing, groups made non-capturing
    transform_alternative: str | None  # rows matching this need phonenumbers (JP 000x)
    leading_digits: str | None
    general: _Desc
    types: tuple[_Desc, ...]


def _noncapturing(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("(?:" if pattern[i] == "(" and pattern[i + 1 : i + 2] != "?" else pattern[i])
        i += 1
    return "".join(out)


def _desc(desc) -> _Desc:
    if desc is None or not desc.national_number_pattern:
        return _Desc(None, ())
    return _Desc(
        desc.national_number_pattern,
        tuple(desc.possible_length),
        tuple(desc.possible_length_local_only),
    )


@cache
def _region(code: str) -> _Region:
    meta = PhoneMetadata.metadata_for_region(code)
    idd = meta.international_prefix
    npp = meta.national_prefix_for_parsing or None
    transform_alternative = None
    if npp and meta.national_prefix_transform_rule:
        # Only Japan among the parsing regions has one: its first alternative captures.
        first, _, rest = npp.partition("|")
        transform_alternative = _noncapturing(first)
        npp = rest
    return _Region(
        code=code,
        country_code=meta.country_code,
        idd=idd if idd and idd.isdigit() else None,
        national_prefix=_noncapturing(npp) if npp else None,
        transform_alternative=transform_alternative,
        leading_digits=_noncapturing(meta.leading_digits) if meta.leading_digits else None,
        general=_desc(meta.general_desc),
        types=tuple(_desc(getattr(meta, name)) for name in _TYPES),
    )


@cache
def _calling_code_table() -> tuple[pa.Array, np.ndarray]:
    codes = sorted(COUNTRY_CODE_TO_REGION_CODE)
    return strings(str(cc) for cc in codes), np.array(codes, dtype=np.int64)


@cache
def _vectorized_codes() -> frozenset[int]:
    """Calling codes whose main region is supported; their other regions are validated too."""
    from adu_pipeline.normalization.countries import SUPPORTED_COUNTRIES

    return frozenset(
        cc
        for cc, regions in COUNTRY_CODE_TO_REGION_CODE.items()
        if regions[0] in SUPPORTED_COUNTRIES
    )


# --- small column helpers -------------------------------------------------------------


def _shape(values: pa.Array) -> np.ndarray:
    """Per row, whether the value fits _FAST_SHAPE (null: no): punctuation and digits only,
    at most one '+' and no digit before it."""
    data, offsets = to_numpy(values)
    fits = row_sums(~_SHAPE_BYTES[data], offsets) == 0
    is_plus = data == _PLUS
    fits &= row_sums(is_plus, offsets) <= 1
    pluses = np.flatnonzero(is_plus)
    if len(pluses):
        digits_before = np.concatenate(([0], np.cumsum(DIGITS[data], dtype=np.int64)))
        row = np.searchsorted(offsets, pluses, side="right") - 1
        early = digits_before[pluses] > digits_before[offsets[row]]
        fits[row[early]] = False
    if values.null_count:
        fits &= _np(pc.is_valid(values))
    return fits


def _np(mask: pa.Array) -> np.ndarray:
    return as_numpy(mask, fill=False)


def _lengths(values: pa.Array) -> np.ndarray:
    return as_numpy(pc.binary_length(values)).astype(np.int64)


def _full(values: pa.Array, pattern: str | None) -> np.ndarray:
    if pattern is None or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    return _np(pc.fill_null(pc.match_substring_regex(values, f"^(?:{pattern})$"), boolean(False)))


def _prefix_length(values: pa.Array, pattern: str) -> np.ndarray:
    """Length of the match of pattern at the start (Python re.match semantics), -1 if none."""
    found = pc.extract_regex(values, f"^(?P<m>{pattern})")
    lengths = pc.binary_length(pc.struct_field(found, [0]))
    return as_numpy(lengths, fill=-1).astype(np.int64)


def _drop_prefix(values: pa.Array, counts: np.ndarray) -> pa.Array:
    """Remove the first counts[i] (ASCII) characters of each value."""
    if not counts.any():
        return values
    data, offsets = to_numpy(values)
    cut = position_in_row(offsets) >= np.repeat(counts, np.diff(offsets))
    return from_numpy(*keep((data, offsets), cut))


def _choose(mask: np.ndarray, when_true: pa.Array, when_false: pa.Array) -> pa.Array:
    return pc.if_else(bools(mask), when_true, when_false)


def _length_result(lengths: np.ndarray, desc: _Desc) -> np.ndarray:
    """phonenumbers' _test_number_length for the general description."""
    possible = np.array(desc.lengths or (-1,))
    result = np.where(np.isin(lengths, possible[1:]), _POSSIBLE, _INVALID_LENGTH)
    result = np.where(possible[-1] < lengths, _TOO_LONG, result)
    result = np.where(possible[0] > lengths, _TOO_SHORT, result)
    result = np.where(possible[0] == lengths, _POSSIBLE, result)
    return np.where(np.isin(lengths, desc.local_lengths), _LOCAL_ONLY, result)


def _strip_national_prefix(values: pa.Array, region: _Region) -> tuple[pa.Array, np.ndarray]:
    """(values without the national prefix where phonenumbers strips it, rows to hand over)."""
    n = len(values)
    handover = np.zeros(n, dtype=bool)
    if region.transform_alternative:
        handover = _full(values, region.transform_alternative)
    if region.national_prefix is None or n == 0:
        return values, handover
    length = _prefix_length(values, region.national_prefix)
    has = (length >= 0) & (_lengths(values) > 0)
    if not has.any():
        return values, handover
    rest = _drop_prefix(values, np.where(has, length, 0))
    viable = _full(values, region.general.pattern)
    rest_viable = _full(rest, region.general.pattern)
    strip = has & ~(viable & ~rest_viable)
    return _choose(strip, rest, values), handover


def _type_valid(values: pa.Array, region: _Region) -> np.ndarray:
    """phonenumbers' _number_type_helper(...) != UNKNOWN, for every value."""
    lengths = _lengths(values)
    general = region.general
    ok = _full(values, general.pattern)
    if general.lengths:
        ok &= np.isin(lengths, general.lengths)
    valid = np.zeros(len(values), dtype=bool)
    todo = ok.copy()
    for desc in region.types:
        if desc.pattern is None or not todo.any():
            continue
        fits = todo & (np.isin(lengths, desc.lengths) if desc.lengths else True)
        if not fits.any():
            continue
        idx = np.flatnonzero(fits)
        hit = _full(pc.take(values, int64s(idx)), desc.pattern)
        valid[idx[hit]] = True
        todo[idx[hit]] = False
    return valid


def _valid_for_code(national: pa.Array, calling_code: int) -> np.ndarray:
    """is_valid_number: the region is the first whose leading digits match, or (without
    leading digits) for which the number is valid; then it must be valid there."""
    regions = COUNTRY_CODE_TO_REGION_CODE[calling_code]
    valid = np.zeros(len(national), dtype=bool)
    unresolved = np.ones(len(national), dtype=bool)
    for code in regions:
        if not unresolved.any():
            break
        region = _region(code)
        idx = np.flatnonzero(unresolved)
        subset = pc.take(national, int64s(idx))
        if len(regions) > 1 and region.leading_digits is not None:
            claimed = _prefix_length(subset, region.leading_digits) >= 0
            ok = claimed.copy()
            if claimed.any():
                ok[claimed] = _type_valid(pc.filter(subset, bools(claimed)), region)
        else:
            ok = _type_valid(subset, region)
            claimed = ok
        valid[idx[ok]] = True
        unresolved[idx[claimed]] = False
    return valid


def _possible_for_code(national: pa.Array, calling_code: int) -> np.ndarray:
    """is_possible_number: the length test of the calling code's main region (UNKNOWN type)."""
    region = _region(COUNTRY_CODE_TO_REGION_CODE[calling_code][0])
    result = _length_result(_lengths(national), region.general)
    return np.isin(result, (_POSSIBLE, _LOCAL_ONLY))


# --- the column rule ---------------------------------------------------------------------


def _vector(values: pa.Array, country: str) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """(E.164 digits or null, reason or null, rows to hand over to phonenumbers) of values
    that fit _FAST_SHAPE."""
    n = len(values)
    default = _region(country)
    data, offsets = to_numpy(values)
    digits = from_numpy(*keep((data, offsets), DIGITS[data]))
    nd = _lengths(digits)
    plus = row_sums(data == _PLUS, offsets) > 0  # the shape puts it before any digit
    invalid = nd == 0  # reasons fixed below: no digit at all is empty_after_normalization
    handover = np.zeros(n, dtype=bool)

    # 1. international: '+' or the region's IDD, then a known calling code
    idd = default.idd
    idd_rows = ~plus & np.zeros(n, dtype=bool)
    if idd:
        starts = _np(pc.starts_with(digits, idd))
        after = pc.utf8_slice_codeunits(digits, len(idd), len(idd) + 1)
        idd_rows = ~plus & starts & ((nd == len(idd)) | _np(pc.not_equal(after, string("0"))))
    international = (plus | idd_rows) & ~invalid
    rest = _drop_prefix(digits, np.where(idd_rows, len(idd or ""), 0))
    rest_len = _lengths(rest)
    invalid |= international & (rest_len <= 2)
    keys, numbers = _calling_code_table()
    calling = np.zeros(n, dtype=np.int64)
    code_len = np.zeros(n, dtype=np.int64)
    candidates = international & ~_np(pc.starts_with(rest, "0"))
    for size in (3, 2, 1):  # the shortest known prefix wins: try longest first, overwrite
        found = pc.index_in(pc.utf8_slice_codeunits(rest, 0, size), value_set=keys)
        index = as_numpy(found, fill=-1)
        hit = candidates & (index >= 0) & (rest_len >= size)
        calling[hit], code_len[hit] = numbers[index[hit]], size
    no_code = international & ~invalid & (calling == 0)
    handover |= no_code & plus  # phonenumbers retries '+0...' / unknown codes without the '+'
    invalid |= no_code & ~plus
    vectorized = _vectorized_codes()
    other_code = international & ~invalid & (calling != 0) & ~np.isin(calling, list(vectorized))
    handover |= other_code
    national = _drop_prefix(rest, np.where(international, code_len, 0))
    # The parsing region of each row, as a calling code: its main region's rules apply,
    # except for plain national numbers (0), which use the default region's own rules.
    region_of_row = np.where(international, calling, 0)

    # 2. national format: the region's own calling code may lead the digits
    domestic = ~international & ~invalid
    own = str(default.country_code)
    leads = domestic & _np(pc.starts_with(digits, own))
    if leads.any():
        idx = np.flatnonzero(leads)
        full = pc.take(digits, int64s(idx))
        potential, jp = _strip_national_prefix(
            _drop_prefix(full, np.full(len(idx), len(own))), default
        )
        better = (
            ~_full(full, default.general.pattern) & _full(potential, default.general.pattern)
        ) | (_length_result(_lengths(full), default.general) == _TOO_LONG)
        handover[idx[jp]] = True
        use = idx[better]
        if len(use):
            mask = np.zeros(n, dtype=bool)
            mask[use] = True
            national = pc.replace_with_mask(
                national, bools(mask), pc.take(potential, int64s(np.flatnonzero(better)))
            )
            calling[use] = default.country_code
            region_of_row[use] = default.country_code
    calling[domestic & (calling == 0)] = default.country_code

    # 3. national prefix, per parsing region
    live = ~invalid & ~handover
    invalid |= live & (_lengths(national) < 2)
    live = ~invalid & ~handover
    for parsing in distinct(region_of_row[live]):
        rows = live & (region_of_row == parsing)
        idx = np.flatnonzero(rows)
        subset = pc.take(national, int64s(idx))
        code = COUNTRY_CODE_TO_REGION_CODE[int(parsing)][0] if parsing else country
        region = _region(code)
        stripped, jp = _strip_national_prefix(subset, region)
        handover[idx[jp]] = True
        result = _length_result(_lengths(stripped), region.general)
        take_it = ~np.isin(result, (_TOO_SHORT, _LOCAL_ONLY, _INVALID_LENGTH))
        chosen = _choose(take_it, stripped, subset)
        national = pc.replace_with_mask(national, bools(rows), chosen)
    live = ~invalid & ~handover
    invalid |= live & (_lengths(national) > _MAX_NSN)

    # 4. possible (or valid) number, per calling code; the row country chooses the reading
    live = ~invalid & ~handover
    valid = np.zeros(n, dtype=bool)
    kept = _possible_for_code if reference.phone_keeps_possible(country) else _valid_for_code
    for cc in distinct(calling[live]):
        idx = np.flatnonzero(live & (calling == cc))
        valid[idx] = kept(pc.take(national, int64s(idx)), int(cc))

    e164 = pc.binary_join_element_wise(int64s(calling).cast(pa.string()), national, string(""))
    out = _choose(valid, e164, pa.nulls(n, pa.string()))
    reasons = pc.if_else(
        bools(valid),
        _NULL,
        pc.if_else(
            bools(nd == 0),
            string(Reason.EMPTY_AFTER_NORMALIZATION.value),
            string(Reason.INVALID_PHONE.value),
        ),
    )
    return out, reasons, handover & ~(nd == 0)


def phone(values: pa.Array, country: str) -> Column:
    """E.164 digits without '+'; explicit +cc kept, else the row's country as default region."""
    rule = lambda v: reference.phone(v, country)  # noqa: E731
    fast = bools(_shape(values) & (_lengths(values) <= _MAX_INPUT))
    if not pc.any(fast).as_py():
        return scalar(values, rule)
    all_fast = pc.all(fast).as_py()
    subset = values if all_fast else pc.filter(values, fast)
    out, reasons, handover = _vector(subset, country)
    if handover.any():
        mask = bools(handover)
        slow_out, slow_reasons = scalar(pc.filter(subset, mask), rule)
        out = pc.replace_with_mask(out, mask, slow_out)
        reasons = pc.replace_with_mask(reasons, mask, slow_reasons)
    if all_fast:
        return out, reasons
    slow = pc.invert(fast)
    slow_out, slow_reasons = scalar(pc.filter(values, slow), rule)
    return merge(slow, slow_out, out), merge(slow, slow_reasons, reasons)
