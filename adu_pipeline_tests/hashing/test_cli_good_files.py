"""`adu hash` on good files: every input format, every output format, encodings, delimiters."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline.normalization import PiiType, normalize_value
from adu_pipeline_tests.hashing.conftest import csv_text, read_csv, run_adu, sha

PRE_HASHED = sha("already.hashed@example.com")
HEADER = ["id", "email", "phone", "first_name", "zip", "country", "note"]
ROWS = [
    ["1", " John.Doe@Example.com ", "(206) 555-0100", "  Ann ", "98101", "US", "hello, world"],
    ["2", "bad-email", "123", "", "SW1A 1AA", "uk", ""],
    ["3", PRE_HASHED, "+44 20 7946 0958", "Bob", "98101", "MX", "x"],
    ["4", "ann@b.de", "", "Zoe", "", "", "y"],
]
# Expected output per row: hashes of the normalized values (Amazon rules), "" for null.
EXPECTED = [
    {"email": sha("john.doe@example.com"), "phone": sha("12065550100"),
     "first_name": sha("ann"), "zip": sha("98101")},
    {"email": "", "phone": "", "first_name": "", "zip": sha("SW1A1AA")},
    {"email": PRE_HASHED, "phone": "", "first_name": "", "zip": ""},  # MX: unsupported country
    {"email": sha("ann@b.de"), "phone": "", "first_name": sha("zoe"), "zip": ""},  # default US
]  # fmt: skip
PII_ARGS = ["--pii", "email=EMAIL", "--pii", "phone=PHONE", "--pii", "first_name=first_name",
            "--pii", "zip=ZIP", "--country", "US", "--country-column", "country"]  # fmt: skip


def write_input(path, fmt: str) -> None:
    if fmt in ("csv", "csv.gz"):
        text = csv_text([HEADER, *ROWS])
        if fmt == "csv":
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(gzip.compress(text.encode("utf-8")))
    elif fmt == "parquet":
        columns = {h: [row[i] or None for row in ROWS] for i, h in enumerate(HEADER)}
        pq.write_table(pa.table(columns), path)
    else:
        lines = []
        for row in ROWS:
            obj = {h: v for h, v in zip(HEADER, row, strict=True) if v != ""}
            obj["id"] = int(obj["id"])  # numbers in JSON lines come out as their text
            lines.append(json.dumps(obj))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)


def read_output(path) -> list[dict[str, str]]:
    if path.name.endswith(".parquet"):
        table = pq.read_table(path)
        return [{k: ("" if v is None else v) for k, v in row.items()} for row in table.to_pylist()]
    return read_csv(path, gzip.open if path.name.endswith(".gz") else open)


def check_rows(rows: list[dict[str, str]]) -> None:
    assert list(rows[0]) == HEADER  # every column kept, in input order
    for got, source, expected in zip(rows, ROWS, EXPECTED, strict=True):
        for name in HEADER:
            value = expected.get(name, source[HEADER.index(name)])
            assert got[name] == value, (name, got[name], value)


@pytest.mark.parametrize("in_fmt", ["csv", "csv.gz", "parquet", "jsonl", "jsonl.gz"])
def test_each_input_format(tmp_path, in_fmt):
    src = tmp_path / f"export.{in_fmt}"
    write_input(src, in_fmt)
    out = tmp_path / "hashed.csv"
    result = run_adu(src, "-o", out, *PII_ARGS)
    assert result.returncode == 0, result.stderr
    check_rows(read_output(out))


@pytest.mark.parametrize("out_name", ["hashed.csv.gz", "hashed.parquet"])
def test_each_output_format(tmp_path, out_name):
    src = tmp_path / "export.csv"
    write_input(src, "csv")
    out = tmp_path / out_name
    result = run_adu(src, "-o", out, *PII_ARGS)
    assert result.returncode == 0, result.stderr
    check_rows(read_output(out))
    if out_name.endswith(".parquet"):
        table = pq.read_table(out)
        assert table.column("phone").null_count == 3  # true nulls, not empty strings
        assert table.column("note").to_pylist()[1] is None
        meta = pq.ParquetFile(out).metadata.row_group(0)
        encodings = {meta.column(i).path_in_schema: meta.column(i).encodings
                     for i in range(meta.num_columns)}  # fmt: skip
        assert not any("DICTIONARY" in e for e in encodings["email"])
        assert any("DICTIONARY" in e for e in encodings["country"])


def test_nulls_are_empty_cells_and_summary_counts(tmp_path):
    src = tmp_path / "export.csv"
    write_input(src, "csv")
    out = tmp_path / "hashed.csv"
    result = run_adu(src, "-o", out, *PII_ARGS)
    assert result.returncode == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(f'"{h}"' for h in HEADER)
    assert lines[2].startswith('"2",,,,"')  # null hashes are empty cells, unquoted
    err = result.stderr
    assert "rows in: 4  rows out: 4  rejected: 0  duplicates dropped: 0" in err
    assert "email       hashed 2, passed through 1, null 1 (invalid_email 1)" in err
    assert (
        "phone       hashed 1, passed through 0, null 3 (missing 1, country_unsupported 1, "
        "invalid_phone 1)" in err
    )
    assert (
        "zip         hashed 2, passed through 0, null 2 (missing 1, country_unsupported 1)" in err
    )
    for raw in ("John.Doe", "bad-email", "206", "Ann"):
        assert raw not in err


def test_rejects_file_has_rows_columns_reasons_and_no_values(tmp_path):
    src = tmp_path / "export.csv"
    write_input(src, "csv")
    rejects = tmp_path / "rejects.csv"
    result = run_adu(src, "-o", tmp_path / "hashed.csv", "--rejects", rejects, *PII_ARGS)
    assert result.returncode == 0, result.stderr
    assert read_csv(rejects) == [
        {"row": "2", "column": "email", "reason": "invalid_email", "outcome": "value_nulled"},
        {"row": "2", "column": "phone", "reason": "invalid_phone", "outcome": "value_nulled"},
        {"row": "3", "column": "phone", "reason": "country_unsupported", "outcome": "value_nulled"},
        {"row": "3", "column": "first_name", "reason": "country_unsupported",
         "outcome": "value_nulled"},
        {"row": "3", "column": "zip", "reason": "country_unsupported", "outcome": "value_nulled"},
    ]  # fmt: skip
    text = rejects.read_text()
    for row in ROWS:
        for value in row[1:5]:
            if len(value.strip()) > 3:
                assert value.strip() not in text


def test_latin1_input_with_encoding(tmp_path):
    src = tmp_path / "export.csv"
    src.write_bytes(csv_text([["email", "first_name", "note"],
                              ["Zoë@Example.com", "Zoë", "café"]]).encode("latin-1"))  # fmt: skip
    out = tmp_path / "hashed.csv"
    result = run_adu(src, "-o", out, "--encoding", "latin-1", "--country", "DE",
                     "--pii", "email=EMAIL", "--pii", "first_name=FIRST_NAME")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = read_csv(out)
    assert row["note"] == "café"  # passed through, now UTF-8
    assert row["email"] == sha(normalize_value("Zoë@Example.com", PiiType.EMAIL, "DE"))
    assert row["first_name"] == sha(normalize_value("Zoë", PiiType.FIRST_NAME, "DE"))


def test_semicolon_delimiter(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text(csv_text([["note", "email"], ["a,b", "X@Y.com"], ["", "z@y.com"]], ";"))
    out = tmp_path / "hashed.csv"
    result = run_adu(src, "-o", out, "--delimiter", ";", "--country", "US", "--pii", "email=EMAIL")
    assert result.returncode == 0, result.stderr
    assert read_csv(out) == [
        {"note": "a,b", "email": sha("x@y.com")},
        {"note": "", "email": sha("z@y.com")},
    ]
