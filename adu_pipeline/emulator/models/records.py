"""Records from a decoded file stream, one at a time: CSV (header row, any field and record
delimiter), JSON LINES, JSON DOCUMENT (one object, an array of objects, or objects one after
another) and Parquet (row group by row group). Memory stays bounded by one chunk or row group.

Numbers are 1-based data rows (the CSV header excluded). Messages never quote a value.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow.parquet as pq

from adu_pipeline.emulator.models.s3io import UploadFailed

TEXT_CHUNK = 1 << 20
STANDARD_RECORD_DELIMITERS = ("\n", "\r\n", "\r")
MAX_JSON_RECORD = 64 << 20
PARQUET_BATCH_ROWS = 2_000


def records(stream: BinaryIO, file_format: dict, where: str) -> Iterator[tuple[int, dict]]:
    if "parquetDataFormat" in file_format:
        yield from _parquet_records(stream, where)
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        if file_format.get("jsonDataFormat") == "DOCUMENT":
            yield from _json_document_records(text, where)
        elif "jsonDataFormat" in file_format:
            yield from _json_line_records(text, where)
        else:
            yield from _csv_records(text, file_format.get("csvDataFormat") or {}, where)
    except UnicodeDecodeError:
        raise UploadFailed(f"{where} is not UTF-8 text.") from None
    finally:
        _release(text)


def _release(text: io.TextIOWrapper) -> None:
    """Hand the binary stream back to its owner (who closes it) instead of closing it here."""
    with contextlib.suppress(ValueError):  # the owner closed it already
        text.detach()


# --- CSV ---------------------------------------------------------------------------------------


def _csv_records(text: io.TextIOBase, options: dict, where: str) -> Iterator[tuple[int, dict]]:
    rows = csv_rows(text, options, where)
    header = next(rows, None)
    if header is None:
        return
    header = [h.strip() for h in header]
    for number, fields in enumerate(rows, start=1):
        if not fields:
            continue
        if len(fields) != len(header):
            raise UploadFailed(
                f"{where} row {number}: expected {len(header)} fields, found {len(fields)}."
            )
        yield number, {h: (v if v != "" else None) for h, v in zip(header, fields, strict=True)}


def csv_rows(text: io.TextIOBase, options: dict, where: str) -> Iterator[list[str]]:
    """Field lists, header first; an empty record is []."""
    field = options.get("fieldDelimiter", ",")
    record = options.get("recordDelimiter", "\n")
    quote = options.get("quoteCharacter", '"')
    escape = options.get("quoteEscapeCharacter", "\\")
    comment = options.get("commentCharacter") or None
    if len(field) == 1 and record in STANDARD_RECORD_DELIMITERS:
        return _stdlib_rows(text, field, quote, escape, comment, where)
    return DelimitedScanner(text, field, record, quote, escape, comment, where).rows()


def _stdlib_rows(
    text: io.TextIOBase, field: str, quote: str, escape: str, comment: str | None, where: str
) -> Iterator[list[str]]:
    lines: Iterator[str] = iter(text)
    if comment:
        lines = (line for line in lines if not line.startswith(comment))
    reader = csv.reader(
        lines,
        delimiter=field,
        quotechar=quote,
        escapechar=escape if escape != quote else None,
        doublequote=True,
        strict=True,
    )
    try:
        yield from reader
    except csv.Error:
        raise UploadFailed(f"{where} row {reader.line_num}: malformed CSV.") from None


class DelimitedScanner:
    """CSV with any (multi-character) field or record delimiter, read in chunks.

    Quoting as in CSV: a quoted field may hold delimiters; the quote is doubled or escaped
    inside it. A standard record delimiter (\\n) also ends a record at \\r\\n or \\r.
    """

    def __init__(
        self,
        text: io.TextIOBase,
        field: str,
        record: str,
        quote: str,
        escape: str,
        comment: str | None,
        where: str,
    ):
        self.text, self.where, self.comment = text, where, comment
        self.quote, self.escape = quote, escape
        record_pattern = (
            r"\r\n|\n|\r" if record in STANDARD_RECORD_DELIMITERS else re.escape(record)
        )
        self.record = re.compile(record_pattern)
        self.outside = re.compile(f"({re.escape(field)})|({record_pattern})|({re.escape(quote)})")
        self.inside = re.compile("[" + re.escape(quote + escape) + "]")
        self.lookahead = max(len(field), len(record), 2)
        self.buf, self.pos, self.eof = "", 0, False
        self.record_number = 0

    def _more(self) -> bool:
        """Read the next chunk; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self.text.read(TEXT_CHUNK)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        if not chunk:
            self.eof = True
        return bool(chunk)

    def _near_end(self, end: int) -> bool:
        return not self.eof and end + self.lookahead > len(self.buf)

    def _skip_comment(self) -> bool:
        """At a record start: skip a comment record; True if one was skipped."""
        while not self.eof and len(self.buf) - self.pos < len(self.comment or ""):
            self._more()
        if not self.comment or not self.buf.startswith(self.comment, self.pos):
            return False
        while True:
            m = self.record.search(self.buf, self.pos)
            if m is not None and not self._near_end(m.end()):
                self.pos = m.end()
                return True
            if m is None and self.eof:
                self.pos = len(self.buf)
                return True
            self._more()

    def rows(self) -> Iterator[list[str]]:
        fields: list[str] = []
        parts: list[str] = []
        quoted = False
        at_record_start = True
        while True:
            if at_record_start:
                if self._skip_comment():
                    continue
                at_record_start = False
            pattern = self.inside if quoted else self.outside
            m = pattern.search(self.buf, self.pos)
            if m is None or self._near_end(m.end()):
                if self.eof and m is None:
                    if quoted:
                        raise UploadFailed(
                            f"{self.where} row {self.record_number}: unterminated quoted field."
                        )
                    parts.append(self.buf[self.pos :])
                    self.pos = len(self.buf)
                    if fields or "".join(parts):
                        yield [*fields, "".join(parts)]
                    return
                safe = m.start() if m is not None else max(self.pos, len(self.buf) - self.lookahead)
                parts.append(self.buf[self.pos : safe])
                self.pos = safe
                self._more()
                continue
            parts.append(self.buf[self.pos : m.start()])
            if quoted:
                char = self.buf[m.start()]
                nxt = self.buf[m.start() + 1 : m.start() + 2]
                if char == self.escape and self.escape != self.quote:
                    if not nxt:
                        raise UploadFailed(f"{self.where}: unterminated quoted field.")
                    parts.append(nxt)
                    self.pos = m.start() + 2
                elif nxt == self.quote:  # doubled quote
                    parts.append(self.quote)
                    self.pos = m.start() + 2
                else:
                    quoted = False
                    self.pos = m.end()
                continue
            self.pos = m.end()
            if m.group(1) is not None:
                fields.append("".join(parts))
                parts = []
            elif m.group(2) is not None:
                fields.append("".join(parts))
                self.record_number += 1
                yield [] if fields == [""] else fields
                fields, parts = [], []
                at_record_start = True
            else:
                quoted = True


# --- JSON --------------------------------------------------------------------------------------


def _json_line_records(text: io.TextIOBase, where: str) -> Iterator[tuple[int, dict]]:
    number = 0
    for line in text:
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            raise UploadFailed(f"{where} row {number}: not a valid JSON object.") from None
        if not isinstance(record, dict):
            raise UploadFailed(f"{where} row {number}: each line must be one JSON object.")
        yield number, record


def _json_document_records(text: io.TextIOBase, where: str) -> Iterator[tuple[int, dict]]:
    """One JSON document: an object, an array of objects, or objects one after another."""
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False
    number = 0
    in_array: bool | None = None
    closed = False
    while True:
        while pos < len(buf) and (buf[pos].isspace() or (in_array and buf[pos] == ",")):
            pos += 1
        if pos >= len(buf):
            if eof:
                break
            chunk = text.read(TEXT_CHUNK)
            buf, pos, eof = buf[pos:] + chunk, 0, not chunk
            continue
        if closed:
            raise UploadFailed(f"{where}: data after the end of the JSON array.")
        if in_array is None:
            in_array = buf[pos] == "["
            pos += in_array
            continue
        if in_array and buf[pos] == "]":
            closed, pos = True, pos + 1
            continue
        try:
            record, end = decoder.raw_decode(buf, pos)
        except (ValueError, RecursionError):
            if eof:
                raise UploadFailed(f"{where} row {number + 1}: not a valid JSON object.") from None
            if len(buf) - pos > MAX_JSON_RECORD:
                raise UploadFailed(f"{where} row {number + 1}: a record over 64 MiB.") from None
            chunk = text.read(TEXT_CHUNK)
            buf, pos, eof = buf[pos:] + chunk, 0, not chunk
            continue
        number += 1
        if not isinstance(record, dict):
            raise UploadFailed(f"{where} row {number}: each record must be a JSON object.")
        yield number, record
        pos = end
    if in_array and not closed:
        raise UploadFailed(f"{where}: the JSON array is not closed.")


# --- Parquet -----------------------------------------------------------------------------------


def _parquet_records(stream: BinaryIO, where: str) -> Iterator[tuple[int, dict]]:
    head = stream.read(4)
    stream.seek(0)
    if head != b"PAR1":
        raise UploadFailed(f"{where} is not a Parquet file.")
    try:
        parquet = pq.ParquetFile(stream)
        number = 0
        for group in range(parquet.num_row_groups):
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group]):
                for record in batch.to_pylist():
                    number += 1
                    yield number, record
    except UploadFailed:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise UploadFailed(
            f"{where} could not be read as Parquet ({type(exc).__name__})."
        ) from None
