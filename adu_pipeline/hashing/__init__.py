"""Streaming file engine: CSV / CSV.gz / Parquet / JSON lines in, hashed CSV / Parquet out.

No Dagster here; the Dagster asset and the `adu hash` CLI both call `hash_file`.
"""

from adu_pipeline.hashing.engine import REJECTS_SCHEMA, hash_file
from adu_pipeline.hashing.plan import ColumnKind, HashPlan, OutputColumn
from adu_pipeline.hashing.summary import ColumnStats, HashSummary

__all__ = [
    "REJECTS_SCHEMA",
    "ColumnKind",
    "ColumnStats",
    "HashPlan",
    "HashSummary",
    "OutputColumn",
    "hash_file",
]
