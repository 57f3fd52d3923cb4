"""hash_file as the Dagster asset calls it: dataset mode, duplicates, batches, workers, progress."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline.dataset import load_definition
from adu_pipeline.errors import InputError
from adu_pipeline.hashing import REJECTS_SCHEMA, HashPlan, hash_file
from adu_pipeline_tests.hashing.conftest import csv_text, read_csv, run_adu, sha

DEFINITION = """\
id: test_customers
description: Test customers
period: P1D
countryCode: US
columns:
  - {name: export_date, source: null, dataType: TIMESTAMP, columnType: DIMENSION,
     isMainEventTime: true, nullable: false}
  - {name: email, source: Email, dataType: STRING, columnType: DIMENSION, hashedPii: EMAIL,
     nullable: false}
  - {name: zip, source: Zip, dataType: STRING, columnType: DIMENSION, hashedPii: ZIP}
  - {name: country_code, source: Country, dataType: STRING, columnType: DIMENSION,
     isCountryCode: true}
  - {name: visits, source: Visits, dataType: INTEGER, columnType: METRIC}
  - {name: ltv, source: LTV, dataType: DECIMAL, columnType: METRIC}
  - {name: last_seen, source: Seen, dataType: DATE, columnType: DIMENSION}
"""
PRE_HASHED = sha("hashed.upstream@example.com")
EXPORT = [
    ["Email", "Zip", "Country", "Visits", "LTV", "Seen", "Ignored"],
    ["A@B.com", "sw1a 1aa", "uk", "12", "10.005", "2024-01-02", "x"],  # 1 ok, UK -> GB
    ["not-an-email", "98101", "US", "1", "1", "2024-01-02", "x"],  # 2 rejected: email invalid
    ["", "98101", "US", "1", "1", "2024-01-02", "x"],  # 3 rejected: email missing
    ["c@d.com", "98101", "", "seven", "", "2024-13-01", "x"],  # 4 country default US; casts null
    ["A@B.com", "sw1a 1aa", "uk", "12", "10.005", "2024-01-02", "y"],  # 5 duplicate of row 1
    ["e@f.com", "98101", "Narnia", "3", "2.5", "2024-02-03", "x"],  # 6 rejected: no country
    [PRE_HASHED, "98101", "Narnia", "3", "2.5", "2024-02-03", "x"],  # 7 pre-hashed email kept
]
EXPORT_DATE = dt.date(2024, 6, 1)


@pytest.fixture
def plan(tmp_path) -> HashPlan:
    path = tmp_path / "customers.yaml"
    path.write_text(DEFINITION)
    return HashPlan.from_definition(load_definition(path))


def test_dataset_mode_parquet_types_rejects_and_duplicates(tmp_path, plan):
    src = tmp_path / "export.csv"
    src.write_text(csv_text(EXPORT))
    out, rejects = tmp_path / "hashed.parquet", tmp_path / "rejects.parquet"
    summary = hash_file(src, out, plan, rejects_path=rejects, export_date=EXPORT_DATE,
                        drop_duplicates=True)  # fmt: skip
    assert (summary.rows_in, summary.rows_out, summary.rows_rejected) == (7, 3, 3)
    assert summary.duplicates_dropped == 1  # "Ignored" is not in the output: rows 1 and 5 match
    assert summary.rows_in == summary.rows_out + summary.rows_rejected + summary.duplicates_dropped
    assert dict(summary.rejected_by_reason) == {
        "email:invalid_email": 1, "email:missing": 1, "email:country_unsupported": 1
    }  # fmt: skip

    table = pq.read_table(out)
    assert table.schema.names == [
        "export_date", "email", "zip", "country_code", "visits", "ltv", "last_seen"
    ]  # fmt: skip
    # Parquet has no seconds unit: timestamp[s, UTC] is stored (and read back) as milliseconds.
    assert table.schema.field("export_date").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("visits").type == pa.int32()
    assert table.schema.field("ltv").type == pa.decimal128(18, 2)
    assert table.schema.field("last_seen").type == pa.date32()
    rows = table.to_pylist()
    assert [r["email"] for r in rows] == [sha("a@b.com"), sha("c@d.com"), PRE_HASHED]
    assert [r["zip"] for r in rows] == [sha("SW1A1AA"), sha("98101"), None]
    assert [r["country_code"] for r in rows] == ["GB", "US", None]
    assert [r["visits"] for r in rows] == [12, None, 3]
    assert [r["ltv"] for r in rows] == [Decimal("10.01"), None, Decimal("2.50")]
    assert [r["last_seen"] for r in rows] == [dt.date(2024, 1, 2), None, dt.date(2024, 2, 3)]
    assert {r["export_date"] for r in rows} == {dt.datetime(2024, 6, 1, tzinfo=dt.UTC)}

    assert pq.read_table(rejects).cast(REJECTS_SCHEMA).to_pylist() == [
        {"row": 2, "column": "email", "reason": "invalid_email", "outcome": "row_rejected"},
        {"row": 3, "column": "email", "reason": "missing", "outcome": "row_rejected"},
        {"row": 4, "column": "visits", "reason": "invalid_integer", "outcome": "value_nulled"},
        {"row": 4, "column": "last_seen", "reason": "invalid_date", "outcome": "value_nulled"},
        {"row": 6, "column": "email", "reason": "country_unsupported",
         "outcome": "row_rejected"},
        {"row": 7, "column": "zip", "reason": "country_unsupported", "outcome": "value_nulled"},
        {"row": 7, "column": "country_code", "reason": "invalid_country",
         "outcome": "value_nulled"},
    ]  # fmt: skip

    metadata = summary.to_dict()
    assert all(isinstance(v, int | float) for v in metadata.values())
    assert metadata["rows_in"] == 7 and metadata["duplicates_dropped"] == 1
    assert metadata["rejected.email:missing"] == 1
    assert metadata["email.hashed"] == 2 and metadata["email.passed_through"] == 1
    assert metadata["zip.null"] == 1
    assert metadata["zip.invalid.country_unsupported"] == 1
    assert metadata["ltv.valid"] == 2 and metadata["ltv.missing"] == 1


def test_dataset_mode_cli_csv_formats(tmp_path):
    definition = tmp_path / "customers.yaml"
    definition.write_text(DEFINITION)
    src = tmp_path / "export.csv"
    src.write_text(csv_text(EXPORT))
    out = tmp_path / "hashed.csv"
    result = run_adu(src, "-o", out, "--dataset", definition, "--export-date", "2024-06-01")
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert len(rows) == 4  # no --drop-duplicates: row 5 stays
    assert rows[0]["export_date"] == "2024-06-01T00:00:00Z"
    assert rows[0]["ltv"] == "10.01" and rows[0]["last_seen"] == "2024-01-02"
    assert rows[1]["visits"] == "" and rows[1]["country_code"] == "US"
    assert "rows in: 7  rows out: 4  rejected: 3  duplicates dropped: 0" in result.stderr
    assert "rejected email:invalid_email: 1" in result.stderr


def test_dataset_mode_needs_export_date(tmp_path, plan):
    src = tmp_path / "export.csv"
    src.write_text(csv_text(EXPORT))
    with pytest.raises(InputError, match="export date"):
        hash_file(src, tmp_path / "out.csv", plan)
    assert not (tmp_path / "out.csv").exists()


def _big_export(rows: int) -> str:
    lines = [["id", "email", "country"]]
    for i in range(rows):
        lines.append([str(i), f"user{i % (rows // 2)}@example.com", "US" if i % 3 else "GB"])
    return csv_text(lines)


@pytest.mark.parametrize("pool", ["thread", "process"])
def test_many_batches_two_workers_match_one_and_dedupe_across_batches(tmp_path, monkeypatch, pool):
    monkeypatch.setenv("ADU_HASH_POOL", pool)
    src = tmp_path / "export.csv.gz"
    src.write_bytes(gzip.compress(_big_export(6000).encode()))
    plan = HashPlan.from_pii_args({"email": "EMAIL"}, "US")
    seen: list[int] = []
    one = hash_file(src, tmp_path / "one.csv", plan, batch_rows=500, workers=1,
                    progress=seen.append)  # fmt: skip
    two = hash_file(src, tmp_path / "two.csv", plan, batch_rows=500, workers=2)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 6000
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert one.to_dict() | {"seconds": 0} == two.to_dict() | {"seconds": 0}
    # Only "id" differs between duplicate emails: drop the id column via a dataset-like plan.
    dedup = hash_file(src, tmp_path / "dedup.parquet", plan, batch_rows=500, drop_duplicates=True)
    assert dedup.duplicates_dropped == 0  # id makes every row distinct
    email_only = tmp_path / "emails.csv"
    email_only.write_text(
        csv_text([["email"]] + [[f"user{i % 1500}@example.com"] for i in range(6000)])
    )
    dedup = hash_file(email_only, tmp_path / "dedup.csv", plan, batch_rows=500,
                      drop_duplicates=True)  # fmt: skip
    assert (dedup.rows_in, dedup.rows_out, dedup.duplicates_dropped) == (6000, 1500, 4500)
    out = read_csv(tmp_path / "dedup.csv")
    assert [r["email"] for r in out] == [sha(f"user{i}@example.com") for i in range(1500)]


def test_jsonl_mixed_types_and_nested_values(tmp_path):
    src = tmp_path / "export.jsonl"
    src.write_text(
        "\n".join(
            json.dumps(obj)
            for obj in [
                {"email": "a@b.com", "zip": 98101, "tags": ["x", "y"], "vip": True},
                {"email": "c@d.com", "zip": "K1A 0B1", "tags": None, "vip": False},
                {"email": "e@f.com"},
            ]
        )
    )
    plan = HashPlan.from_pii_args({"email": "EMAIL", "zip": "ZIP"}, "US")
    out = tmp_path / "out.parquet"
    summary = hash_file(src, out, plan)
    assert summary.rows_out == 3
    rows = pq.read_table(out).to_pylist()
    assert rows[0]["zip"] == sha("98101")
    assert rows[0]["tags"] == '["x","y"]' and rows[0]["vip"] == "true"
    assert rows[2]["zip"] is None and rows[2]["tags"] is None


def test_plan_arguments_are_checked():
    with pytest.raises(InputError, match="at least one --pii"):
        HashPlan.from_pii_args({}, "US")
    with pytest.raises(InputError, match="no country"):
        HashPlan.from_pii_args({"email": "EMAIL"}, None)
    with pytest.raises(InputError, match="unknown PII type"):
        HashPlan.from_pii_args({"email": "MAIL"}, "US")
    assert HashPlan.from_pii_args({"email": "email"}, " uk").default_country == "GB"


def test_input_and_output_must_differ(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text(csv_text([["email"], ["a@b.com"]]))
    with pytest.raises(InputError, match="different files"):
        hash_file(src, src, HashPlan.from_pii_args({"email": "EMAIL"}, "US"))
    assert src.read_text().startswith("email")
