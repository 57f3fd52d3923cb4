"""Scan files and S3 objects for raw email addresses taken from a landing file."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EMAIL = re.compile(rb"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")


def landing_emails(path: Path) -> set[str]:
    """Every email-looking value of the export's Email column, trimmed and lowercased."""
    table = pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(column_types={"Email": pa.string()})
    )
    found = set()
    for value in table.column("Email").to_pylist():
        for match in EMAIL.findall((value or "").strip().lower().encode()):
            found.add(match.decode())
    return found


def _texts(name: str, data: bytes) -> Iterable[bytes]:
    yield data
    if name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            unpacked = gzip.decompress(data)
        except (OSError, EOFError):
            unpacked = b""
        yield unpacked
    if name.endswith(".parquet") or data[:4] == b"PAR1":
        try:
            table = pq.read_table(io.BytesIO(data))
        except Exception:  # not a readable parquet after all
            return
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                yield "\n".join(v for v in column.to_pylist() if v).encode()


def leaks_in_bytes(name: str, data: bytes, emails: set[str]) -> set[str]:
    leaked: set[str] = set()
    for text in _texts(name, data):
        for match in EMAIL.findall(text.lower()):
            if match.decode() in emails:
                leaked.add(match.decode())
    return leaked


def scan_files(roots: Iterable[Path], emails: set[str], exclude: set[Path]) -> dict[str, int]:
    """{file: number of landing emails found in it}; files scanned are counted too."""
    hits: dict[str, int] = {}
    scanned = 0
    for root in roots:
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            if path.resolve() in exclude:
                continue
            scanned += 1
            leaked = leaks_in_bytes(path.name, path.read_bytes(), emails)
            if leaked:
                hits[str(path)] = len(leaked)
    hits["<files scanned>"] = scanned
    return hits


def scan_s3(client, bucket: str, emails: set[str]) -> dict[str, int]:
    hits: dict[str, int] = {}
    for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        data = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        leaked = leaks_in_bytes(obj["Key"], data, emails)
        if leaked:
            hits[obj["Key"]] = len(leaked)
    return hits
