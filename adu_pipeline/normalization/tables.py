"""Amazon's normalization tables (package data), loaded once per process."""

import json
from functools import cache
from importlib import resources

# Amazon's order, and the LAST entry of a repeated key wins: its normalizer tests every map
# entry in turn and each hit replaces the token (aws-solutions/amazon-marketing-cloud-uploader-
# from-aws source/glue/library/address_normalizer.py lines 235-271 and 289-295; the same in
# amzn/amazon-ads-advertiser-audience-normalization-sdk-py AddressHashing/src/AddressHash.py
# lines 1484-1526 and 1536-1541). Each hit replaces the ORIGINAL word's token, so no chaining.
_ADDRESS_TABLES: dict[str, tuple[str, ...]] = {
    "US": ("USStreetSuffixes", "USSubBuildingDesignator"),
    "CA": ("DefaultStreetSuffixes",),
    "DE": ("DefaultStreetSuffixes",),
    "JP": ("DefaultStreetSuffixes",),
    "IN": ("DefaultStreetSuffixes",),
    "GB": ("UKOrganizationSuffixes", "UKStreetSuffixes", "UKSubBuildingDesignator"),
    "FR": ("FRStreetDesignator", "DefaultStreetSuffixes"),
    "ES": ("DefaultStreetSuffixes", "ESStreetPrefixes"),
    "IT": ("DefaultStreetSuffixes", "ITStreetPrefixes"),
}
_COMMON_ADDRESS_TABLES = ("NumberIndicators", "DirectionalWords")


def _load(name: str):
    text = resources.files(__package__).joinpath("tables", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def address_word_map(country: str) -> dict[str, str]:
    """Upper-case word -> replacement for one country; the last entry of a repeated key wins."""
    raw = _load("address_map_helper.json")
    mapping: dict[str, str] = {}
    for table in _COMMON_ADDRESS_TABLES + _ADDRESS_TABLES[country]:
        for entry in raw[table]:
            for key, value in entry.items():
                mapping[key] = value
    return mapping


@cache
def state_map(country: str) -> dict[str, str]:
    """Full state/province name (A-Z only) -> code; empty for countries without a map."""
    return dict(_load("state_codes.json").get(country, {}))
