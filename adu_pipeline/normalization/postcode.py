"""ZIP over Arrow columns: strip to the country's alphabet, cut, require the exact shape."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.arrow import as_numpy
from adu_pipeline.normalization.buffers import (
    ALNUM,
    DIGITS,
    LETTERS,
    UPPER,
    from_numpy,
    keep,
    lengths,
    to_numpy,
    truncate,
)
from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.text import Column, from_strings

# ASCII-only alphabets, so multi-byte characters simply vanish and bytes equal characters.
_RULES = {"CA": (ALNUM, 6), "GB": (ALNUM, 7), "IN": (DIGITS, 6), "JP": (DIGITS, 7)}
_DEFAULT = (DIGITS, 5)  # US, DE, FR, IT, ES
_GB_SHAPE = "^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"


def postcode(values: pa.Array, country: str) -> Column:
    """Upper case is canonical: lower-cased GB/CA letters would not match Amazon's hashes."""
    alphabet, length = _RULES.get(country, _DEFAULT)
    data, offsets = to_numpy(values)
    data, offsets = truncate(keep((data, offsets), alphabet[data]), length)
    data = UPPER[data]
    sizes = lengths(offsets)
    if country == "GB":
        valid = as_numpy(pc.match_substring_regex(from_numpy(data, offsets), _GB_SHAPE))
    elif country == "CA":
        valid = sizes == 6
        starts = offsets[:-1][valid]
        for i, cls in enumerate((LETTERS, DIGITS) * 3):
            valid[valid] = cls[data[starts + i]]
            starts = starts[cls[data[starts + i]]]
    else:
        valid = sizes == length
    reason = np.where(
        sizes > 0, Reason.INVALID_POSTCODE.value, Reason.EMPTY_AFTER_NORMALIZATION.value
    ).astype(object)
    return from_strings((data, offsets), valid, reason)
