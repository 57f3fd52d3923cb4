"""A synthetic offline-conversions export (in-store and call-centre orders) for the demo and tests.

The buyers are customers of the synthetic CRM export of the same seed (same messy emails, phones
and countries), so the two datasets share people as real ones do. Each row is one order placed on
the export date: an order id, a time of day, a value and its currency; a few rows carry the mess
real exports do (blank or unparsable times, negative or non-numeric values).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from adu_pipeline.amc.bodies import TIMESTAMP_FORMAT
from adu_pipeline.local.sample_data import sample_table

CONVERSION_COLUMNS = (
    "Email", "Phone Number", "Country/Region", "Order ID", "Order Time", "Order Value", "Currency",
)  # fmt: skip
CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "UK": "GBP", "DE": "EUR", "FR": "EUR"}
BAD_TIMES = ["", "not a time", "2026-13-01T00:00:00Z"]
BAD_VALUES = ["", "n/a", "12,50"]
MESS_RATE = 0.01


def conversions_table(rows: int, seed: int = 0, export_date: dt.date | None = None) -> pa.Table:
    export_date = export_date or dt.date.today()
    customers = sample_table(rows, seed=seed, export_date=export_date)
    rng = np.random.default_rng([seed, export_date.toordinal(), 7])
    midnight = dt.datetime(export_date.year, export_date.month, export_date.day, tzinfo=dt.UTC)
    seconds = rng.integers(0, 86_400, rows)
    times = [(midnight + dt.timedelta(seconds=int(s))).strftime(TIMESTAMP_FORMAT) for s in seconds]
    amounts = [f"{v:.2f}" for v in np.round(rng.lognormal(3.8, 0.8, rows), 2)]
    for index in np.flatnonzero(rng.random(rows) < MESS_RATE):
        times[index] = BAD_TIMES[index % len(BAD_TIMES)]
    for index in np.flatnonzero(rng.random(rows) < MESS_RATE):
        amounts[index] = BAD_VALUES[index % len(BAD_VALUES)]
    countries = customers.column("Country/Region").to_pylist()
    stamp = export_date.strftime("%Y%m%d")
    return pa.table(
        {
            "Email": customers.column("Email"),
            "Phone Number": customers.column("Phone Number"),
            "Country/Region": customers.column("Country/Region"),
            "Order ID": [f"ORD-{stamp}-{seed % 1000:03d}-{i:07d}" for i in range(rows)],
            "Order Time": times,
            "Order Value": amounts,
            "Currency": [CURRENCY.get((c or "").strip().upper(), "USD") for c in countries],
        }
    )


def write_conversions_export(
    path: str | os.PathLike, rows: int, seed: int = 0, export_date: dt.date | None = None
) -> Path:
    """Write the export as CSV (atomically: a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pacsv.write_csv(conversions_table(rows, seed, export_date), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
