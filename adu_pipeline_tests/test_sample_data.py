"""The synthetic CRM export: deterministic, streamed, matching crm_customers.yaml, and messy."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
from collections import Counter
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from adu_pipeline.dataset import load_definition
from adu_pipeline.local.sample_data import (
    BAD_PHONES,
    CHUNK_ROWS,
    EXPORT_COLUMNS,
    sample_table,
    write_sample_export,
)
from adu_pipeline.normalization import canonical_country

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "adu_pipeline_tests" / "data" / "crm_small.csv"
# How the committed fixture was made (regenerate it with these if the generator changes).
FIXTURE_ARGS = {"rows": 50, "seed": 26, "export_date": dt.date(2025, 3, 1)}
EXPORT_DATE = dt.date(2025, 3, 1)
VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def mess_stats(table: pa.Table) -> dict[str, float]:
    """Shares of each kind of mess, over all rows (blank cells are None)."""
    rows = table.to_pylist()
    n = len(rows)

    def share(test) -> float:
        return sum(1 for r in rows if test(r)) / n

    def stripped(value):
        return value.strip() if value else ""

    def country(r):
        return canonical_country(r["Country/Region"])

    return {
        "duplicate_rows": (n - len({tuple(r.values()) for r in rows})) / n,
        "email_blank": share(lambda r: not r["Email"]),
        "email_invalid": share(
            lambda r: r["Email"] and not VALID_EMAIL.match(r["Email"].strip().lower())
        ),
        "email_mixed_case": share(lambda r: r["Email"] and r["Email"] != r["Email"].lower()),
        "email_plus": share(lambda r: r["Email"] and "+" in r["Email"]),
        "phone_blank": share(lambda r: not r["Phone Number"]),
        "phone_invalid": share(lambda r: stripped(r["Phone Number"]) in BAD_PHONES),
        "phone_international": share(lambda r: stripped(r["Phone Number"]).startswith(("+", "00"))),
        "stray_spaces": share(lambda r: any(v is not None and v != v.strip() for v in r.values())),
        "name_upper": share(lambda r: r["Last Name"] and r["Last Name"].isupper()),
        "zip_plus4": share(lambda r: re.fullmatch(r"\d{5}-\d{4}", stripped(r["Postal Code"]))),
        "gb_lower_postcode": share(
            lambda r: country(r) == "GB" and re.search(r"[a-z]", stripped(r["Postal Code"]))
        ),
        "country_US": share(lambda r: country(r) == "US"),
        "country_GB_as_GB": share(lambda r: stripped(r["Country/Region"]).upper() == "GB"),
        "country_GB_as_UK": share(lambda r: stripped(r["Country/Region"]).upper() == "UK"),
        "country_CA": share(lambda r: country(r) == "CA"),
        "country_DE": share(lambda r: country(r) == "DE"),
        "country_FR": share(lambda r: country(r) == "FR"),
        "country_BR": share(lambda r: country(r) == "BR"),
        "country_blank": share(lambda r: not stripped(r["Country/Region"])),
        "country_lower": share(
            lambda r: r["Country/Region"] and r["Country/Region"] != r["Country/Region"].upper()
        ),
        "date_blank": share(lambda r: not r["Last Order Date"]),
        "date_unparsable": share(lambda r: r["Last Order Date"] and not _is_date(r)),
        "value_blank": share(lambda r: not r["Lifetime Value"]),
    }


def _is_date(row) -> bool:
    try:
        dt.date.fromisoformat(row["Last Order Date"])
    except ValueError:
        return False
    return True


def test_columns_are_the_sources_of_crm_customers():
    defn = load_definition(ROOT / "data" / "datasets" / "crm_customers.yaml")
    assert set(EXPORT_COLUMNS) == set(defn.source_mapping())
    assert sample_table(10, seed=1).column_names == list(EXPORT_COLUMNS)


def test_deterministic_for_a_seed_and_independent_of_chunking(tmp_path):
    a = write_sample_export(tmp_path / "a.csv", 1_000, seed=7, export_date=EXPORT_DATE)
    b = write_sample_export(tmp_path / "b.csv", 1_000, seed=7, export_date=EXPORT_DATE)
    c = write_sample_export(tmp_path / "c.csv", 1_000, seed=8, export_date=EXPORT_DATE)
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()


def test_streamed_file_holds_the_same_rows_as_the_in_memory_table(tmp_path):
    rows = CHUNK_ROWS + 10  # two chunks
    info = write_sample_export(tmp_path / "s.csv.gz", rows, seed=5, export_date=EXPORT_DATE)
    options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in EXPORT_COLUMNS},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    written = pacsv.read_csv(info.path, convert_options=options)
    assert written.equals(sample_table(rows, seed=5, export_date=EXPORT_DATE))
    assert info.duplicate_rows > 0


def test_committed_fixture_is_what_the_generator_makes(tmp_path):
    fresh = write_sample_export(tmp_path / "crm_small.csv", **FIXTURE_ARGS)
    assert fresh.path.read_bytes() == FIXTURE.read_bytes()


def test_fixture_shows_every_kind_of_mess():
    with FIXTURE.open(newline="", encoding="utf-8") as handle:
        rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(handle)]
    stats = mess_stats(pa.Table.from_pylist(rows))
    missing = [kind for kind, value in stats.items() if not value]
    assert missing == []


def test_gzip_by_extension_and_csv_shape(tmp_path):
    info = write_sample_export(tmp_path / "x.csv.gz", 300, seed=1, export_date=EXPORT_DATE)
    with gzip.open(info.path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert len(rows) == 301 and all(len(r) == len(EXPORT_COLUMNS) for r in rows)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left behind


def test_zero_rows_writes_a_header(tmp_path):
    info = write_sample_export(tmp_path / "empty.csv", 0, seed=1)
    assert info.path.read_text(encoding="utf-8").splitlines() == [
        ",".join(f'"{c}"' for c in EXPORT_COLUMNS)
    ]


@pytest.fixture(scope="module")
def big() -> pa.Table:
    return sample_table(40_000, seed=11, export_date=EXPORT_DATE)


def test_messiness_shares_are_realistic(big):
    stats = mess_stats(big)
    expected = {  # kind: (at least, at most)
        "duplicate_rows": (0.005, 0.02),
        "email_blank": (0.02, 0.05),
        "email_invalid": (0.01, 0.04),
        "email_mixed_case": (0.05, 0.20),
        "email_plus": (0.01, 0.06),
        "phone_blank": (0.03, 0.08),
        "phone_invalid": (0.01, 0.04),
        "phone_international": (0.20, 0.60),
        "stray_spaces": (0.15, 0.50),
        "zip_plus4": (0.05, 0.20),
        "gb_lower_postcode": (0.01, 0.05),
        "country_US": (0.70, 0.80),  # written US plus blank-free lowercase variants
        "country_GB_as_GB": (0.03, 0.06),
        "country_GB_as_UK": (0.02, 0.05),
        "country_CA": (0.05, 0.09),
        "country_DE": (0.03, 0.07),
        "country_FR": (0.03, 0.07),
        "country_BR": (0.005, 0.02),
        "country_blank": (0.02, 0.06),
        "date_blank": (0.03, 0.07),
        "date_unparsable": (0.0005, 0.005),
        "value_blank": (0.02, 0.05),
    }
    outside = {
        kind: round(stats[kind], 4)
        for kind, (low, high) in expected.items()
        if not low <= stats[kind] <= high
    }
    assert outside == {}


def test_values_are_parseable_where_they_should_be(big):
    rows = big.to_pylist()
    values = [r["Lifetime Value"] for r in rows if r["Lifetime Value"]]
    assert all(re.fullmatch(r"\d+\.\d{2}", v) for v in values)
    dates = [dt.date.fromisoformat(r["Last Order Date"]) for r in rows if _maybe_date(r)]
    assert max(dates) <= EXPORT_DATE and min(dates) >= EXPORT_DATE - dt.timedelta(days=730)
    tiers = Counter((r["Loyalty Tier"] or "").strip().title() for r in rows)
    assert set(tiers) == {"Bronze", "Silver", "Gold", "Platinum", ""}
    assert 0.2 <= (tiers["Gold"] + tiers["Platinum"]) / len(rows) <= 0.35


def _maybe_date(row) -> bool:
    return bool(row["Last Order Date"]) and _is_date(row)


def test_phones_are_valid_numbers_for_their_country(big):
    checked = valid = 0
    for row in big.slice(0, 5_000).to_pylist():
        phone = (row["Phone Number"] or "").strip()
        if not phone or phone in BAD_PHONES:
            continue
        region = canonical_country(row["Country/Region"]) or "US"
        checked += 1
        valid += _valid_phone(phone, region)
    assert checked > 4_000
    assert valid / checked >= 0.99


def _valid_phone(phone: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(phone, region))
    except phonenumbers.NumberParseException:
        return False


def test_unique_ids_gives_unique_emails_and_phones_and_no_duplicates():
    table = sample_table(CHUNK_ROWS + 5_000, seed=3, export_date=EXPORT_DATE, unique_ids=True)
    rows = table.to_pylist()
    emails = [re.sub(r"[^\w.@-]", "", r["Email"].lower()) for r in rows if r["Email"]]
    assert len(set(emails)) == len(emails)
    phones = []
    for r in rows:
        phone = (r["Phone Number"] or "").strip()
        if phone and phone not in BAD_PHONES:
            region = canonical_country(r["Country/Region"]) or "US"
            number = phonenumbers.parse(phone, region)
            phones.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    assert len(set(phones)) == len(phones)
    assert len({tuple(r.values()) for r in rows}) == len(rows)
