"""`adu hash` never imports pandas: pyarrow imports it (about 0.9 CPU-seconds) on the first
conversion of a Python object, so every Arrow value is built from buffers
(adu_pipeline.normalization.arrow)."""

from __future__ import annotations

import re

import pytest

from adu_pipeline_tests.hashing.conftest import csv_text, run_adu, sha

HEADER = ["id", "email", "phone", "first_name", "last_name", "address", "city", "state", "zip",
          "country"]  # fmt: skip
# Every field's vector path, its scalar fallback (ligatures, letters in phones, extensions),
# invalid values, pre-hashed values, blanks and every kind of country (supported, raw
# spellings, unsupported, blank).
ROWS = [
    ["1", " John.Doe@Example.com ", "(206) 555-0100", "  Ann ", "O'Brien", "12 Main St. Apt 4",
     "Seattle", "wa", "98101", "US"],
    ["2", "bad-email", "123", "", "Müller", "Hauptstraße 5", "Berlin", "", "10115", "Germany"],
    ["3", sha("x@y.z"), "+44 20 7946 0958", "ﬁona", "Smith", "10 Downing St", "London", "",
     "SW1A 2AA", " uk"],
    ["4", "ann@b.de", "1-800-FLOWERS", "Zoë", "García", "Calle Mayor 1, 2ºB", "Madrid", "",
     "28013", "ES"],
    ["5", "li@example.jp", "03-1234-5678 ext. 9", "Li", "Kim", "1-2-3 Ginza", "Tokyo", "",
     "104-0061", "JP"],
    ["6", "x@example.ca", "416-555-0199", "Chloé", "Dubois", "1 Rue Sainte-Catherine #12",
     "Montréal", "Quebec", "h2x 1y4", "CA"],
    ["7", "", "", "", "", "", "", "", "", "MX"],
    ["8", "q@example.in", "+91 98765 43210", "Mohammed", "Rossi", "MG Road", "Bengaluru", "KA",
     "560001", ""],
]  # fmt: skip
PII = ["email=EMAIL", "phone=PHONE", "first_name=FIRST_NAME", "last_name=LAST_NAME",
       "address=ADDRESS", "city=CITY", "state=STATE", "zip=ZIP"]  # fmt: skip


@pytest.mark.parametrize("output", ["hashed.csv", "hashed.parquet"])
def test_adu_hash_never_imports_pandas(tmp_path, output):
    src = tmp_path / "export.csv"
    src.write_text(csv_text([HEADER, *ROWS * 50]), encoding="utf-8")
    args = [src, "-o", tmp_path / output, "--rejects", tmp_path / "rejects.csv",
            "--country", "US", "--country-column", "country", "--workers", "2",
            "--batch-rows", "64"]  # fmt: skip
    for pii in PII:
        args += ["--pii", pii]
    result = run_adu(*args, python_args=["-X", "importtime"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rows in: 400" in result.stderr
    imported = re.findall(r"^import time:.*\|\s*(\S+)$", result.stderr, flags=re.M)
    assert "pyarrow" in imported  # the import log is there
    assert [m for m in imported if m.split(".")[0] == "pandas"] == []
