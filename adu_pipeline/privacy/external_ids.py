"""External identities (`externalIdentity` columns): sent to AMC unhashed, checked by format.

Vectorized (one Arrow regex pass per column). The value written is the trimmed input, never
normalized or hashed (API.md 5.1: do not normalize MAID, LiveRamp or Experian ids). Formats:

- MAID, IDFA: a UUID 8-4-4-4-12 hex, any case (AMC treats MAID case-insensitively, API.md 2.2).
- LIVERAMP (RampID, LiveRamp "Interpreting RampID" and RampID API docs): a two-letter type, the
  4-digit partner encoding, then base64url characters. Maintained `XY` and household `hY` ids
  are 49 characters (XY1005wXyWPB1SgpMUKIpzA0I3UaLEz-2lg0wFAr1PWK7FMhs); derived `Xi` and
  placeholder `Xc` / `Xm` ids are 70.
- EXPERIAN (LUID, a household "Living Unit ID"; Experian publishes no format) and the other
  AMC types (KANTAR, MERKLE, NEUSTAR, REALID, SAMBATV): 1 to 256 printable ASCII characters
  without spaces, so an empty, multi-line or binary value never passes.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.privacy.consent import ValueCheck

_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_RAMPID = r"^((XY|hY)[0-9]{4}[A-Za-z0-9_-]{43}|(Xi|Xc|Xm)[0-9]{4}[A-Za-z0-9_-]{64})$"
_PRINTABLE = r"^[!-~]{1,256}$"
PATTERNS = {
    "MAID": _UUID,
    "IDFA": _UUID,
    "LIVERAMP": _RAMPID,
}
EXTERNAL_ID_TYPES = (
    "MAID", "LIVERAMP", "EXPERIAN", "IDFA", "KANTAR", "MERKLE", "NEUSTAR", "REALID", "SAMBATV",
)  # fmt: skip
_NULL = pa.scalar(None, pa.string())


def malformed_reason(identity_type: str) -> str:
    """`external_id_malformed_<type>`, e.g. external_id_malformed_maid."""
    return f"external_id_malformed_{identity_type.lower()}"


def check_external_id(values: pa.Array | pa.ChunkedArray, identity_type: str) -> ValueCheck:
    """Per row: the trimmed value (null when blank or malformed) and the reason, or null."""
    if identity_type not in EXTERNAL_ID_TYPES:
        raise ValueError(f"unknown external identity type {identity_type[:30]!r}")
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    blank = pc.fill_null(pc.equal(pc.binary_length(trimmed), 0), True)
    pattern = PATTERNS.get(identity_type, _PRINTABLE)
    good = pc.fill_null(pc.match_substring_regex(trimmed, pattern), False)
    bad = pc.and_not(pc.invert(blank), good)
    reasons = pc.if_else(bad, pa.scalar(malformed_reason(identity_type)), _NULL)
    return ValueCheck(values=pc.if_else(pc.or_(blank, bad), _NULL, trimmed), reasons=reasons)
