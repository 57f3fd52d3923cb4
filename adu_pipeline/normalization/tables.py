"""Amazon's normalization tables (package data), loaded once per process."""

import json
from functools import cache
from importlib import resources

# Order matters: the first table holding a word wins (API.md 5.2a, "no chaining").
_ADDRESS_TABLES: dict[str, tuple[str, ...]] = {
    "US": ("USStreetSuffixes", "USSubBuildingDesignator"),
    "CA": ("DefaultStreetSuffixes",),
    "DE": ("DefaultStreetSuffixes",),
    "JP": ("DefaultStreetSuffixes",),
    "IN": ("DefaultStreetSuffixes",),
    "GB": ("UKOrganizationSuffixes", "UKStreetSuffixes", "UKSubBuildingDesignator"),
    "FR": ("DefaultStreetSuffixes", "FRStreetDesignator"),
    "ES": ("ESStreetPrefixes", "DefaultStreetSuffixes"),
    "IT": ("ITStreetPrefixes", "DefaultStreetSuffixes"),
}
_COMMON_ADDRESS_TABLES = ("NumberIndicators", "DirectionalWords")


def _load(name: str):
    text = resources.files(__package__).joinpath("tables", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def address_word_map(country: str) -> dict[str, str]:
    """Upper-case word -> replacement for one country; first entry of a repeated key wins."""
    raw = _load("address_map_helper.json")
    mapping: dict[str, str] = {}
    for table in _COMMON_ADDRESS_TABLES + _ADDRESS_TABLES[country]:
        for entry in raw[table]:
            for key, value in entry.items():
                mapping.setdefault(key, value)
    return mapping


@cache
def state_map(country: str) -> dict[str, str]:
    """Full state/province name (A-Z only) -> code; empty for countries without a map."""
    return dict(_load("state_codes.json").get(country, {}))
