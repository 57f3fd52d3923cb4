"""A CSV row too long for the parser and malformed hashing settings: one line, exit 2."""

import os

import pytest

from adu_pipeline_tests.hashing.conftest import CANARY, run_adu
from adu_pipeline_tests.hashing.test_cli_bad_input import EMAIL, GOOD_CSV, assert_one_clean_error


def test_a_row_over_the_csv_row_limit_names_its_row_and_the_limit(tmp_path):
    src = tmp_path / "export.csv"
    rows = [f"user{i}@example.com,US\n" for i in range(20_000)]
    rows[12_345] = f"{CANARY}{'x' * (3 << 20)},US\n"  # a 3 MiB value in data row 12,346
    src.write_text("email,country\n" + "".join(rows))
    out = tmp_path / "out" / "hashed.csv"
    out.parent.mkdir()
    result = run_adu(src, "-o", out, *EMAIL)
    size = len(CANARY) + (3 << 20) + len(",US")
    assert_one_clean_error(result, f"row 12346 ({size:,} bytes)")
    assert "1 MiB" in result.stderr and "Parquet or JSONL" in result.stderr
    assert "ArrowInvalid" not in result.stderr
    assert os.listdir(out.parent) == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ADU_HASH_THREADS", "two", "ADU_HASH_THREADS must be a whole number >= 0"),
        ("ADU_HASH_THREADS", "-1", "got '-1'"),
        ("ADU_HASH_POOL", "fork", "ADU_HASH_POOL must be 'thread' or 'process', got 'fork'"),
    ],
)
def test_malformed_hash_setting_is_one_line_naming_it(
    tmp_path, monkeypatch, variable, value, expected
):
    src = tmp_path / "export.csv"
    src.write_text(GOOD_CSV)
    monkeypatch.setenv(variable, value)
    result = run_adu(src, "-o", tmp_path / "hashed.csv", *EMAIL)
    assert_one_clean_error(result, expected)
    assert not (tmp_path / "hashed.csv").exists()


@pytest.mark.parametrize(
    ("variable", "value"), [("ADU_HASH_THREADS", "1"), ("ADU_HASH_POOL", "Process")]
)
def test_valid_hash_settings_run(tmp_path, monkeypatch, variable, value):
    src = tmp_path / "export.csv"
    src.write_text(GOOD_CSV)
    monkeypatch.setenv(variable, value)
    result = run_adu(src, "-o", tmp_path / "hashed.csv", *EMAIL)
    assert result.returncode == 0, result.stderr
