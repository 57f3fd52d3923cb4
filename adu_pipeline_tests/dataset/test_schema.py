"""The pandera schema of the hashed output, and failure summaries that never carry values."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest

from adu_pipeline.dataset import load_definition
from adu_pipeline.dataset.schema import arrow_to_frame, merge_summaries, summarize_failures

DEFN = load_definition(Path(__file__).resolve().parents[2] / "data/datasets/crm_customers.yaml")
SECRET_EMAIL = "alice.secret@example.com"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def good_table(rows: int = 4) -> pyarrow.Table:
    """Rows shaped like hashed_customers: output types from docs/architecture.md."""
    pii = {c.name: [sha(f"{c.name}{i}") if i % 3 else None for i in range(rows)]
           for c in DEFN.pii_columns}  # fmt: skip
    columns = {
        "export_date": pyarrow.array([dt.date(2025, 3, 1)] * rows, pyarrow.date32()),
        **{name: pyarrow.array(values, pyarrow.string()) for name, values in pii.items()},
        "country_code": pyarrow.array(["US", "GB", None, "DE"][:rows] * (rows // 4 or 1)),
        "loyalty_tier": pyarrow.array(["Gold", None, "Silver", "Bronze"][:rows] * (rows // 4 or 1)),
        "lifetime_value": pyarrow.array(
            [decimal.Decimal("12.50"), None, decimal.Decimal("0.00"), decimal.Decimal("99.99")],
            pyarrow.decimal128(18, 2),
        ),
        "last_order_date": pyarrow.array(
            [dt.date(2024, 12, 24), None, dt.date(2025, 1, 2), dt.date(2025, 2, 28)],
            pyarrow.date32(),
        ),
    }
    return pyarrow.table({c.name: columns[c.name] for c in DEFN.columns})


def test_good_frame_passes_with_arrow_types():
    result = DEFN.validate_output(arrow_to_frame(good_table()))
    assert result == {"valid": True, "rows": 4, "failure_count": 0, "columns": {},
                      "schema": {}, "reasons": []}  # fmt: skip


def test_good_frame_passes_with_pandas_native_types():
    frame = good_table().to_pandas()  # str dtype, object dates and Decimals
    frame["export_date"] = pd.to_datetime(frame["export_date"])  # datetime64 at midnight
    assert DEFN.validate_output(frame)["valid"]


def test_schema_is_a_pandera_schema_named_after_the_dataset():
    schema = DEFN.pandera_schema()
    assert isinstance(schema, pa.DataFrameSchema)
    assert list(schema.columns) == [c.name for c in DEFN.columns]
    assert schema.strict and schema.ordered
    assert schema.columns["email"].nullable and not schema.columns["export_date"].nullable


def failing(frame: pd.DataFrame) -> dict:
    with pytest.raises(pa.errors.SchemaErrors) as info:
        DEFN.pandera_schema().validate(frame, lazy=True)
    summary = summarize_failures(info.value)
    assert SECRET_EMAIL not in json.dumps(summary)
    return summary


def test_unhashed_and_malformed_pii_is_counted_without_values():
    frame = arrow_to_frame(good_table())
    frame.loc[1, "email"] = SECRET_EMAIL
    frame.loc[2, "email"] = sha("x").upper()
    frame.loc[3, "phone"] = sha("x")[:63]
    summary = failing(frame)
    assert summary["columns"] == {"email": {"pii_sha256_hex": 2}, "phone": {"pii_sha256_hex": 1}}
    assert summary["failure_count"] == 3
    assert (
        "email: 2 failing (not 64 lowercase hex (unhashed or malformed PII))" in summary["reasons"]
    )


def test_nulls_types_and_countries():
    frame = arrow_to_frame(good_table())
    frame["export_date"] = frame["export_date"].astype(object)
    frame.loc[0, "export_date"] = None
    frame["lifetime_value"] = [1.5, 2.0, None, 3.25]  # float, not decimal
    frame.loc[1, "country_code"] = "uk"
    summary = failing(frame)
    assert summary["columns"]["export_date"]["not_nullable"] == 1
    assert summary["columns"]["lifetime_value"] == {"type_DECIMAL": 1}
    assert summary["columns"]["country_code"] == {"iso_country_alpha2": 1}


def test_integer_and_timestamp_types(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "data/datasets/crm_customers.yaml").read_text()
    text += (
        "  - {name: orders, source: Orders, dataType: INTEGER, columnType: METRIC}\n"
        "  - {name: seen_at, source: Seen, dataType: TIMESTAMP, columnType: DIMENSION}\n"
    )
    (tmp_path / "d.yaml").write_text(text)
    defn = load_definition(tmp_path / "d.yaml")
    table = good_table().append_column("orders", pyarrow.array([1, None, 3, 4], pyarrow.int32()))
    stamps = pyarrow.array([dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)] * 4,
                           pyarrow.timestamp("s", tz="UTC"))  # fmt: skip
    table = table.append_column("seen_at", stamps)
    assert defn.validate_output(arrow_to_frame(table))["valid"]
    bad = arrow_to_frame(table)
    bad["orders"] = bad["orders"].astype("int64[pyarrow]")
    bad["seen_at"] = bad["seen_at"].dt.tz_localize(None)
    result = defn.validate_output(bad)
    assert result["columns"] == {"orders": {"type_INTEGER": 1}, "seen_at": {"type_TIMESTAMP": 1}}


def test_missing_extra_and_reordered_columns_are_named():
    frame = arrow_to_frame(good_table()).drop(columns=["zip"])
    frame["Email"] = SECRET_EMAIL  # a raw export column must never reach the output
    summary = failing(frame)
    assert summary["schema"]["column_in_dataframe"] == ["zip"]
    assert summary["schema"]["column_in_schema"] == ["Email"]
    reordered = arrow_to_frame(good_table())
    columns = list(reordered.columns)
    columns[1], columns[2] = columns[2], columns[1]
    assert "column_ordered" in failing(reordered[columns])["schema"]


def test_dates_with_a_time_of_day_fail():
    frame = arrow_to_frame(good_table())
    frame["last_order_date"] = pd.to_datetime(["2025-01-01 10:00", None, "2025-01-02 00:00", None])
    assert failing(frame)["columns"] == {"last_order_date": {"date_at_midnight": 1}}


def test_summaries_merge_across_batches():
    a = {"failure_count": 2, "columns": {"email": {"pii_sha256_hex": 2}}, "schema": {},
         "reasons": []}  # fmt: skip
    b = {"failure_count": 3, "columns": {"email": {"pii_sha256_hex": 1}, "zip": {"x": 1}},
         "schema": {"column_in_schema": ["Email"]}, "reasons": []}  # fmt: skip
    merged = merge_summaries(a, b)
    assert merged["failure_count"] == 5
    assert merged["columns"] == {"email": {"pii_sha256_hex": 3}, "zip": {"x": 1}}
    assert merged["schema"] == {"column_in_schema": ["Email"]}


def test_columns_for_metadata():
    columns = DEFN.columns_for_metadata()
    assert [c["name"] for c in columns] == [c.name for c in DEFN.columns]
    assert all(set(c) == {"name", "type", "description"} for c in columns)
    email = next(c for c in columns if c["name"] == "email")
    assert email["type"] == "STRING"
    assert "SHA-256 of the normalized EMAIL" in email["description"]
    assert "from export column 'Email'" in email["description"]
    export_date = columns[0]
    assert "filled with the export date" in export_date["description"]
    assert "never null" in export_date["description"]
