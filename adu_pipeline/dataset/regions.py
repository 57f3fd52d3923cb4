"""Region names a dataset may use for its consent rule (`pipeline.require_consent_for`)."""

from __future__ import annotations

# EU member states (27, since 2020-02-01), ISO-3166 alpha-2 (Greece is GR, not EL).
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip
EEA_COUNTRIES = EU_COUNTRIES | {"IS", "LI", "NO"}
REGIONS = {"EU": EU_COUNTRIES, "EEA": EEA_COUNTRIES}


def expand_regions(names: tuple[str, ...]) -> frozenset[str]:
    """`EU` / `EEA` -> their member countries; any other name is an ISO alpha-2 code."""
    codes: set[str] = set()
    for name in names:
        codes |= REGIONS.get(name, {name})
    return frozenset(codes)
