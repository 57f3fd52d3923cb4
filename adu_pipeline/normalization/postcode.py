"""ZIP over Arrow columns: strip to the country's alphabet, cut, require the exact shape."""

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.reasons import Reason
from adu_pipeline.normalization.text import Column

_NULL = pa.scalar(None, pa.string())
# country -> (characters removed, max length, required shape); ASCII only, so no fallback.
_RULES = {
    "CA": ("[^0-9A-Za-z]+", 6, "^(?:[A-Za-z][0-9]){3}$"),
    "GB": ("[^0-9A-Za-z]+", 7, "^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?[0-9][A-Za-z]{2}$"),
    "IN": ("[^0-9]+", 6, "^[0-9]{6}$"),
    "JP": ("[^0-9]+", 7, "^[0-9]{7}$"),
}
_DEFAULT = ("[^0-9]+", 5, "^[0-9]{5}$")  # US, DE, FR, IT, ES


def postcode(values: pa.Array, country: str) -> Column:
    """Upper case is canonical: lower-cased GB/CA letters would not match Amazon's hashes."""
    strip, length, shape = _RULES.get(country, _DEFAULT)
    cut = pc.utf8_slice_codeunits(pc.replace_substring_regex(values, strip, ""), 0, length)
    valid = pc.match_substring_regex(cut, shape)
    reasons = pc.case_when(
        pc.make_struct(pc.equal(cut, ""), pc.invert(valid)),
        Reason.EMPTY_AFTER_NORMALIZATION.value,
        Reason.INVALID_POSTCODE.value,
    )
    return pc.if_else(valid, pc.ascii_upper(cut), _NULL), reasons
