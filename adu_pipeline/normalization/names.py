"""FIRST_NAME / LAST_NAME, CITY and STATE over Arrow columns (API.md 5.2, 5.2a), and the lookup
of the exotic characters that send a value to the scalar reference (shared with email and
address; fallback.py computes the table from these column functions)."""

import json
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.arrow import strings
from adu_pipeline.normalization.buffers import LOWER_ALNUM, keep, lengths, to_numpy
from adu_pipeline.normalization.tables import state_map
from adu_pipeline.normalization.text import (
    Column,
    from_strings,
    lower,
    nonempty,
    upper,
    with_fallback,
)

_TRANSLITERATION = {"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue", "ø": "o", "æ": "ae"}
FALLBACK_FILE = "fallback_chars.json"


@cache
def exotic_pattern(field: str) -> str | None:
    """An RE2 character class matching the field's fallback characters (where Python and Arrow
    disagree, see fallback.py), or None."""
    text = resources.files(__package__).joinpath("tables", FALLBACK_FILE).read_text("utf-8")
    ranges = json.loads(text)["fields"].get(field, [])
    if not ranges:
        return None
    return "[" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def _keep_lower_alnum(lowered: pa.Array) -> Column:
    data, offsets = to_numpy(lowered)
    strings = keep((data, offsets), LOWER_ALNUM[data])
    return from_strings(strings, lengths(strings[1]) > 0)


def name_vector(values: pa.Array) -> Column:
    return _keep_lower_alnum(lower(values, _TRANSLITERATION))


def city_vector(values: pa.Array) -> Column:
    return _keep_lower_alnum(lower(values))


def state_letters(values: pa.Array) -> pa.Array:
    """Upper-case and keep A-Z only (the key looked up in the state map)."""
    return pc.replace_substring_regex(upper(values), "[^A-Z]+", "")


def name(values: pa.Array, country: str | None = None) -> Column:
    """Lower-case, transliterate ß ä ö ü ø æ, keep a-z0-9."""
    return with_fallback(values, exotic_pattern("name"), name_vector, reference.name)


def city(values: pa.Array, country: str | None = None) -> Column:
    """Lower-case, keep a-z0-9, no transliteration."""
    return with_fallback(values, exotic_pattern("city"), city_vector, reference.city)


@cache
def _state_keys(country: str) -> tuple[pa.Array, pa.Array]:
    mapping = state_map(country)
    return strings(mapping), strings(mapping.values())


def state(values: pa.Array, country: str) -> Column:
    """A-Z only; a full name in the country's map becomes its code, else the first 2 letters."""

    def vector(values: pa.Array) -> Column:
        letters = state_letters(values)
        keys, codes = _state_keys(country)
        found = pc.index_in(letters, value_set=keys)
        code = pc.if_else(
            pc.is_valid(found), pc.take(codes, found), pc.utf8_slice_codeunits(letters, 0, 2)
        )
        return nonempty(pc.ascii_lower(code))

    return with_fallback(
        values, exotic_pattern("state"), vector, lambda v: reference.state(v, country)
    )
