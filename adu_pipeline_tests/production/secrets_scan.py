"""Find secret values in what Dagster stored: every file of DAGSTER_HOME (SQLite databases read
table by table) and every row of a PostgreSQL database. Dagster compresses snapshots with zlib,
so each binary value is searched as stored and decompressed."""

from __future__ import annotations

import gzip
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def _forms(data: bytes) -> Iterator[bytes]:
    """The bytes as stored, and unpacked when they are zlib or gzip data."""
    yield data
    for unpack in (zlib.decompress, gzip.decompress):
        try:
            yield unpack(data)
        except (zlib.error, OSError, EOFError):
            continue


def _cell_bytes(value: Any) -> bytes:
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def found_in(data: bytes, secrets: dict[str, str]) -> set[str]:
    """Names of the secrets whose value occurs in `data` (in any of its forms)."""
    hits = set()
    for form in _forms(data):
        hits |= {name for name, value in secrets.items() if value.encode() in form}
    return hits


def _sqlite_cells(path: Path) -> Iterator[bytes]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                yield from (_cell_bytes(cell) for cell in row if cell is not None)
    finally:
        connection.close()


def scan_home(home: Path, secrets: dict[str, str]) -> tuple[dict[str, set[str]], int]:
    """({file: secret names found}, files scanned) for every file under `home`."""
    hits: dict[str, set[str]] = {}
    files = sorted(p for p in home.rglob("*") if p.is_file())
    for path in files:
        found = found_in(path.read_bytes(), secrets)
        if path.suffix == ".db" or path.read_bytes()[:15] == b"SQLite format 3":
            for cell in _sqlite_cells(path):
                found |= found_in(cell, secrets)
        if found:
            hits[str(path.relative_to(home))] = found
    return hits, len(files)


def scan_rows(tables: Iterable[tuple[str, list[tuple[Any, ...]]]], secrets: dict[str, str]):
    """({table: secret names found}, rows scanned) over (table, rows) pairs."""
    hits: dict[str, set[str]] = {}
    scanned = 0
    for table, rows in tables:
        for row in rows:
            scanned += 1
            for cell in row:
                if cell is not None and (found := found_in(_cell_bytes(cell), secrets)):
                    hits.setdefault(table, set()).update(found)
    return hits, scanned


def postgres_tables(server: Any, db: str) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Every table of the database's public schema with all its rows (a dump, read by SQL)."""
    names = server.rows(
        db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    for (name,) in names:
        yield name, server.rows(db, f'SELECT * FROM "{name}"')
