"""EMAIL over Arrow columns: lower-case, keep word characters . @ -, require x@y.z."""

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.fallback import exotic_pattern
from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.text import Column, with_fallback

_NULL = pa.scalar(None, pa.string())
# Exactly one '@', something before it, a dot in the domain.
_SHAPE = r"^[^@]+@[^@]*\.[^@]*$"


def email_chars(values: pa.Array) -> pa.Array:
    """Lower-case and drop everything but Unicode word characters, '.', '@' and '-'."""
    return pc.replace_substring_regex(pc.utf8_lower(values), r"[^\pL\pN_.@-]+", "")


def _vector(values: pa.Array) -> Column:
    cleaned = email_chars(values)
    empty = pc.equal(cleaned, "")
    valid = pc.match_substring_regex(cleaned, _SHAPE)
    reasons = pc.case_when(
        pc.make_struct(empty, pc.invert(valid)),
        Reason.EMPTY_AFTER_NORMALIZATION.value,
        Reason.INVALID_EMAIL.value,
    )
    return pc.if_else(valid, cleaned, _NULL), reasons


def email(values: pa.Array, country: str | None = None) -> Column:
    return with_fallback(values, exotic_pattern("email"), _vector, reference.email)
