"""Column-wise normalization dispatch: distinct values of one country in, (value, reason) out."""

import pyarrow as pa

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.reasons import PiiType

# Fields whose rule does not depend on the country (only the country's support does).
COUNTRY_INDEPENDENT = frozenset(
    {PiiType.EMAIL, PiiType.FIRST_NAME, PiiType.LAST_NAME, PiiType.CITY}
)


def normalize_unique(
    values: pa.Array, pii_type: PiiType, country: str
) -> tuple[pa.Array, pa.Array]:
    """Normalized strings (null where invalid) and reasons (null where valid), same length."""
    out, reasons = [], []
    for value in values.to_pylist():
        normalized, reason = reference.normalize_scalar(value, pii_type, country or "US")
        out.append(normalized)
        reasons.append(None if reason is None else reason.value)
    return pa.array(out, pa.string()), pa.array(reasons, pa.string())
