"""CSV fields a whole batch at a time, for the batch path (`screen`): pyarrow splits the decoded
stream at the delimiters and record ends, with quoting off, so each field arrives exactly as
written (quotes included) and the screen decides whether Python's csv module would read it the
same way. Only options pyarrow can split the same way take this path.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from adu_pipeline.emulator.models.records import STANDARD_RECORD_DELIMITERS

READ_BYTES = 256 << 10  # one read: Python holds at most this much of the stream at a time
BATCH_BYTES = 16 << 20  # one batch for the screen: ~25k rows of hashed CRM data
HEADER_LIMIT = 1 << 20
BOM = b"\xef\xbb\xbf"


class _Prefixed(io.RawIOBase):
    """`head` then the rest of `stream`, for pyarrow (which reads through `read`). Reads land
    in Arrow buffers: Arrow keeps what `read` returns while it parses, and Python bytes would
    hold a batch's worth of the stream in the Python heap."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = READ_BYTES if size < 0 else min(size, READ_BYTES)
        if self.head:
            out = self.head[:size]
            self.head = self.head[len(out) :]
            return out
        if isinstance(self.stream, pa.NativeFile):
            return self.stream.read_buffer(size)
        buffer = pa.allocate_buffer(size, resizable=True)
        with memoryview(buffer) as view:
            got = self.stream.readinto(view) or 0
        buffer.resize(got)
        return buffer


def csv_options(file_format: dict) -> tuple[str, str, str] | None:
    """(delimiter, quote, escape) when pyarrow can split these CSV options as the row path does,
    else None (multi-character delimiters, comments, JSON, Parquet take the row path)."""
    if "csvDataFormat" not in file_format:
        return None
    options = file_format.get("csvDataFormat") or {}
    field = options.get("fieldDelimiter", ",")
    quote = options.get("quoteCharacter", '"')
    escape = options.get("quoteEscapeCharacter", "\\")
    if (
        quote not in ('"', "'")  # a quote or escape that could be part of a value
        or escape not in ("\\", quote)
        or len(field) != 1
        or not field.isascii()
        or field.isalnum()
        or field in "\r\n+-.:" + quote + escape
        or options.get("recordDelimiter", "\n") not in STANDARD_RECORD_DELIMITERS
        or options.get("commentCharacter")
    ):
        return None
    return field, quote, escape


def split_header(stream: BinaryIO) -> tuple[str, bytes] | None:
    """(header line, the bytes read after it) or None when the header is not one plain line
    of UTF-8 text under 1 MiB (the row path reads those)."""
    data = b""
    while True:
        chunk = stream.read(64 << 10)
        data += chunk
        ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
        if ends:
            end = min(ends)
            if data[end : end + 1] == b"\r" and end + 1 == len(data) and chunk:
                continue  # a \r\n may be split between chunks
            rest = end + (2 if data[end : end + 2] == b"\r\n" else 1)
            line, tail = data[:end], data[rest:]
            break
        if not chunk or len(data) > HEADER_LIMIT:
            return None
    try:
        text = line.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text, tail


def field_batches(
    header_tail: bytes, stream: BinaryIO, columns: int, delimiter: str
) -> Iterator[pa.Table]:
    """Tables of about 16 MiB of `columns` string fields f0, f1, ... as written; pyarrow raises
    (ArrowInvalid) on a record with another field count (an empty line included) or invalid
    UTF-8."""
    names = [f"f{i}" for i in range(columns)]
    reader = pacsv.open_csv(
        _Prefixed(header_tail, stream),
        read_options=pacsv.ReadOptions(column_names=names, block_size=READ_BYTES),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            check_utf8=True,
        ),
    )
    group: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        group.append(batch)
        size += batch.nbytes
        if size >= BATCH_BYTES:
            yield pa.Table.from_batches(group)
            group, size = [], 0
    if group:
        yield pa.Table.from_batches(group)


def header_names(line: str, delimiter: str, quote: str, escape: str) -> list[str] | None:
    """The header's column names as the row path reads them (each stripped), when every field
    is plain or plainly quoted; None otherwise."""
    names = []
    for token in line.split(delimiter):
        if escape != quote and escape in token:
            return None
        if quote in token:
            inner = token[1:-1]
            if len(token) < 2 or token[0] != quote or token[-1] != quote or quote in inner:
                return None
            token = inner
        names.append(token.strip())
    return names
