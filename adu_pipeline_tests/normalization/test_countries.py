"""Country spellings: codes, ISO alpha-3 and English names all give the ISO alpha-2 code."""

import json
from importlib import resources

import pyarrow as pa
import pytest

from adu_pipeline.normalization import (
    PiiType,
    Reason,
    canonical_country,
    hash_pii,
    normalize_countries,
)
from adu_pipeline.normalization.countries import ISO_ALPHA2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Germany", "DE"),
        (" germany ", "DE"),
        ("GERMANY", "DE"),
        ("Deutschland", "DE"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("usa", "US"),
        ("United Kingdom", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("uk", "GB"),
        ("GBR", "GB"),
        ("DEU", "DE"),
        ("fra", "FR"),
        ("JPN", "JP"),
        ("Japan", "JP"),
        ("India", "IN"),
        ("España", "ES"),
        ("Spain", "ES"),
        ("Italy", "IT"),
        ("Canada", "CA"),
        ("The Netherlands", "NL"),
        ("Côte d’Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Bosnia & Herzegovina", "BA"),
        ("Guinea-Bissau", "GW"),
        ("South Korea", "KR"),
    ],
)
def test_names_and_alpha3_map_to_alpha2(raw, code):
    assert canonical_country(raw) == code


@pytest.mark.parametrize("raw", ["Narnia", "XX", "XYZ", "", "  ", "United", "The"])
def test_not_a_country(raw):
    assert canonical_country(raw) is None


def test_every_alpha3_is_distinct_and_covers_every_alpha2():
    text = resources.files("adu_pipeline.normalization").joinpath("tables", "country_names.json")
    alpha3 = json.loads(text.read_text(encoding="utf-8"))["alpha3"]
    assert len(alpha3) == len(ISO_ALPHA2) == len(set(alpha3.values()))
    assert set(alpha3.values()) == ISO_ALPHA2
    assert all(canonical_country(a3) == a2 for a3, a2 in alpha3.items())


def test_country_column_with_names_hashes_like_codes():
    countries = pa.array(["Germany", "DE", "United States", "USA", "Brazil", "Narnia", None])
    codes, reasons = normalize_countries(countries)
    assert codes.to_pylist() == ["DE", "DE", "US", "US", "BR", None, None]
    unsupported, missing = Reason.COUNTRY_UNSUPPORTED.value, Reason.COUNTRY_MISSING.value
    assert reasons.to_pylist() == [None, None, None, None, unsupported, unsupported, missing]
    result = hash_pii(pa.array(["Müller"] * 7), PiiType.LAST_NAME, countries)
    hashes = result.hashes.to_pylist()
    assert hashes[0] == hashes[1] == hashes[2] == hashes[3] is not None
    assert hashes[4:] == [None, None, None]
