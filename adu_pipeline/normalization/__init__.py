"""Amazon-conformant normalization and SHA-256 of PII columns (API.md 5.2/5.2a); no Dagster."""

from adu_pipeline.normalization.api import (
    NormalizedColumn,
    PiiColumnResult,
    hash_normalized,
    hash_pii,
    normalize_pii,
)
from adu_pipeline.normalization.countries import (
    SUPPORTED_COUNTRIES,
    canonical_country,
    normalize_countries,
)
from adu_pipeline.normalization.groups import CountryGroups, country_groups
from adu_pipeline.normalization.reasons import PiiType, Reason
from adu_pipeline.normalization.reference import normalize_value

__all__ = [
    "SUPPORTED_COUNTRIES",
    "CountryGroups",
    "NormalizedColumn",
    "PiiColumnResult",
    "PiiType",
    "Reason",
    "canonical_country",
    "country_groups",
    "hash_normalized",
    "hash_pii",
    "normalize_countries",
    "normalize_pii",
    "normalize_value",
]
