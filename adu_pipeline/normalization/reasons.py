"""The PII types we hash and the counted reasons a PII value ends up null."""

from enum import StrEnum


class PiiType(StrEnum):
    """AMC HashedPiiType names (the values are the AMC spellings)."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    ADDRESS = "ADDRESS"
    CITY = "CITY"
    STATE = "STATE"
    ZIP = "ZIP"


class Reason(StrEnum):
    """Why a PII value became null; counted, never carrying the value itself."""

    MISSING = "missing"
    EMPTY_AFTER_NORMALIZATION = "empty_after_normalization"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    INVALID_POSTCODE = "invalid_postcode"
    COUNTRY_MISSING = "country_missing"
    COUNTRY_UNSUPPORTED = "country_unsupported"
