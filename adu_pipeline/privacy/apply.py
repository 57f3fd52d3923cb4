"""Drop opted-out people from a hashed output, so a re-upload never re-adds a deleted person.

Runs right after hashing (the hashing engine knows nothing of opt-outs): the hashed parquet is
rewritten without the rows whose EMAIL or PHONE hash is on the opt-out list, and each dropped row
is appended to the rejects file with reason `opted_out` (outcome `row_rejected`, column = the
first listed column that matched). The input row number is not known after hashing (the output
holds no row numbers), so `row` is null for these rejects; the count is exact.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.errors import InputError
from adu_pipeline.hashing import REJECTS_SCHEMA
from adu_pipeline.hashing.engine import ROW_REJECTED
from adu_pipeline.hashing.writers import TableWriter
from adu_pipeline.privacy.store import OPTED_OUT, OptOutList, optout_columns

BATCH_ROWS = 100_000


def apply_optouts(
    output_path: str | os.PathLike,
    rejects_path: str | os.PathLike,
    defn: DatasetDefinition,
    optout_list: OptOutList,
) -> int:
    """Rewrite `output_path` without opted-out rows and append them to `rejects_path` as
    `opted_out`; returns how many rows were dropped (0: both files left untouched)."""
    output, rejects = Path(output_path), Path(rejects_path)
    types = optout_columns(defn)
    if not len(optout_list) or not types:
        return 0
    for path in (output, rejects):
        if path.suffix != ".parquet":
            raise InputError(f"apply_optouts reads and writes parquet only, not {path.name}")
    source = pq.ParquetFile(output)
    types = {c: t for c, t in types.items() if c in source.schema_arrow.names}
    if not types:
        return 0
    kept = TableWriter(output, source.schema_arrow, hash_columns=frozenset(types))
    dropped: list[pa.Array] = []  # per batch: the matched column of each dropped row
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            mask, matched = _listed(batch, types, optout_list)
            if pc.any(mask).as_py():
                dropped.append(pc.filter(matched, mask))
                batch = batch.filter(pc.invert(mask))
            kept.write(batch)
    except BaseException:
        kept.abort()
        raise
    count = sum(len(a) for a in dropped)
    if not count:
        kept.abort()
        return 0
    _append_rejects(rejects, pa.concat_arrays(dropped))
    kept.commit()
    return count


def _listed(
    batch: pa.RecordBatch, types: dict[str, str], optout_list: OptOutList
) -> tuple[pa.Array, pa.Array]:
    """(row is on the list, the first listed column that matched or null)."""
    matched = pa.nulls(batch.num_rows, pa.string())
    for column, pii_type in types.items():
        hit = optout_list.mask({column: batch.column(column)}, {column: pii_type})
        matched = pc.coalesce(matched, pc.if_else(hit, column, pa.scalar(None, pa.string())))
    return pc.is_valid(matched), matched


def _append_rejects(rejects: Path, columns: pa.Array) -> None:
    """The existing rejects followed by one `opted_out` row per dropped row (atomic rewrite)."""
    writer = TableWriter(rejects, REJECTS_SCHEMA)
    try:
        if rejects.exists():
            for batch in pq.ParquetFile(rejects).iter_batches(batch_size=BATCH_ROWS):
                for same in pa.Table.from_batches([batch]).cast(REJECTS_SCHEMA).to_batches():
                    writer.write(same)
        n = len(columns)
        writer.write(
            pa.RecordBatch.from_arrays(
                [
                    pa.nulls(n, pa.int64()),
                    columns.cast(pa.string()),
                    pa.array([OPTED_OUT] * n, pa.string()),
                    pa.array([ROW_REJECTED] * n, pa.string()),
                ],
                schema=REJECTS_SCHEMA,
            )
        )
    except BaseException:
        writer.abort()
        raise
    writer.commit()
