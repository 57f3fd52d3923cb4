"""ADDRESS over Arrow columns: delimiters -> word lists -> table lookup -> joined, lower-cased.

Same steps as reference.address, on whole columns: split into words (list arrays), keep
dotted table keys whole and split the rest on dots, split '123-ABC' and around '#', look each
token up once with index_in against the country's keys, and join with no separator.
"""

from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.fallback import exotic_pattern
from adu_pipeline.normalization.tables import address_word_map
from adu_pipeline.normalization.text import Column, nonempty, replace_all, with_fallback

# Python's \s, \w and str.isnumeric as RE2 classes (fallback.py lists the exceptions).
SPACE_CLASS = r"[\t-\r\x1c-\x1f\x85\pZ]"
WORD_CLASS = r"[\pL\pN_]"
NUMERIC_CLASS = r"\pN"
# RE2's \b is ASCII-only; rows with C/O next to a non-ASCII letter take the scalar path.
_DELIMITERS = r"\bC/O\b|[,!\[\]{}()]|" + SPACE_CLASS
_DASH = r"^(\pN+)-([^-]*[^-\pN][^-]*)$"


def address_upper(values: pa.Array) -> pa.Array:
    """Python-style upper case ('ß' -> 'SS'; Arrow alone gives 'ẞ')."""
    return pc.utf8_upper(replace_all(values, {"ß": "SS"}))


@cache
def _table(country: str) -> tuple[pa.Array, pa.Array]:
    mapping = address_word_map(country)
    return pa.array(list(mapping), pa.string()), pa.array(list(mapping.values()), pa.string())


def _explode(values: pa.Array, pattern: str) -> pa.ListArray:
    return pc.split_pattern_regex(values, pattern)


def _implode(lists: pa.ListArray, values: pa.Array) -> pa.Array:
    return pc.binary_join(pa.ListArray.from_arrays(lists.offsets, values), "")


def _vector(values: pa.Array, country: str) -> Column:
    keys, replacements = _table(country)
    words = _explode(address_upper(values), _DELIMITERS)
    flat_words = words.flatten()
    is_key = pc.is_in(flat_words, value_set=keys)
    # Dotted keys (AVDA., P.ZZA, C.SO, INC.) stay whole; other words split on dots.
    dotted = pc.if_else(is_key, flat_words, pc.replace_substring(flat_words, ".", " "))
    pieces = _explode(dotted, " ")
    flat_pieces = pieces.flatten()
    split = pc.replace_substring(
        pc.replace_substring_regex(flat_pieces, _DASH, r"\1 \2"), "#", " # "
    )
    tokens = _explode(split, " ")
    flat_tokens = tokens.flatten()
    found = pc.index_in(flat_tokens, value_set=keys)
    mapped = pc.if_else(pc.is_valid(found), pc.take(replacements, found), flat_tokens)
    joined = _implode(words, _implode(pieces, _implode(tokens, mapped)))
    return nonempty(pc.utf8_lower(joined))


def _exotic(country: str) -> str:
    base = exotic_pattern("address")
    return "(?i:C/O)" if base is None else f"{base}|(?i:C/O)"


def address(values: pa.Array, country: str) -> Column:
    return with_fallback(
        values,
        _exotic(country),
        lambda v: _vector(v, country),
        lambda v: reference.address(v, country),
    )
