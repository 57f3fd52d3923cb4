"""`adu hash` itself reproduces Amazon's golden hashes: all 9 countries in one file, 61,000 checks.

The rows carry their own country in a column, so this also exercises the row-country path of the
CLI (the golden tests in normalization/ call hash_pii directly)."""

from __future__ import annotations

from adu_pipeline_tests.hashing.conftest import csv_text, read_csv
from adu_pipeline_tests.normalization.test_golden import (
    CASES,
    COUNTRIES,
    EMPTY_HASH,
    FIELDS,
    golden,
)

COLUMNS = list(FIELDS)


def test_adu_hash_reproduces_all_golden_hashes(tmp_path, run):
    rows: list[list[str]] = []
    expected: list[dict[str, str]] = []  # per output row: field -> golden hash ("" = not checked)
    for country in COUNTRIES:
        fields = golden(country)
        count = len(next(iter(fields.values())))
        for i in range(count):
            rows.append([country] + [fields[f][i][0] or "" if f in fields else "" for f in COLUMNS])
            expected.append({f: fields[f][i][1] for f in COLUMNS if f in fields})
    source = tmp_path / "golden_raw.csv"
    source.write_text(csv_text([["country", *COLUMNS], *rows]), encoding="utf-8")
    output = tmp_path / "golden_hashed.csv"

    pii = [arg for f, t in FIELDS.items() for arg in ("--pii", f"{f}={t.value}")]
    result = run(source, "-o", output, "--country-column", "country", *pii)
    assert result.returncode == 0, result.stderr

    written = read_csv(output)
    assert len(written) == len(expected)
    checks = mismatches = 0
    for ours, golden_row in zip(written, expected, strict=True):
        for field, want in golden_row.items():
            checks += 1
            got = ours[field] or EMPTY_HASH  # our empty cell (null) stands for Amazon's hash of ""
            mismatches += got != want
    assert checks == 61_000 == sum(len(golden(cc)[f]) for cc, f in CASES)
    assert mismatches == 0, f"{mismatches} of {checks} golden checks differ"
