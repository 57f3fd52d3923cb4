"""EMAIL over Arrow columns: lower-case, keep word characters . @ -, require x@y.z."""

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.arrow import NULL_STRING, string
from adu_pipeline.normalization.buffers import byte_class, from_numpy, keep, on_subset, to_numpy
from adu_pipeline.normalization.names import exotic_pattern
from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.text import Column, non_ascii, with_fallback

_NULL = NULL_STRING
_UNICODE_DROP = r"[^\pL\pN_.@-]+"
# ASCII bytes an email keeps. Bytes >= 0x80 survive: non-ASCII rows were already filtered by
# the Unicode class above, and a byte filter is far cheaper than a regex on the common case.
_KEEP = byte_class("abcdefghijklmnopqrstuvwxyz0123456789_.@-")
_KEEP[128:] = True
# Exactly one '@', something before it, a dot in the domain.
_SHAPE = r"^[^@]+@[^@]*\.[^@]*$"


def email_chars(values: pa.Array) -> pa.Array:
    """Lower-case and drop everything but Unicode word characters, '.', '@' and '-'."""
    # The non-ASCII rows in one pass (lower-cased by Arrow, then the Unicode filter); ASCII
    # rows only need the case table and the byte filter.
    lowered = pc.ascii_lower(
        on_subset(
            values,
            non_ascii(values),
            lambda v: pc.replace_substring_regex(pc.utf8_lower(v), _UNICODE_DROP, ""),
        )
    )
    data, offsets = to_numpy(lowered)
    return from_numpy(*keep((data, offsets), _KEEP[data]))


def _vector(values: pa.Array) -> Column:
    cleaned = email_chars(values)
    valid = pc.match_substring_regex(cleaned, _SHAPE)
    reasons = pc.if_else(
        valid,
        _NULL,
        pc.if_else(
            pc.equal(cleaned, string("")),
            string(Reason.EMPTY_AFTER_NORMALIZATION.value),
            string(Reason.INVALID_EMAIL.value),
        ),
    )
    return pc.if_else(valid, cleaned, _NULL), reasons


def email(values: pa.Array, country: str | None = None) -> Column:
    return with_fallback(values, exotic_pattern("email"), _vector, reference.email)
