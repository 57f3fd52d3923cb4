"""Every `compressionFormat` the spec lists, decoded as a stream: GZIP (multi-member), BZIP
(bzip2, multi-stream), SNAPPY (the framing format, `.sz`, or Hadoop's block stream, `.snappy`),
ZIP (each member in turn) and NONE. Parquet is read in place when the object is a Parquet file
(it compresses internally, whatever compressionFormat says), else decoded to a temporary file
(Parquet needs seeking).

A declared compression the bytes do not show, or corrupt data, fails the upload in one line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa

from adu_pipeline.emulator.models.s3io import (
    READ_CHUNK,
    UploadFailed,
    open_seekable,
    open_stream,
)

GZIP_MAGIC = b"\x1f\x8b"
BZIP_MAGIC = b"BZh"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
PARQUET_MAGIC = b"PAR1"
SNAPPY_STREAM_ID = b"\xff\x06\x00\x00sNaPpY"
MAX_SNAPPY_CHUNK = 64 << 20  # no writer makes chunks this big: a bigger length means corruption


def _looks_bzip(head: bytes) -> bool:
    return head[:3] == BZIP_MAGIC and head[4:10] == b"1AY&SY"


def open_decoded(
    s3, bucket: str, key: str, compression: str, file_format: dict
) -> Iterator[tuple[str, BinaryIO]]:
    """Yield (where, binary stream) for each file inside the object (ZIP: each member)."""
    where = f"s3://{bucket}/{key}"
    parquet = "parquetDataFormat" in file_format
    if compression == "ZIP":
        yield from _zip_members(open_seekable(s3, bucket, key), where, parquet)
        return
    stream = open_stream(s3, bucket, key)
    head = stream.peek(16)[:16]
    if parquet and head[:4] == PARQUET_MAGIC:
        stream.close()
        yield where, open_seekable(s3, bucket, key)
        return
    decoded = decompressor(stream, head, compression, where)
    yield where, (_spooled(decoded, where) if parquet else decoded)


def open_for_batches(
    s3, bucket: str, key: str, compression: str, file_format: dict
) -> Iterator[tuple[str, BinaryIO]]:
    """As `open_decoded`, but GZIP decoded by Arrow's zlib (half the CPU of Python's gzip
    module here). Arrow raises OSError on corrupt data instead of our message: the batch path
    then reads the object again through `open_decoded`, which gives it."""
    if compression == "GZIP":
        stream = open_stream(s3, bucket, key)
        if stream.peek(16)[:2] == GZIP_MAGIC:
            where = f"s3://{bucket}/{key}"
            yield where, pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), "gzip")
            return
        stream.close()
    yield from open_decoded(s3, bucket, key, compression, file_format)


def decompressor(stream: io.BufferedReader, head: bytes, compression: str, where: str) -> BinaryIO:
    """Wrap `stream` in the decoder `compression` names, after checking the magic bytes."""
    if compression == "GZIP":
        if head[:2] != GZIP_MAGIC:
            raise UploadFailed(f"{where} is not GZIP-compressed (compressionFormat GZIP).")
        return _guarded(gzip.GzipFile(fileobj=stream, mode="rb"), where, "GZIP")
    if compression == "BZIP":
        if head[:3] != BZIP_MAGIC:
            raise UploadFailed(f"{where} is not BZIP2-compressed (compressionFormat BZIP).")
        return _guarded(bz2.BZ2File(stream, mode="rb"), where, "BZIP")
    if compression == "SNAPPY":
        return _guarded(SnappyStream(stream, where), where, "SNAPPY")
    if head[:2] == GZIP_MAGIC:
        raise UploadFailed(f"{where} is GZIP-compressed but compressionFormat is NONE.")
    if _looks_bzip(head):
        raise UploadFailed(f"{where} is BZIP2-compressed but compressionFormat is NONE.")
    return stream


class _Guarded(io.RawIOBase):
    """A decoder's stream whose corrupt-data errors become one-line UploadFailed."""

    def __init__(self, inner, where: str, name: str):
        self._inner, self._where, self._name = inner, where, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._inner.read(len(buffer))
        except UploadFailed:
            raise
        except (OSError, EOFError, zlib.error, ValueError, pa.ArrowException):
            raise UploadFailed(f"{self._where} is a corrupt {self._name} file.") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _guarded(inner, where: str, name: str) -> io.BufferedReader:
    return io.BufferedReader(_Guarded(inner, where, name), READ_CHUNK)


def _zip_members(archive: BinaryIO, where: str, parquet: bool) -> Iterator[tuple[str, BinaryIO]]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError):
        archive.close()
        raise UploadFailed(f"{where} is not a ZIP archive (compressionFormat ZIP).") from None
    with zf:
        members = [
            m
            for m in zf.infolist()
            if not m.is_dir()
            and not m.filename.startswith("__MACOSX/")
            and not m.filename.rsplit("/", 1)[-1].startswith((".", "_"))
        ]
        if not members:
            raise UploadFailed(f"{where} holds no files.")
        for member in members:
            inner = f"{where} ({member.filename})"
            try:
                raw = zf.open(member)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError):
                raise UploadFailed(f"{inner} cannot be read from the ZIP archive.") from None
            stream = _guarded(raw, inner, "ZIP")
            yield inner, (_spooled(stream, inner) if parquet else stream)


def _spooled(stream: BinaryIO, where: str) -> BinaryIO:
    """Copy a decoded stream to a temporary file: bounded memory, and Parquet can seek."""
    spool = tempfile.TemporaryFile(prefix="amc-emulator-")  # noqa: SIM115 - returned open
    try:
        shutil.copyfileobj(stream, spool, READ_CHUNK)
    except BaseException:
        spool.close()
        raise
    finally:
        stream.close()
    spool.seek(0)
    return spool


# --- snappy ------------------------------------------------------------------------------------


def _raw_snappy(block: bytes) -> bytes:
    """One raw snappy block (its length is the leading varint), through pyarrow's codec."""
    size, shift, i = 0, 0, 0
    while True:
        if i >= len(block) or i > 4:
            raise ValueError("bad snappy length")
        byte = block[i]
        size |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            break
        shift += 7
    if size == 0:
        return b""
    return pa.Codec("snappy").decompress(block, decompressed_size=size, asbytes=True)


class SnappyStream(io.RawIOBase):
    """Snappy as files hold it: the framing format (stream identifier first; chunk CRCs are
    not verified) or, without that identifier, Hadoop's SnappyCodec block stream."""

    def __init__(self, source: io.BufferedReader, where: str):
        self._src = source
        self._where = where
        self._framed = source.peek(len(SNAPPY_STREAM_ID))[: len(SNAPPY_STREAM_ID)] == (
            SNAPPY_STREAM_ID
        )
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _exact(self, n: int, *, eof_ok: bool = False) -> bytes | None:
        data = self._src.read(n)
        if not data and eof_ok:
            return None
        if len(data) != n:
            raise ValueError("truncated snappy data")
        return data

    def _next_block(self) -> bytes | None:
        return self._framed_chunk() if self._framed else self._hadoop_block()

    def _framed_chunk(self) -> bytes | None:
        while True:
            header = self._exact(4, eof_ok=True)
            if header is None:
                return None
            kind, length = header[0], int.from_bytes(header[1:4], "little")
            body = self._exact(length) if length else b""
            if kind == 0x00:
                return _raw_snappy(body[4:])
            if kind == 0x01:
                return body[4:]
            if kind == 0xFF or 0x80 <= kind <= 0xFE:
                continue  # stream identifier again, or padding / skippable chunk
            raise ValueError("reserved snappy chunk type")

    def _hadoop_block(self) -> bytes | None:
        header = self._exact(4, eof_ok=True)
        if header is None:
            return None
        wanted = int.from_bytes(header, "big")
        if wanted > MAX_SNAPPY_CHUNK:
            raise ValueError("snappy block too large")
        out = []
        produced = 0
        while produced < wanted:
            length = int.from_bytes(self._exact(4), "big")
            if length > MAX_SNAPPY_CHUNK:
                raise ValueError("snappy chunk too large")
            piece = _raw_snappy(self._exact(length))
            produced += len(piece)
            out.append(piece)
        if produced != wanted:
            raise ValueError("snappy block length mismatch")
        return b"".join(out)

    def readinto(self, buffer) -> int:
        while not self._pending and not self._done:
            block = self._next_block()
            if block is None:
                self._done = True
            else:
                self._pending = block
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._src.close()
        super().close()
