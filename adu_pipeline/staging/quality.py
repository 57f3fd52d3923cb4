"""Value-free measurements of a hashed parquet file: schema, PII egress guard, match readiness.

Each reads the file in record batches so memory stays bounded, and returns only counts and
column names, never a value, so results can go to Dagster metadata and logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.dataset.schema import arrow_to_frame, merge_summaries, validate_frame
from adu_pipeline.normalization import PiiType

HEX64 = r"^[0-9a-f]{64}$"
BATCH_ROWS = 100_000
# The identifiers AMC's waterfall can resolve on their own, and the tuple it needs otherwise.
STANDALONE_IDENTIFIERS = (PiiType.EMAIL, PiiType.PHONE)
NAME_ADDRESS = (PiiType.FIRST_NAME, PiiType.LAST_NAME, PiiType.ADDRESS)


def iter_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    parquet = pq.ParquetFile(path)
    yield from parquet.iter_batches(batch_size=batch_rows)


def pii_columns(defn: DatasetDefinition) -> dict[str, PiiType]:
    return {c.name: PiiType(c.hashed_pii) for c in defn.pii_columns}


def schema_summary(defn: DatasetDefinition, path: Path) -> dict[str, Any]:
    """The pandera schema derived from the definition, applied batch by batch."""
    total: dict[str, Any] = {"failure_count": 0, "columns": {}, "schema": {}, "reasons": []}
    rows = 0
    for batch in iter_batches(path):
        result = validate_frame(defn, arrow_to_frame(pa.Table.from_batches([batch])))
        rows += result["rows"]
        if not result["valid"]:
            total = merge_summaries(total, result)
    return {"valid": total["failure_count"] == 0, "rows": rows, **total}


def egress_violations(defn: DatasetDefinition, path: Path) -> dict[str, int]:
    """Per hashed-PII column, values that are neither null nor 64 lowercase hex (must be 0)."""
    bad = dict.fromkeys(pii_columns(defn), 0)
    for batch in iter_batches(path):
        names = set(batch.schema.names)
        for column in bad:
            if column not in names:
                bad[column] += batch.num_rows  # a missing column cannot be vouched for
                continue
            values = batch.column(column)
            if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
                bad[column] += values.length() - values.null_count
                continue
            ok = pc.match_substring_regex(values, HEX64)
            bad[column] += int(pc.sum(pc.invert(pc.fill_null(ok, True))).as_py() or 0)
    return bad


@dataclass
class Readiness:
    rows: int = 0
    rows_with_identifier: int = 0
    valid: dict[str, int] = field(default_factory=dict)

    def identifier_share(self) -> float:
        return self.rows_with_identifier / self.rows if self.rows else 0.0

    def validity(self) -> dict[str, float]:
        return {c: (n / self.rows if self.rows else 0.0) for c, n in self.valid.items()}

    def projected_audience(self, match_rate: float) -> int:
        return int(self.rows_with_identifier * match_rate)


def match_readiness(defn: DatasetDefinition, path: Path) -> Readiness:
    """Rows that carry an identifier AMC can resolve: email, phone, or first+last name+address."""
    columns = pii_columns(defn)
    by_type: dict[PiiType, list[str]] = {}
    for name, pii in columns.items():
        by_type.setdefault(pii, []).append(name)
    result = Readiness(valid=dict.fromkeys(columns, 0))
    for batch in iter_batches(path):
        result.rows += batch.num_rows
        present = {name: pc.is_valid(batch.column(name)) for name in columns}
        for name, mask in present.items():
            result.valid[name] += int(pc.sum(mask).as_py() or 0)
        identified = pa.array([False] * batch.num_rows)
        for pii in STANDALONE_IDENTIFIERS:
            for name in by_type.get(pii, []):
                identified = pc.or_(identified, present[name])
        if all(p in by_type for p in NAME_ADDRESS):
            tuple_mask = pa.array([True] * batch.num_rows)
            for pii in NAME_ADDRESS:
                any_of = pa.array([False] * batch.num_rows)
                for name in by_type[pii]:
                    any_of = pc.or_(any_of, present[name])
                tuple_mask = pc.and_(tuple_mask, any_of)
            identified = pc.or_(identified, tuple_mask)
        result.rows_with_identifier += int(pc.sum(identified).as_py() or 0)
    return result
