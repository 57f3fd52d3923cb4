"""Differential test: the column functions agree with the scalar reference on messy input."""

import hashlib
import random

import pyarrow as pa
import pytest

from adu_pipeline.normalization import hash_pii, reference
from adu_pipeline.normalization.columns import normalize_unique
from adu_pipeline.normalization.reasons import PiiType
from adu_pipeline.normalization.tables import address_word_map

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "IT", "ES", "IN", "JP"]
TEXT_TYPES = [t for t in PiiType if t is not PiiType.PHONE]
PIECES = [
    "a",
    "Z",
    "x",
    "é",
    "É",
    "ß",
    "ẞ",
    "ä",
    "Ö",
    "ü",
    "ø",
    "Æ",
    "ç",
    "ñ",
    "İ",
    "ı",
    "ﬁ",
    "Σ",
    "σ",
    "K",
    "ǰ",
    "一",
    "٣",
    "²",
    "_",
    "+",
    "@",
    "@",
    ".",
    ".",
    "-",
    "-",
    "#",
    "/",
    "\\",
    "'",
    ",",
    "!",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    " ",
    " ",
    "  ",
    "\t",
    "\xa0",
    "\u2003",
    "\u200b",
    "0",
    "1",
    "7",
    "42",
    "123",
    "C/O",
    "c/o",
    "SW1A",
    "1AA",
    "K1A",
    "0B1",
    "75236",
    "-9599",
    "gmail",
    ".com",
    "Straße",
    "Québec",
    "Texas",
    "NEW YORK",
    "Île-de-France",
    "Bayern",
]


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _keys(country: str) -> list[str]:
    keys = list(address_word_map(country))
    return keys + [k.lower() for k in keys]


def _random_values(rng: random.Random, country: str, n: int) -> list[str]:
    words = PIECES + _keys(country)
    out = []
    for _ in range(n):
        parts = [rng.choice(words) for _ in range(rng.randint(1, 8))]
        sep = rng.choice(["", " ", ""])
        out.append(sep.join(parts))
    return out


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("pii_type", TEXT_TYPES)
def test_columns_match_reference(country, pii_type):
    rng = random.Random(f"{country}-{pii_type}")
    # normalize_unique receives trimmed, non-blank values (hash_pii handles the rest).
    values = sorted({v.strip() for v in _random_values(rng, country, 3000)} - {""})
    normalized, reasons = normalize_unique(pa.array(values, pa.string()), pii_type, country)
    expected = [reference.normalize_scalar(v, pii_type, country) for v in values]
    got = list(zip(normalized.to_pylist(), reasons.to_pylist(), strict=True))
    want = [(v, None if r is None else r.value) for v, r in expected]
    diffs = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if g != w]
    assert diffs == [], f"{len(diffs)} differ, e.g. {diffs[:3]}"


ROW_COUNTRIES = [*COUNTRIES, " uk", "gb", "CN", "XX", "", None]
WHITESPACE = ["\x1c", "\u3000", "\xa0", "\u2003", "\t", "\u200b"]
HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize("pii_type", list(PiiType))
def test_hash_pii_matches_reference_row_by_row(pii_type):
    """Whole API path (trim, blanks, pre-hashed, per-row countries, dedup) vs the scalar rule."""
    rng = random.Random(f"rows-{pii_type}")
    pool = _random_values(rng, "US", 400) + [HEX, HEX.upper(), "+1 415 555 2671", "030 1234567"]
    values, countries = [], []
    for _ in range(12_000):
        value = rng.choice(pool)
        if rng.random() < 0.2:
            value = rng.choice(WHITESPACE) + value + rng.choice(WHITESPACE)
        values.append(None if rng.random() < 0.03 else value)
        countries.append(rng.choice(ROW_COUNTRIES))
    result = hash_pii(pa.array(values, pa.string()), pii_type, pa.array(countries, pa.string()))
    expected_hashes, expected_reasons = [], []
    for value, country in zip(values, countries, strict=True):
        normalized, reason = reference.normalize_scalar(value, pii_type, country)
        prehashed = normalized is not None and normalized == (value or "").strip() == HEX
        expected_hashes.append(
            normalized if prehashed else None if normalized is None else sha(normalized)
        )
        expected_reasons.append(None if reason is None else reason.value)
    assert result.hashes.to_pylist() == expected_hashes
    assert result.reasons.to_pylist() == expected_reasons
    assert result.passed_through == sum(v is not None and v.strip() == HEX for v in values)
