"""ADDRESS over Arrow columns: the reference tokenizer done on whole byte buffers.

Same steps as reference.address: upper-case; cut at delimiters (',', '!', brackets,
whitespace, C/O as a whole word) into words; words that are not table keys also split on
dots (so AVDA., P.ZZA, C.SO and INC. stay whole); '123-ABC' splits at its last dash and
'APT#4' around its '#'; every token is looked up once with index_in against the country's keys
(the last entry of a repeated key wins); the results are joined with no separator and
lower-cased. Rows where Amazon's dash and '#' passes do more than that (a second split in the
row, a '#' piece with more than `[A-Z]*#[0-9A-Z-/]*`) take the scalar rule.

Tokens are never materialized one by one: the delimiter bytes are dropped from the value
buffer at once (numpy), after which words and tokens are (start, end) ranges over one
contiguous buffer that Arrow can look up as a string array without copying.
"""

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.arrow import as_numpy, bools, int64s, strings
from adu_pipeline.normalization.buffers import (
    ALNUM,
    DIGITS,
    byte_class,
    distinct,
    from_numpy,
    on_subset,
    to_numpy,
)
from adu_pipeline.normalization.names import exotic_pattern
from adu_pipeline.normalization.tables import address_word_map
from adu_pipeline.normalization.text import (
    Column,
    from_strings,
    lower,
    non_ascii,
    scalar,
    upper,
    with_fallback,
)

# Python's \s and \w as RE2 classes (fallback.py lists the characters where they differ).
SPACE_CLASS = r"[\t-\r\x1c-\x1f\x85\pZ]"
WORD_CLASS = r"[\pL\pN_]"
_UNICODE_SPACE = r"[\x{85}\pZ]"
_DELIMITER = byte_class(",![]{}()\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")
# Non-ASCII bytes count as word characters (Python's \w); rows where that matters for C/O
# take the scalar path (see _exotic).
_WORD = ALNUM | byte_class("_")
_WORD[128:] = True
_C, _SLASH, _O, _DOT, _DASH, _POUND = (ord(c) for c in "C/O.-#")
_UPPER_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Amazon's POUND_REGEX "([A-Z]*)#([0-9A-Z-/]*)": what may stand before and after the '#'.
_POUND_BEFORE = byte_class(_UPPER_LETTERS)
_POUND_AFTER = byte_class(_UPPER_LETTERS + "0123456789-/")


@cache
def _table(country: str) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """(keys, replacement bytes, replacement starts, replacement lengths) for one country."""
    mapping = address_word_map(country)
    keys = strings(mapping)
    encoded = [v.encode() for v in mapping.values()]
    offsets = np.concatenate(([0], np.cumsum([len(v) for v in encoded]))).astype(np.int64)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return keys, data, offsets[:-1], np.diff(offsets)


def _co_delimiters(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Positions of the bytes of every 'C/O' standing as a whole word."""
    if len(data) < 3:
        return np.zeros(0, dtype=np.int64)
    hits = np.flatnonzero((data[:-2] == _C) & (data[1:-1] == _SLASH) & (data[2:] == _O))
    if len(hits) == 0:
        return hits
    row = np.searchsorted(offsets, hits, side="right") - 1
    start, end = offsets[row], offsets[row + 1]
    before_ok = (hits == start) | ~_WORD[data[np.maximum(hits - 1, 0)]]
    after_ok = (hits + 3 == end) | ~_WORD[data[np.minimum(hits + 3, len(data) - 1)]]
    hits = hits[(hits + 3 <= end) & before_ok & after_ok]
    return np.concatenate((hits, hits + 1, hits + 2))


def _words(data: np.ndarray, offsets: np.ndarray):
    """Drop delimiter bytes: (word bytes, word offsets, row offsets), all in word-byte space."""
    delimiter = _DELIMITER[data]
    delimiter[_co_delimiters(data, offsets)] = True
    kept = ~delimiter
    nonempty = np.diff(offsets) > 0
    first, last = offsets[:-1][nonempty], offsets[1:][nonempty] - 1
    starts = kept.copy()
    starts[1:] &= delimiter[:-1]
    starts[first] = kept[first]
    ends = kept.copy()
    ends[:-1] &= delimiter[1:]
    ends[last] = kept[last]
    word_starts = np.flatnonzero(starts)
    word_offsets = np.concatenate(([0], np.cumsum(np.flatnonzero(ends) + 1 - word_starts)))
    # Words are in row order: a row starts where its first word starts.
    row_offsets = word_offsets[np.searchsorted(word_starts, offsets, side="left")]
    return data[kept], word_offsets, row_offsets


def _merge(sorted_values: np.ndarray, *extra: np.ndarray) -> np.ndarray:
    """Insert a few extra positions into a long sorted array (cheaper than sorting it)."""
    extra_values = np.sort(np.concatenate(extra)) if extra else np.zeros(0, dtype=np.int64)
    if len(extra_values) == 0:
        return sorted_values
    where = np.searchsorted(sorted_values, extra_values, side="right")
    return np.insert(sorted_values, where, extra_values)


def _dash_cuts(words: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Last dashes that split a piece: digits before, something non-numeric after."""
    dashes = np.flatnonzero(words == _DASH)
    if len(dashes) == 0:
        return dashes
    piece = np.searchsorted(starts, dashes, side="right") - 1
    last = np.append(piece[1:] != piece[:-1], True)
    dashes, piece = dashes[last], piece[last]
    s, e = starts[piece], ends[piece]
    ok = (dashes > s) & (dashes < e - 1)
    dashes, s, e = dashes[ok], s[ok], e[ok]
    if len(dashes) == 0:
        return dashes
    # Count non-digits before and after each dash over just these pieces' bytes.
    sizes = e - s
    local = np.concatenate(([0], np.cumsum(sizes)))
    index = np.repeat(s - local[:-1], sizes) + np.arange(local[-1])
    non_digit = np.concatenate(([0], np.cumsum(~DIGITS[words[index]])))
    at = local[:-1] + (dashes - s)
    before = non_digit[at] - non_digit[local[:-1]]
    after = non_digit[local[1:]] - non_digit[at + 1]
    return dashes[(before == 0) & (after > 0)]


def _rows_of(positions: np.ndarray, row_offsets: np.ndarray) -> np.ndarray:
    """Row index of each word-byte position (empty rows own no byte)."""
    return np.searchsorted(row_offsets, positions, side="right") - 1


def _rows_seen_twice(rows: np.ndarray) -> np.ndarray:
    found, counts = np.unique(rows, return_counts=True)
    return found[counts > 1]


def _odd_pounds(words: np.ndarray, starts: np.ndarray, ends: np.ndarray, pounds: np.ndarray):
    """Per '#': (piece is not `[A-Z]*#[0-9A-Z-/]*`, piece splits, i.e. is more than '#').

    Cutting around a '#' is Amazon's Pound pass exactly for such a piece (its one '#' is the
    whole match); anything else in the piece would be dropped, which the scalar rule does.
    """
    piece = np.searchsorted(starts, pounds, side="right") - 1
    s, e = starts[piece], ends[piece]
    # Only the bytes of pieces holding a '#' are looked at (a piece with two is seen twice).
    sizes = e - s
    local = np.concatenate(([0], np.cumsum(sizes)))
    position = np.repeat(s - local[:-1], sizes) + np.arange(local[-1])
    byte, pound = words[position], np.repeat(pounds, sizes)
    bad = ((position < pound) & ~_POUND_BEFORE[byte]) | ((position > pound) & ~_POUND_AFTER[byte])
    odd = np.add.reduceat(bad, local[:-1]) > 0
    return odd, e - s > 1


def _tokens(words: np.ndarray, word_offsets: np.ndarray, row_offsets: np.ndarray, keys):
    """Token (start, end) ranges, byte positions removed (dots and split dashes), and the
    rows that need the scalar rule.

    Amazon's dash and '#' passes loop over the token list's length before the pass, so a
    second split in a row can push a token out of the loop: such rows (two dash splits, two
    '#' splits, or a '#' piece with more than the match) take the scalar rule.
    """
    starts, ends = word_offsets[:-1], word_offsets[1:]
    dots = np.flatnonzero(words == _DOT)
    if len(dots):
        # Only words holding a dot need the whole-word lookup (AVDA., P.ZZA, INC. stay whole).
        dotted = np.searchsorted(word_offsets, dots, side="right") - 1
        candidates = distinct(dotted)
        strings = pc.take(from_numpy(words, word_offsets), int64s(candidates))
        is_key = np.zeros(len(starts), dtype=bool)
        is_key[candidates] = as_numpy(pc.is_in(strings, value_set=keys))
        dots = dots[~is_key[dotted]]
    if len(dots):
        starts, ends = _merge(starts, dots + 1), _merge(ends, dots)
        keep = starts < ends
        starts, ends = starts[keep], ends[keep]
    dashes = _dash_cuts(words, starts, ends)
    rule_rows = [_rows_seen_twice(_rows_of(dashes, row_offsets))]
    if len(dashes):
        starts, ends = _merge(starts, dashes + 1), _merge(ends, dashes)
    pounds = np.flatnonzero(words == _POUND)
    if len(pounds):
        odd, splits = _odd_pounds(words, starts, ends, pounds)
        rule_rows.append(_rows_of(pounds[odd], row_offsets))
        rule_rows.append(_rows_seen_twice(_rows_of(pounds[splits & ~odd], row_offsets)))
        starts, ends = _merge(starts, pounds, pounds + 1), _merge(ends, pounds, pounds + 1)
        keep = starts < ends
        starts, ends = starts[keep], ends[keep]
    removed = np.sort(np.concatenate((dots, dashes)))
    return starts, ends, removed, distinct(np.concatenate(rule_rows))


def _vector(values: pa.Array, country: str) -> tuple[Column, np.ndarray]:
    """(normalized, reasons) and the rows whose result must come from the scalar rule."""
    keys, rep_data, rep_starts, rep_lengths = _table(country)
    upper_values = upper(values)
    upper_values = on_subset(
        upper_values,
        non_ascii(upper_values),
        lambda v: pc.replace_substring_regex(v, _UNICODE_SPACE, " "),
    )
    data, offsets = to_numpy(upper_values)
    n = len(offsets) - 1
    words, word_offsets, row_offsets = _words(data, offsets)
    no_rows = np.zeros(0, dtype=np.int64)
    if len(words) == 0:
        return from_strings((words, row_offsets), np.zeros(n, dtype=bool)), no_rows
    starts, ends, removed, rule_rows = _tokens(words, word_offsets, row_offsets, keys)
    if len(removed):
        kept = np.ones(len(words), dtype=bool)
        kept[removed] = False
        words = words[kept]
        starts = starts - np.searchsorted(removed, starts)
        ends = ends - np.searchsorted(removed, ends)
        row_offsets = row_offsets - np.searchsorted(removed, row_offsets)
    if len(starts) == 0:
        empty = from_strings((words[:0], np.zeros_like(row_offsets)), np.zeros(n, dtype=bool))
        return empty, rule_rows

    found = pc.index_in(from_numpy(words, np.append(starts, ends[-1])), value_set=keys)
    hit = as_numpy(pc.is_valid(found))
    index = as_numpy(found, fill=0)
    out_len = np.where(hit, rep_lengths[index], ends - starts)
    source_start = np.where(hit, len(words) + rep_starts[index], starts)
    out_offsets = np.concatenate(([0], np.cumsum(out_len)))
    # int32 keeps the per-byte index arrays small (batches stay far below 2 GiB).
    shift = (source_start - out_offsets[:-1]).astype(np.int32)
    gather = np.repeat(shift, out_len) + np.arange(out_offsets[-1], dtype=np.int32)
    output = np.concatenate((words, rep_data))[gather]
    # Tokens are in row order: a row's output starts where its first token's output starts.
    row_output = out_offsets[np.searchsorted(starts, row_offsets, side="left")]
    joined = lower(from_numpy(output, row_output))
    return from_strings(to_numpy(joined), np.diff(row_output) > 0), rule_rows


def _vector_or_rule(values: pa.Array, country: str) -> Column:
    """The column form, with the rows it flags redone by the scalar rule."""
    (out, reasons), rule_rows = _vector(values, country)
    if len(rule_rows) == 0:
        return out, reasons
    mask = np.zeros(len(values), dtype=bool)
    mask[rule_rows] = True
    mask_arr = bools(mask)
    slow_out, slow_reasons = scalar(
        pc.filter(values, mask_arr), lambda v: reference.address(v, country)
    )
    return (
        pc.replace_with_mask(out, mask_arr, slow_out),
        pc.replace_with_mask(reasons, mask_arr, slow_reasons),
    )


def _exotic(country: str) -> str:
    """Rows the scalar rule must handle: exotic characters, C/O next to non-ASCII text, or a
    dash next to non-ASCII numerals (which Python's isnumeric() accepts)."""
    numeric = exotic_pattern("address_numeric")
    patterns = [exotic_pattern("address"), "(?i:C/O)", f"{numeric}.*-|-.*{numeric}"]
    return "|".join(p for p in patterns if p and "None" not in p)


def address(values: pa.Array, country: str) -> Column:
    return with_fallback(
        values,
        _exotic(country),
        lambda v: _vector_or_rule(v, country),
        lambda v: reference.address(v, country),
    )
