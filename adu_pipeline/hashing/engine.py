"""hash_file: stream an export through a HashPlan into a hashed file, a summary and rejects.

Reading, writing, duplicate removal and bookkeeping stay on the calling thread; the transform
(PII normalization and hashing, casts) runs on a pool of two threads for large inputs, in order,
with at most one batch per worker queued, so memory stays bounded by a few batches. Threads, not
processes: the work is Arrow/NumPy/DuckDB kernels that release the GIL, and a process pool
measured slower here (batches pickled both ways) with twice the memory (each worker carries
its own interpreter, pyarrow, pandas and DuckDB). ADU_HASH_POOL=process selects the latter.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.errors import InputError
from adu_pipeline.hashing.dedup import DuplicateFilter
from adu_pipeline.hashing.plan import ColumnKind, HashPlan, OutputColumn
from adu_pipeline.hashing.readers import BatchSource, open_input
from adu_pipeline.hashing.summary import ColumnStats, HashSummary
from adu_pipeline.hashing.transform import (
    FINE_STATUSES,
    Computed,
    TransformSpec,
    compute,
    output_type,
)
from adu_pipeline.hashing.writers import TableWriter
from adu_pipeline.normalization.arrow import int64, int64s, string, strings
from adu_pipeline.normalization.sha256 import hash_threads

REJECTS_SCHEMA = pa.schema(
    [("row", pa.int64()), ("column", pa.string()), ("reason", pa.string()),
     ("outcome", pa.string())]
)  # fmt: skip
VALUE_NULLED, ROW_REJECTED = "value_nulled", "row_rejected"
DEFAULT_BATCH_ROWS = 100_000  # ~0.5 GiB peak with two threads; larger batches gain little
PARALLEL_MIN_BYTES = 16 << 20  # below this a pool costs more than it saves


def hash_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    plan: HashPlan,
    *,
    rejects_path: str | os.PathLike | None = None,
    export_date: dt.date | None = None,
    drop_duplicates: bool = False,
    encoding: str = "utf-8",
    delimiter: str = ",",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> HashSummary:
    """Hash `input_path` into `output_path` (CSV, CSV.gz or Parquet by extension), atomically.

    Raises InputError (one line, no values from the file) for any bad input; on any failure
    neither the output nor the rejects file is created.
    """
    started = time.monotonic()
    input_path, output_path = Path(input_path), Path(output_path)
    if plan.needs_export_date and export_date is None:
        raise InputError(f"the {plan.label} fills its main event time column: give an export date")
    _check_distinct(input_path, output_path, rejects_path)
    hash_pool(), hash_threads()  # a malformed setting fails before any work, in one line
    source = open_input(
        input_path, encoding=encoding, delimiter=delimiter, batch_rows=batch_rows,
        columns=plan.needed_columns(),
    )  # fmt: skip
    columns = plan.resolve(source.column_names)
    schema = pa.schema(
        [pa.field(c.name, output_type(c, source.types.get(c.source, pa.string()))) for c in columns]
    )
    spec = TransformSpec(columns, plan.country_column, plan.default_country, export_date)
    hash_columns = frozenset(c.name for c in columns if c.kind is ColumnKind.PII)
    summary = HashSummary(input_path=str(input_path), output_path=str(output_path))
    summary.columns = {
        c.name: ColumnStats(kind=c.kind.value)
        for c in columns
        if c.kind in (ColumnKind.PII, ColumnKind.COUNTRY, ColumnKind.CAST)
    }
    writer = TableWriter(output_path, schema, hash_columns)
    rejects = None
    try:
        rejects = TableWriter(rejects_path, REJECTS_SCHEMA) if rejects_path else None
        state = _Run(columns, schema, summary, writer, rejects, drop_duplicates)
        n_workers = _choose_workers(workers, input_path)
        for batch, computed in _transformed(source, spec, columns, plan, n_workers):
            state.consume(batch, computed)
            if progress is not None:
                progress(summary.rows_in)
        if summary.rows_in == 0:
            raise InputError(f"input file {input_path} has no data rows")
        summary.check()  # nothing lost, or nothing written
        writer.commit()
        if rejects is not None:
            rejects.commit()
    except BaseException:
        writer.abort()
        if rejects is not None:
            rejects.abort()
        raise
    summary.seconds = time.monotonic() - started
    return summary


class _Run:
    """Per-run bookkeeping: assemble, reject, dedupe, count and write each batch."""

    def __init__(self, columns, schema, summary, writer, rejects, drop_duplicates):
        self.columns: tuple[OutputColumn, ...] = columns
        self.schema: pa.Schema = schema
        self.summary: HashSummary = summary
        self.writer: TableWriter = writer
        self.rejects: TableWriter | None = rejects
        self.dedup = DuplicateFilter() if drop_duplicates else None
        self.next_row = 1

    def consume(self, batch: pa.RecordBatch, computed: Computed) -> None:
        n = batch.num_rows
        rows = int64s(np.arange(self.next_row, self.next_row + n, dtype=np.int64))
        self.next_row += n
        self.summary.rows_in += n
        out = self._assemble(batch, computed)
        statuses = computed.statuses
        reject_table = None
        if computed.reject is not None and pc.any(computed.reject).as_py():
            reject_table = self._row_rejects(rows, computed)
            keep = pc.invert(computed.reject)
            out, rows = out.filter(keep), rows.filter(keep)
            statuses = {k: v.filter(keep) for k, v in statuses.items()}
        if self.dedup is not None and out.num_rows:
            keep = self.dedup.keep_mask(out)
            dropped = out.num_rows - pc.sum(keep).as_py()
            if dropped:
                self.summary.duplicates_dropped += dropped
                out, rows = out.filter(keep), rows.filter(keep)
                statuses = {k: v.filter(keep) for k, v in statuses.items()}
        self._count(statuses)
        if self.rejects is not None:
            self._write_rejects(rows, statuses, reject_table)
        self.writer.write(out)
        self.summary.rows_out += out.num_rows

    def _assemble(self, batch: pa.RecordBatch, computed: Computed) -> pa.RecordBatch:
        arrays = [
            batch.column(batch.schema.get_field_index(c.source))
            if c.kind is ColumnKind.PASSTHROUGH
            else computed.arrays[c.name]
            for c in self.columns
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _row_rejects(self, rows: pa.Array, computed: Computed) -> pa.Table:
        labels = computed.reject_reasons.filter(computed.reject)
        for item in pc.value_counts(labels).to_pylist():
            self.summary.rejected_by_reason[item["values"]] += item["counts"]
        parts = pc.split_pattern(labels, ":", max_splits=1)
        return pa.table(
            {
                "row": rows.filter(computed.reject),
                "column": pc.list_element(parts, int64(0)),
                "reason": pc.list_element(parts, int64(1)),
                "outcome": _repeat(ROW_REJECTED, len(labels)),
            },
            schema=REJECTS_SCHEMA,
        )

    def _count(self, statuses: dict[str, pa.Array]) -> None:
        for name, status in statuses.items():
            counts = self.summary.columns[name].counts
            for item in pc.value_counts(status).to_pylist():
                counts[item["values"]] += item["counts"]

    def _write_rejects(self, rows, statuses, reject_table: pa.Table | None) -> None:
        """One line per nulled value (missing values aside) and per rejected row, by row."""
        parts = [] if reject_table is None else [reject_table]
        fine = strings(sorted(FINE_STATUSES))
        for name, status in statuses.items():
            bad = pc.invert(pc.is_in(status, value_set=fine))
            if not pc.any(bad).as_py():
                continue
            reasons = status.filter(bad)
            parts.append(
                pa.table(
                    {
                        "row": rows.filter(bad),
                        "column": _repeat(name, len(reasons)),
                        "reason": reasons,
                        "outcome": _repeat(VALUE_NULLED, len(reasons)),
                    },
                    schema=REJECTS_SCHEMA,
                )
            )
        if not parts:
            return
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        table = table.take(pc.sort_indices(table, sort_keys=[("row", "ascending")]))
        for record_batch in table.to_batches():
            self.rejects.write(record_batch)


def _repeat(value: str, n: int) -> pa.Array:
    """`value` n times (Arrow's repeat of a pandas-free scalar)."""
    return pa.repeat(string(value), n)


def _transformed(
    source: BatchSource, spec: TransformSpec, columns, plan: HashPlan, workers: int
) -> Iterator[tuple[pa.RecordBatch, Computed]]:
    """(input batch, its transformed columns), in input order, in-process or in a pool."""
    needed = [c.source for c in columns if c.kind is not ColumnKind.PASSTHROUGH and c.source]
    if plan.country_column is not None:
        needed.append(plan.country_column)
    needed = list(dict.fromkeys(needed))
    if workers <= 1:
        for batch in source:
            yield batch, compute(batch.select(needed), spec)
        return
    if hash_pool() == "process":
        # Imported here: multiprocessing costs start-up time that the thread pool never needs.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool: Executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
        )
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adu-hash")
    try:
        pending: deque = deque()
        for batch in source:
            pending.append((batch, pool.submit(compute, batch.select(needed), spec)))
            if len(pending) > workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_POOLS = ("thread", "process")


def hash_pool(environ=os.environ) -> str:
    """ADU_HASH_POOL: thread (default) or process; one line naming the variable otherwise."""
    raw = environ.get("ADU_HASH_POOL", "").strip()
    pool = raw.lower() or "thread"
    if pool not in _POOLS:
        raise InputError(f"ADU_HASH_POOL must be 'thread' or 'process', got {raw!r}")
    return pool


def _choose_workers(workers: int | None, input_path: Path) -> int:
    if workers is not None:
        return max(1, workers)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        large = input_path.stat().st_size >= PARALLEL_MIN_BYTES
    except OSError:
        large = False
    return min(2, cores or 1) if large else 1


def _check_distinct(input_path: Path, output_path: Path, rejects_path) -> None:
    paths = [input_path.resolve(), output_path.resolve()]
    if rejects_path is not None:
        paths.append(Path(rejects_path).resolve())
    if len(set(paths)) != len(paths):
        raise InputError("input, output and rejects must be different files")
