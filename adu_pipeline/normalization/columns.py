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


def normalize_unique(values: pa.Array, pii_type: PiiType, country: str) -> Column:
    """Normalized strings (null where invalid) and reasons (null where valid), same length.

    `values` are trimmed, non-empty and not pre-hashed; `country` is supported (ignored for
    COUNTRY_INDEPENDENT types).
    """
    return _RULES[pii_type](values, country)
