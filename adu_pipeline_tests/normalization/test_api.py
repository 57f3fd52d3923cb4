"""hash_pii, canonical_country and normalize_countries: the contract other parts rely on."""

import hashlib

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from adu_pipeline.normalization import (
    SUPPORTED_COUNTRIES,
    PiiType,
    Reason,
    canonical_country,
    country_groups,
    hash_normalized,
    hash_pii,
    normalize_countries,
    normalize_pii,
    normalize_value,
)
from adu_pipeline.normalization import api as api_module

HEX = "0123456789abcdef" * 4
EMPTY_HASH = hashlib.sha256(b"").hexdigest()


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_supported_countries():
    assert {"US", "CA", "GB", "DE", "FR", "IT", "ES", "IN", "JP"} == SUPPORTED_COUNTRIES


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (" uk", "GB"),
        ("UK", "GB"),
        ("gb", "GB"),
        ("us", "US"),
        (" Jp ", "JP"),
        ("cn", "CN"),
        ("XX", None),
        ("USA", "US"),  # alpha-3 (test_countries.py)
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_canonical_country(raw, code):
    assert canonical_country(raw) == code


def test_normalize_countries_codes_and_reasons():
    codes, reasons = normalize_countries(pa.array(["us", " uk", "CN", "XX", "", None, "DE"]))
    assert codes.to_pylist() == ["US", "GB", "CN", None, None, None, "DE"]
    assert reasons.to_pylist() == [
        None,
        None,
        "country_unsupported",
        "country_unsupported",
        "country_missing",
        "country_missing",
        None,
    ]


def test_result_types_and_reasons_never_carry_values():
    values = pa.array(["Jane", None, "", "  ", "a@b", "-", HEX])
    result = hash_pii(values, PiiType.EMAIL, "US")
    assert result.hashes.type == pa.string() and result.reasons.type == pa.string()
    assert len(result.hashes) == len(result.reasons) == len(values)
    assert set(result.reasons.to_pylist()) <= {None, *(r.value for r in Reason)}
    # Exactly one of hash and reason per row.
    for h, r in zip(result.hashes.to_pylist(), result.reasons.to_pylist(), strict=True):
        assert (h is None) != (r is None)


def test_missing_empty_and_prehashed():
    result = hash_pii(pa.array([None, "", "   ", "!!", HEX, HEX.upper()]), PiiType.FIRST_NAME, "US")
    assert result.reasons.to_pylist() == [
        "missing",
        "missing",
        "missing",
        "empty_after_normalization",
        None,
        None,
    ]
    hashes = result.hashes.to_pylist()
    assert hashes[4] == HEX and result.passed_through == 1
    assert hashes[5] == sha(HEX.upper().lower())  # upper-case hex is not a SHA-256 output here
    assert EMPTY_HASH not in hashes


def test_prehashed_values_pass_through_whatever_the_country():
    result = hash_pii(pa.array([HEX, HEX, "x"]), PiiType.EMAIL, pa.array(["XX", None, None]))
    assert result.hashes.to_pylist() == [HEX, HEX, None]
    assert result.reasons.to_pylist() == [None, None, "country_missing"]
    assert result.passed_through == 2
    assert hash_pii(pa.array([HEX]), PiiType.CITY, "CN").hashes.to_pylist() == [HEX]


@pytest.mark.parametrize(
    ("country", "reason"),
    [("CN", "country_unsupported"), ("XX", "country_unsupported"), ("", "country_missing")],
)
def test_unusable_upload_country(country, reason):
    result = hash_pii(pa.array(["Jane", None]), PiiType.FIRST_NAME, country)
    assert result.hashes.to_pylist() == [None, None]
    assert result.reasons.to_pylist() == [reason, "missing"]


def test_per_row_countries_pick_each_rows_rules():
    values = pa.array(["SW1A 1AA", "sw1a 1aa", "94107-1234", "94107", "K1A 0B1", "x", None])
    countries = pa.array(["GB", " uk", "US", "CN", "ca", None, "US"])
    result = hash_pii(values, PiiType.ZIP, countries)
    assert result.hashes.to_pylist() == [
        sha("SW1A1AA"),
        sha("SW1A1AA"),
        sha("94107"),
        None,
        sha("K1A0B1"),
        None,
        None,
    ]
    assert result.reasons.to_pylist() == [
        None,
        None,
        None,
        "country_unsupported",
        None,
        "country_missing",
        "missing",
    ]


def test_dictionary_encoded_row_countries_give_the_same_result():
    """The file engine encodes a batch's countries once and passes the encoded array on."""
    values = pa.array(["SW1A 1AA", "sw1a 1aa", "94107-1234", "94107", "K1A 0B1", "x", None])
    countries = pa.array(["GB", " uk", "US", "CN", "ca", None, "US"])
    plain = hash_pii(values, PiiType.ZIP, countries)
    encoded = hash_pii(values, PiiType.ZIP, countries.dictionary_encode())
    assert encoded.hashes.equals(plain.hashes)
    assert encoded.reasons.equals(plain.reasons)
    assert encoded.passed_through == plain.passed_through


def test_gb_and_uk_are_one_country():
    values = pa.array(["10 Downing Street", "07911 123456"])
    for pii_type in (PiiType.ADDRESS, PiiType.PHONE, PiiType.STATE, PiiType.ZIP):
        assert (
            hash_pii(values, pii_type, "UK").hashes.to_pylist()
            == hash_pii(values, pii_type, "GB").hashes.to_pylist()
        )


def test_chunked_dictionary_and_non_string_inputs():
    chunked = pa.chunked_array([["Jane", "JANE"], ["jane "]])
    assert hash_pii(chunked, PiiType.FIRST_NAME, "US").hashes.to_pylist() == [sha("jane")] * 3
    encoded = pa.array(["Jane", "Bob", "Jane"]).dictionary_encode()
    assert hash_pii(encoded, PiiType.FIRST_NAME, "US").hashes.to_pylist() == [
        sha("jane"),
        sha("bob"),
        sha("jane"),
    ]
    ints = pa.array([94107, None], pa.int64())
    assert hash_pii(ints, PiiType.ZIP, "US").hashes.to_pylist() == [sha("94107"), None]


def test_row_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match="rows"):
        hash_pii(pa.array(["a", "b"]), PiiType.EMAIL, pa.array(["US"]))


def test_large_columns_with_and_without_deduplication_agree(monkeypatch):
    """Repeated values go through dictionary encoding, distinct ones don't; same answers."""
    names = ["Jane", "  ", None, "Mary-Ann", HEX, "!!", "Zoë"] * 3000
    values = pa.array(names)
    countries = pa.array(["US", "GB", None, "CN", "DE", "FR", "uk"] * 3000)
    dedup = hash_pii(values, PiiType.LAST_NAME, countries)
    monkeypatch.setattr(api_module, "_mostly_distinct", lambda values: True)
    plain = hash_pii(values, PiiType.LAST_NAME, countries)
    assert dedup.hashes.equals(plain.hashes) and dedup.reasons.equals(plain.reasons)
    assert dedup.passed_through == plain.passed_through == 3000
    expected = [
        None if v is None else sha(v)
        for v in (normalize_value(n, PiiType.LAST_NAME, "US") for n in names[:7])
    ]
    expected[4], expected[3] = HEX, None  # pre-hashed; CN unsupported
    assert dedup.hashes.to_pylist()[:7] == expected


def test_many_distinct_values_keep_row_order():
    emails = [f"User{i}@Example.com" for i in range(50_000)]
    result = hash_pii(pa.array(emails), PiiType.EMAIL, "US")
    assert result.hashes.to_pylist()[::997] == [sha(e.lower()) for e in emails[::997]]


@pytest.mark.parametrize("pii_type", list(PiiType))
def test_empty_and_large_string_columns(pii_type):
    for countries in ("US", pa.array([], pa.string())):
        result = hash_pii(pa.array([], pa.string()), pii_type, countries)
        assert len(result.hashes) == len(result.reasons) == 0
    wide = hash_pii(pa.array(["Jane", None], pa.large_string()), pii_type, "US")
    narrow = hash_pii(pa.array(["Jane", None]), pii_type, "US")
    assert wide.hashes.equals(narrow.hashes) and wide.reasons.equals(narrow.reasons)


def test_country_groups_computed_once_give_the_same_result():
    """transform.compute groups a batch's countries once and passes them to every column."""
    countries = pa.array(["US", "de", None, "Germany", "XX", "uk", "MX", "US"] * 500)
    values = pa.array(["Anna", "Jörg", "x", " ", None, "Ann", "Bo", "a" * 64] * 500)
    groups = country_groups(pc.dictionary_encode(countries))
    for pii_type in PiiType:
        direct, grouped = hash_pii(values, pii_type, countries), hash_pii(values, pii_type, groups)
        assert direct.hashes.equals(grouped.hashes) and direct.reasons.equals(grouped.reasons)
        assert direct.passed_through == grouped.passed_through == 500


def test_columns_hashed_together_match_the_reference_row_by_row():
    """transform.compute normalizes every column, then hashes them all in one call: each
    column's hashes still land on its own rows (deduplicated, grouped by country, pre-hashed
    and country-less rows mixed)."""
    rows = 20_000  # more than 8,192 US rows: the deduplicated path too
    countries = pa.array(
        (["US", "GB", "US", None, "US", "CN", "US", "DE", "US", " uk"] * rows)[:rows]
    )
    names = ["Smith", "Müller", None, HEX, "  ", "O'Brien", "García"]
    zips = ["SW1A 1AA", "", HEX, "8"]
    columns = {
        PiiType.EMAIL: [f" User{i}@Example.com" for i in range(rows)],
        PiiType.LAST_NAME: [names[i % len(names)] for i in range(rows)],
        PiiType.ZIP: [f"{10000 + i % 50}" if i % 5 else zips[i % 4] for i in range(rows)],
        PiiType.PHONE: [f"+1 206 555 {i % 10_000:04d}" for i in range(rows)],
    }
    groups = country_groups(pc.dictionary_encode(countries))
    parts = [normalize_pii(pa.array(v), t, groups) for t, v in columns.items()]
    parts.append(normalize_pii(pa.array(columns[PiiType.EMAIL]), PiiType.EMAIL, "CN"))
    results = hash_normalized(parts)
    row_countries = [canonical_country(c) if c else None for c in countries.to_pylist()]
    for (pii_type, values), result in zip(columns.items(), results, strict=False):
        expected = []
        for value, country in zip(values, row_countries, strict=True):
            if value is not None and value.strip() == HEX:
                expected.append(HEX)
            elif country not in SUPPORTED_COUNTRIES:
                expected.append(None)
            else:
                normalized = normalize_value(value, pii_type, country)
                expected.append(None if normalized is None else sha(normalized))
        assert result.hashes.to_pylist() == expected, pii_type
    assert results[-1].hashes.null_count == rows
    assert set(results[-1].reasons.to_pylist()) == {Reason.COUNTRY_UNSUPPORTED.value}


def test_values_are_trimmed_as_python_strip_does():
    """Every character str.strip() removes, at either end, alone or around text; a column
    with none of them at its ends is left as it is."""
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()] + ["\u2028", "\u205f"]
    values = [None, "", "Jane", "é", "Zoë", "\x1fJane", "Jane\xa0", "\u3000"]
    values += [f"{c}Jane{c}" for c in spaces] + [f"{c}é" for c in spaces] + [c for c in spaces]
    column = pa.array(values)
    expected = [None if v is None else v.strip() for v in values]
    assert api_module._trim(column).to_pylist() == expected
    assert api_module._trim(column.slice(0, 5)).to_pylist() == expected[:5]
    for one_end in ("Jane\xa0", "\tJane", "Jane\u3000", "\x1cé", "é "):
        assert api_module._trim(pa.array(["Jane", one_end])).to_pylist() == [
            "Jane",
            one_end.strip(),
        ]
    normalized = [normalize_value(v, PiiType.FIRST_NAME, "US") for v in values]
    assert hash_pii(column, PiiType.FIRST_NAME, "US").hashes.to_pylist() == [
        None if n is None else sha(n) for n in normalized
    ]
