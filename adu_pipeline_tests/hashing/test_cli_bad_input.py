"""Each bad input exits 2 with one `error:` line: no traceback, no file value, no output."""

from __future__ import annotations

import gzip
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline_tests.hashing.conftest import CANARY, csv_text, run_adu

GOOD_CSV = csv_text([["email", "country"], [CANARY, "US"], ["a@b.com", "GB"]])
EMAIL = ["--country", "US", "--pii", "email=EMAIL"]


def _parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"email": [CANARY] * 100, "country": ["US"] * 100}), sink)
    return sink.getvalue()


def missing_file(tmp):
    return tmp / "nope.csv", EMAIL, "input file not found"


def unreadable(tmp):
    path = tmp / "locked.csv"
    path.write_text(GOOD_CSV)
    path.chmod(0)
    return path, EMAIL, "permission denied"


def undecodable(tmp):
    path = tmp / "latin1.csv"
    path.write_bytes(csv_text([["email", "name"], [CANARY, "Zoë Müller"]]).encode("latin-1"))
    return path, EMAIL, "cannot decode"


def empty_file(tmp):
    path = tmp / "empty.csv"
    path.write_bytes(b"")
    return path, EMAIL, "is empty"


def header_only(tmp):
    path = tmp / "header.csv"
    path.write_text("email,country\n")
    return path, EMAIL, "no data rows"


def corrupt_parquet(tmp):
    path = tmp / "corrupt.parquet"
    path.write_bytes(_parquet_bytes()[:-40])  # truncated: footer gone, data pages remain
    return path, EMAIL, "not a valid parquet file"


def not_parquet(tmp):
    path = tmp / "fake.parquet"
    path.write_text(GOOD_CSV)
    return path, EMAIL, "not a valid parquet file"


def corrupt_gzip(tmp):
    path = tmp / "export.csv.gz"
    path.write_bytes(gzip.compress(GOOD_CSV.encode())[:30] + CANARY.encode() * 3)
    return path, EMAIL, "cannot decompress"


def malformed_csv(tmp):
    path = tmp / "ragged.csv"
    path.write_text("email,country\na@b.com,US\n" + f"{CANARY},US,extra,{CANARY}\n")
    return path, EMAIL, "malformed CSV at line 3 in"


def unterminated_quote(tmp):
    path = tmp / "quote.csv"
    path.write_text(f'email,country\na@b.com,US\n"{CANARY},US\n')
    return path, EMAIL, "malformed CSV"


def malformed_json(tmp):
    path = tmp / "export.jsonl"
    good = json.dumps({"email": "a@b.com"})
    path.write_text(f'{good}\n{{"email": "{CANARY}", oops}}\n')
    return path, EMAIL, "malformed JSON at line 2"


def missing_column(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, ["--country", "US", "--pii", "e_mail=EMAIL"], "input has no column 'e_mail'"


def missing_country_column(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, [*EMAIL, "--country-column", "nation"], "input has no column 'nation'"


def unknown_pii_type(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, ["--country", "US", "--pii", "email=EMAILS"], "unknown PII type 'EMAILS'"


def bad_pii_argument(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, ["--country", "US", "--pii", "email"], "--pii takes COLUMN=TYPE"


def unknown_country(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, ["--country", "XX", "--pii", "email=EMAIL"], "unknown country 'XX'"


def unsupported_country(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, ["--country", "MX", "--pii", "email=EMAIL"], "country MX is not supported"


def unknown_encoding(tmp):
    path = tmp / "export.csv"
    path.write_text(GOOD_CSV)
    return path, [*EMAIL, "--encoding", "klingon-8"], "unknown encoding"


def unknown_extension(tmp):
    path = tmp / "export.xlsx"
    path.write_text(GOOD_CSV)
    return path, EMAIL, "cannot tell the format"


CASES = [
    missing_file, unreadable, undecodable, empty_file, header_only, corrupt_parquet,
    not_parquet, corrupt_gzip, malformed_csv, unterminated_quote, malformed_json, missing_column,
    missing_country_column, unknown_pii_type, bad_pii_argument, unknown_country,
    unsupported_country, unknown_encoding, unknown_extension,
]  # fmt: skip


def assert_one_clean_error(result, expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert CANARY not in result.stderr + result.stdout
    assert "leaky" not in result.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_bad_input_exits_2_with_one_clean_line(tmp_path, case):
    src, args, expected = case(tmp_path)
    out = tmp_path / "out" / "hashed.csv"
    out.parent.mkdir()
    result = run_adu(src, "-o", out, *args)
    assert_one_clean_error(result, expected)
    assert os.listdir(out.parent) == []  # no output, no temp file left behind


@pytest.mark.parametrize("where", ["missing_dir", "read_only_dir"])
def test_unwritable_output_exits_2(tmp_path, where):
    src = tmp_path / "export.csv"
    src.write_text(GOOD_CSV)
    folder = tmp_path / "out"
    if where == "read_only_dir":
        folder.mkdir()
        folder.chmod(0o555)
    result = run_adu(src, "-o", folder / "hashed.csv", *EMAIL)
    expected = "does not exist" if where == "missing_dir" else "permission denied"
    assert_one_clean_error(result, expected)
    assert not (folder / "hashed.csv").exists()


def test_failure_keeps_an_existing_output_untouched(tmp_path):
    src = tmp_path / "ragged.csv"
    src.write_text("email,country\n" + "a@b.com,US\n" * 5000 + f"{CANARY},US,extra\n")
    out = tmp_path / "hashed.csv"
    out.write_text("previous good output\n")
    rejects = tmp_path / "rejects.csv"
    result = run_adu(src, "-o", out, "--rejects", rejects, *EMAIL)
    assert_one_clean_error(result, "malformed CSV at line 5002")
    assert out.read_text() == "previous good output\n"
    assert not rejects.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hashed.csv", "ragged.csv"]
