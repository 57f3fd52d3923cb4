"""Write CSV, CSV.gz or Parquet atomically: a temp file beside the target, fsync, rename.

A failure at any point leaves the target untouched (no half-written output), and the temp
file is removed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adu_pipeline.errors import InputError


def output_format(path: Path) -> tuple[str, bool]:
    """('csv' | 'parquet', gzipped) from the output name."""
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return "csv", True
    if name.endswith(".csv"):
        return "csv", False
    if name.endswith(".parquet"):
        return "parquet", False
    raise InputError(f"cannot tell the output format of {path}; use .csv, .csv.gz or .parquet")


class AtomicFile:
    """A temp file in the target's directory that becomes the target only on commit()."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"cannot write output {self.path}: it is a directory")
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent or "."
            )
        except FileNotFoundError:
            raise InputError(
                f"cannot write output {self.path}: directory {self.path.parent} does not exist"
            ) from None
        except PermissionError:
            raise InputError(f"cannot write output {self.path}: permission denied") from None
        except OSError as exc:
            raise InputError(f"cannot write output {self.path}: {exc.strerror}") from None
        self.tmp = Path(tmp)
        self.handle: BinaryIO = os.fdopen(fd, "wb")

    def commit(self) -> None:
        """Flush to disk and rename over the target (atomic on POSIX)."""
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise InputError(f"cannot write output {self.path}: {exc.strerror}") from None
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent or ".", os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


class TableWriter:
    """Streams record batches of one schema into CSV, CSV.gz or Parquet, atomically.

    Parquet: dictionary encoding off for `hash_columns` (random 64-char hex never repeats
    enough to pay off), nulls stay nulls. CSV: header row, nulls as empty cells, TIMESTAMP
    columns as yyyy-MM-ddTHH:mm:ssZ.
    """

    def __init__(
        self, path: str | os.PathLike, schema: pa.Schema, hash_columns: frozenset[str] = frozenset()
    ):
        self.path = Path(path)
        self.format, gzipped = output_format(self.path)
        self.file = AtomicFile(self.path)
        self._gzip: gzip.GzipFile | None = None
        try:
            if self.format == "parquet":
                import pyarrow.parquet as pq  # here: a CSV run need not load it (start-up)

                dictionary = [n for n in schema.names if n not in hash_columns]
                self._writer = pq.ParquetWriter(
                    self.file.handle, schema, use_dictionary=dictionary, compression="snappy"
                )
            else:
                sink: BinaryIO = self.file.handle
                if gzipped:
                    # Level 1: hashes shrink to ~59% (58% at level 6) three times faster.
                    self._gzip = gzip.GzipFile(
                        filename="", fileobj=self.file.handle, mode="wb", compresslevel=1, mtime=0
                    )
                    sink = self._gzip  # type: ignore[assignment]
                self._writer = pacsv.CSVWriter(sink, _csv_schema(schema))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            self.file.abort()
            nested = [f.name for f in schema if pa.types.is_nested(f.type)] or schema.names
            raise InputError(
                f"cannot write {self.path}: column {nested[0]!r} has no CSV form; "
                "write .parquet instead"
            ) from None
        except BaseException:
            self.file.abort()
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        if self.format == "csv":
            batch = _format_timestamps(batch)
        try:
            self._writer.write_batch(batch)
        except OSError as exc:
            self.abort()
            raise InputError(f"cannot write output {self.path}: {exc.strerror}") from None
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            self.abort()
            raise InputError(f"cannot write {self.path}: unsupported column types") from None

    def commit(self) -> None:
        try:
            self._writer.close()
            if self._gzip is not None:
                self._gzip.close()
        except OSError as exc:
            self.abort()
            raise InputError(f"cannot write output {self.path}: {exc.strerror}") from None
        self.file.commit()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        self.file.abort()


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )


def _format_timestamps(batch: pa.RecordBatch) -> pa.RecordBatch:
    if not any(pa.types.is_timestamp(f.type) for f in batch.schema):
        return batch
    # AMC's TIMESTAMP in CSV (yyyy-MM-ddTHH:mm:ssZ), from its one home; imported here because
    # the amc package loads httpx (~0.5 s), which a file without timestamps never needs.
    from adu_pipeline.amc.bodies import TIMESTAMP_FORMAT

    arrays = [
        pc.strftime(col, format=TIMESTAMP_FORMAT) if pa.types.is_timestamp(col.type) else col
        for col in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=_csv_schema(batch.schema))
