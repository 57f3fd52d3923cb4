"""Column-wise normalization dispatch: distinct values of one country in, (value, reason) out."""

from collections.abc import Callable

import pyarrow as pa

from adu_pipeline.normalization import address, email, names, phone, postcode
from adu_pipeline.normalization.reasons import PiiType
from adu_pipeline.normalization.text import Column

# Fields whose rule does not depend on the country (only the country's support does).
COUNTRY_INDEPENDENT = frozenset(
    {PiiType.EMAIL, PiiType.FIRST_NAME, PiiType.LAST_NAME, PiiType.CITY}
)

_RULES: dict[PiiType, Callable[[pa.Array, str], Column]] = {
    PiiType.FIRST_NAME: names.name,
    PiiType.LAST_NAME: names.name,
    PiiType.CITY: names.city,
    PiiType.STATE: names.state,
    PiiType.EMAIL: email.email,
    PiiType.ZIP: postcode.postcode,
    PiiType.ADDRESS: address.address,
    PiiType.PHONE: phone.phone,
}


# Work in slices so numpy's temporaries stay small enough to be reused from the heap instead
# of fresh pages per call (measured: 1M addresses 1.3 s in one piece, 0.74 s in 64K slices).
CHUNK_ROWS = 65_536


def normalize_unique(values: pa.Array, pii_type: PiiType, country: str) -> Column:
    """Normalized strings (null where invalid) and reasons (null where valid), same length.

    `values` are trimmed, non-empty and not pre-hashed; `country` is supported (ignored for
    COUNTRY_INDEPENDENT types).
    """
    rule = _RULES[pii_type]
    if len(values) <= CHUNK_ROWS:
        return rule(values, country)
    parts = [rule(values.slice(i, CHUNK_ROWS), country) for i in range(0, len(values), CHUNK_ROWS)]
    return (
        pa.concat_arrays([p[0].cast(pa.string()) for p in parts]),
        pa.concat_arrays([p[1].cast(pa.string()) for p in parts]),
    )
