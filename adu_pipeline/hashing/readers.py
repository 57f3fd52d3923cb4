"""Stream an input file as Arrow record batches, whatever its size and format.

Every error becomes an InputError with one line that never quotes the file's content: parser
messages that echo a row (pyarrow does) are replaced by our own wording with a line number.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from adu_pipeline.errors import InputError

CSV, PARQUET, JSONL = "csv", "parquet", "jsonl"
_SUFFIXES = {
    ".csv": CSV, ".tsv": CSV, ".txt": CSV,
    ".parquet": PARQUET, ".pq": PARQUET,
    ".jsonl": JSONL, ".ndjson": JSONL,
}  # fmt: skip
_PEEK_BYTES = 1 << 16
# Errors reach both the CLI and the pipeline, so the hint names both ways to set the encoding.
_LATIN1_HINT = (
    " (try encoding latin-1: `pipeline.encoding` in the dataset definition, or"
    " `adu hash --encoding latin-1`)"
)
# Small parse blocks, regrouped into batches: pyarrow reads many blocks ahead, so its memory
# grows with the block size (10 MiB blocks held ~420 MiB, 1 MiB blocks ~40 MiB) while 1 MiB
# blocks parse as fast.
CSV_BLOCK_BYTES = 1 << 20


def input_format(path: Path) -> tuple[str, bool]:
    """(format, gzipped) from the file name: .csv, .csv.gz, .parquet, .jsonl(.gz), .ndjson(.gz)."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None or (fmt == PARQUET and gzipped):
        raise InputError(
            f"cannot tell the format of {path} from its name; "
            "use .csv, .csv.gz, .parquet, .jsonl or .jsonl.gz"
        )
    return fmt, gzipped


@dataclass
class BatchSource:
    """An opened input: its column names and an iterator of batches (string columns for text)."""

    path: Path
    column_names: list[str]
    batches: Iterator[pa.RecordBatch]
    types: dict[str, pa.DataType] = field(default_factory=dict)  # non-string columns (parquet)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.batches


def open_input(
    path: str | os.PathLike,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    batch_rows: int = 200_000,
    columns: list[str] | None = None,
) -> BatchSource:
    """Open `path` for streaming; checks existence, permissions, emptiness and the header."""
    path = Path(path)
    fmt, gzipped = input_format(path)
    _check_readable(path)
    _check_encoding(encoding)
    peek = _peek(path, gzipped)
    if not peek.strip():
        raise InputError(f"input file {path} is empty")
    if fmt == PARQUET:
        return _open_parquet(path, batch_rows, columns)
    if fmt == JSONL:
        return _open_jsonl(path, gzipped, encoding, batch_rows)
    return _open_csv(path, encoding, delimiter, batch_rows, columns)


def _check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except FileNotFoundError:
        raise InputError(f"input file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"input {path} is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"cannot read input file {path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read input file {path}: {exc.strerror}") from None


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None


def _peek(path: Path, gzipped: bool) -> bytes:
    """The first bytes of the (decompressed) file, to tell an empty file."""
    try:
        if gzipped:
            with gzip.open(path, "rb") as handle:
                return handle.read(_PEEK_BYTES)
        with open(path, "rb") as handle:
            return handle.read(_PEEK_BYTES)
    except (OSError, EOFError, zlib.error):
        raise InputError(f"cannot decompress {path}: not a valid gzip file") from None


# --- CSV -------------------------------------------------------------------------------------


class _InvalidRows:
    """Remembers the first malformed row instead of letting pyarrow quote it in its message."""

    def __init__(self, locate: Callable[[], int | None] | None = None) -> None:
        self.first: tuple[int | None, int, int] | None = None
        self.locate = locate  # finds the line number when parsing ran on several threads

    def __call__(self, row) -> str:
        if self.first is None:
            self.first = (row.number, row.expected_columns, row.actual_columns)
        return "skip"

    def raise_if_any(self, path: Path) -> None:
        if self.first is None:
            return
        number, expected, actual = self.first
        if number is None and self.locate is not None:
            number = self.locate()
        where = f" at line {number}" if number is not None else ""
        raise InputError(
            f"malformed CSV{where} in {path}: expected {expected} columns, got {actual}"
        )


def _csv_options(
    encoding: str, delimiter: str, block_size: int, handler: _InvalidRows, threads: bool = False
):
    if len(delimiter) != 1:
        raise InputError(f"the delimiter must be one character, got {delimiter!r}")
    read = pacsv.ReadOptions(encoding=encoding, block_size=block_size, use_threads=threads)
    parse = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
    )
    return read, parse


def _open_csv(path, encoding, delimiter, batch_rows, columns) -> BatchSource:
    handler = _InvalidRows()
    read, parse = _csv_options(encoding, delimiter, 1 << 20, handler)
    with _csv_errors(path, encoding, handler, delimiter):
        header_reader = pacsv.open_csv(str(path), read_options=read, parse_options=parse)
        names = header_reader.schema.names
        header_reader.close()
    handler = _InvalidRows(locate=lambda: _first_bad_line(path, encoding, delimiter))
    read, parse = _csv_options(encoding, delimiter, CSV_BLOCK_BYTES, handler, threads=True)
    wanted = names if columns is None else [n for n in names if n in set(columns)]
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in wanted},
        include_columns=wanted,
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )

    def blocks() -> Iterator[pa.RecordBatch]:
        with _csv_errors(path, encoding, handler, delimiter):
            reader = pacsv.open_csv(
                str(path), read_options=read, parse_options=parse, convert_options=convert
            )
        try:
            while True:
                with _csv_errors(path, encoding, handler, delimiter):
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                handler.raise_if_any(path)
                yield batch
        finally:
            reader.close()

    return BatchSource(path=path, column_names=list(names), batches=rebatch(blocks(), batch_rows))


def rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `rows` rows (the last one shorter) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == rows:
                yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
                pending, count = [], 0
    if count:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


def _first_bad_line(path: Path, encoding: str, delimiter: str) -> int | None:
    """Line number of the first malformed row (a single-threaded re-read, error path only)."""
    handler = _InvalidRows()
    read, parse = _csv_options(encoding, delimiter, 1 << 20, handler)
    with (
        contextlib.suppress(pa.ArrowException, OSError, UnicodeError),
        pacsv.open_csv(str(path), read_options=read, parse_options=parse) as reader,
    ):
        for _ in reader:
            if handler.first is not None:
                break
    return handler.first[0] if handler.first is not None else None


class _csv_errors:  # noqa: N801 - used as a context manager, reads like one
    """Turn pyarrow/codec errors into one-line InputErrors without row content."""

    def __init__(self, path: Path, encoding: str, handler: _InvalidRows, delimiter: str):
        self.path, self.encoding, self.handler = path, encoding, handler
        self.delimiter = delimiter

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, (InputError, StopIteration)):
            return False
        self.handler.raise_if_any(self.path)
        if _STRADDLING in str(exc):
            raise _long_row_error(self.path, self.encoding, self.delimiter) from None
        raise _describe_text_error(self.path, self.encoding, exc, "CSV") from None


_STRADDLING = "straddling object straddles two block boundaries"


def _long_row_error(path: Path, encoding: str, delimiter: str) -> InputError:
    """Name the first row pyarrow's block parser cannot hold (error path only: a csv-module
    re-read); the row cannot be skipped, so the file fails with a line that says what to do."""
    limit = CSV_BLOCK_BYTES
    found = _first_row_over(path, encoding, delimiter, limit)
    where = f"row {found[0]} ({found[1]:,} bytes)" if found else "a row"
    return InputError(
        f"{where} of {path} is longer than a CSV row may be ({limit // (1 << 20)} MiB): "
        "shorten its values or export the file as Parquet or JSONL"
    )


def _first_row_over(path: Path, encoding: str, delimiter: str, limit: int):
    """(1-based data row, approximate byte size) of the first record over `limit` bytes."""
    csv.field_size_limit(1 << 30)
    opener = gzip.open if input_format(path)[1] else open
    try:
        with opener(path, "rt", encoding=encoding, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader, None)  # header
            for number, record in enumerate(reader, start=1):
                size = sum(len(v) for v in record) + len(record)
                if size > limit:
                    return number, len(delimiter.join(record).encode(encoding, "replace"))
    except (OSError, csv.Error, EOFError, zlib.error):
        return None
    return None


def _describe_text_error(path: Path, encoding: str, exc: BaseException, kind: str) -> InputError:
    message = str(exc)
    if isinstance(exc, UnicodeError) or "invalid UTF8" in message or "UTF-8" in message:
        hint = _LATIN1_HINT if codecs.lookup(encoding).name == "utf-8" else ""
        return InputError(f"cannot decode {path} as {encoding}{hint}")
    if isinstance(exc, (EOFError, zlib.error)) or "zlib" in message or "gzip" in message.lower():
        return InputError(f"cannot decompress {path}: corrupt or truncated gzip data")
    if "Empty CSV file" in message:
        return InputError(f"input file {path} is empty")
    if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowException):
        return InputError(f"cannot read input file {path}: {exc.strerror or 'I/O error'}")
    # Parser messages quote the offending row after their first ':'; even the part before it is
    # shown only when it is one of the parser's own fixed phrases, never free text from the file.
    first = message.split(":", 1)[0].strip()
    detail = first if first in _KNOWN_PARSER_PHRASES else type(exc).__name__
    return InputError(f"malformed {kind} in {path}: {detail}")


_KNOWN_PARSER_PHRASES = frozenset(
    {
        "CSV parse error",
        "JSON parse error",
        "Invalid",
        "Straddling object straddles two block boundaries",
    }
)


# --- Parquet ---------------------------------------------------------------------------------


def _open_parquet(path: Path, batch_rows: int, columns: list[str] | None) -> BatchSource:
    import pyarrow.parquet as pq  # here: a CSV run need not load it (start-up time)

    try:
        parquet = pq.ParquetFile(str(path))
        names = parquet.schema_arrow.names
    except (pa.ArrowException, OSError, ValueError):
        raise InputError(f"{path} is not a valid parquet file (corrupt or truncated)") from None
    wanted = None if columns is None else [n for n in names if n in set(columns)]

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from parquet.iter_batches(batch_size=batch_rows, columns=wanted)
        except (pa.ArrowException, OSError, ValueError):
            raise InputError(f"{path} is not a valid parquet file (corrupt data pages)") from None
        finally:
            parquet.close()

    types = {f.name: f.type for f in parquet.schema_arrow}
    return BatchSource(path=path, column_names=list(names), batches=batches(), types=types)


# --- JSON lines ------------------------------------------------------------------------------


def _open_jsonl(path: Path, gzipped: bool, encoding: str, batch_rows: int) -> BatchSource:
    """JSON lines, one object per line; every field is read as a string (nested -> JSON text).

    pyarrow's own streaming reader fixes each field's type from the first block and fails when a
    field is a number in one row and a string in another (zip codes), so lines are chunked here
    and each chunk is parsed by pyarrow, falling back to the json module for mixed chunks.
    """
    chunks = _jsonl_chunks(path, gzipped, encoding, batch_rows)
    try:
        first_text, first_line = next(chunks)
    except StopIteration:
        raise InputError(f"input file {path} is empty") from None
    first = _parse_json_chunk(path, first_text, first_line, None)
    names = first.schema.names

    def batches() -> Iterator[pa.RecordBatch]:
        yield from _to_batches(_conform(path, first, names, first_line))
        for text, line in chunks:
            table = _parse_json_chunk(path, text, line, names)
            yield from _to_batches(_conform(path, table, names, line))

    return BatchSource(path=path, column_names=list(names), batches=batches())


def _jsonl_chunks(path: Path, gzipped: bool, encoding: str, batch_rows: int):
    """(utf-8 bytes of whole lines, number of the chunk's first line), about batch_rows lines."""
    opener = gzip.open if gzipped else open
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # drop a byte order mark, as the CSV reader does
    decoder = codecs.getincrementaldecoder(encoding)()
    line_no = 1
    pending = ""
    block = 8 << 20
    try:
        with opener(path, "rb") as handle:
            lines: list[str] = []
            while True:
                raw = handle.read(block)
                text = pending + decoder.decode(raw, final=not raw)
                parts = text.split("\n")
                pending = parts.pop() if raw else ""
                if not raw and parts and parts[-1] == "":
                    parts.pop()
                lines.extend(parts)
                if pending and not raw:
                    lines.append(pending)
                while len(lines) >= batch_rows or (not raw and lines):
                    take, lines = lines[:batch_rows], lines[batch_rows:]
                    yield "\n".join(take).encode("utf-8"), line_no
                    line_no += len(take)
                if not raw:
                    return
    except UnicodeError:
        hint = _LATIN1_HINT if codecs.lookup(encoding).name == "utf-8" else ""
        raise InputError(f"cannot decode {path} as {encoding}{hint}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise InputError(f"cannot decompress {path}: corrupt or truncated gzip data") from None


def _parse_json_chunk(path: Path, data: bytes, first_line: int, names) -> pa.Table:
    import pyarrow.json as pajson  # here: only JSON lines need it

    try:
        table = pajson.read_json(io.BytesIO(data))
        return pa.table({n: _as_string(table.column(n)) for n in table.schema.names})
    except (pa.ArrowException, TypeError, ValueError):
        return _parse_json_python(path, data, first_line)


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_null(column.type):
        return column.cast(pa.string())
    if pa.types.is_struct(column.type) or pa.types.is_list(column.type):
        raise TypeError("nested")  # serialize with the json module to keep JSON text
    if pa.types.is_boolean(column.type):
        return column.cast(pa.string())  # "true"/"false" like the JSON text
    return column.cast(pa.string())


def _parse_json_python(path: Path, data: bytes, first_line: int) -> pa.Table:
    rows: list[dict] = []
    for offset, line in enumerate(data.decode("utf-8").split("\n")):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise InputError(f"malformed JSON at line {first_line + offset} in {path}") from None
        if not isinstance(obj, dict):
            raise InputError(
                f"malformed JSON at line {first_line + offset} in {path}: expected an object"
            )
        rows.append(obj)
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.table(
        {n: pa.array([_json_text(row.get(n)) for row in rows], pa.string()) for n in names}
    )


def _json_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _conform(path: Path, table: pa.Table, names: list[str], first_line: int) -> pa.Table:
    """Give every chunk the first chunk's columns; a field first seen later is an error."""
    extra = [n for n in table.schema.names if n not in set(names)]
    if extra:
        raise InputError(
            f"JSON lines from line {first_line} of {path} have a field ({extra[0]!r}) "
            "that the first rows do not have"
        )
    return pa.table(
        {
            n: table.column(n) if n in table.schema.names else pa.nulls(table.num_rows, pa.string())
            for n in names
        }
    )


def _to_batches(table: pa.Table) -> Iterator[pa.RecordBatch]:
    yield from table.combine_chunks().to_batches()
