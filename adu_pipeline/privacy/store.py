"""The opt-out list: hashes only, append-only, idempotent per file content (SQLite).

`<output dir>/optouts/optouts.sqlite` holds, per (hashed type, sha256), when it was first seen
and in which file (name and content SHA-256); and per ingested file, its counts. Ingesting the
same content again (a re-delivered or renamed file) changes nothing. Rows are never updated or
deleted: a person once opted out stays out of every later upload.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.amc.bodies import hashed_identity
from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.privacy.optouts import (
    IDENTITY_SCHEMA,
    OPTOUT_TYPES,
    OptOutFileResult,
    read_optout_file,
)

STORE_NAME = "optouts.sqlite"
OPTED_OUT = "opted_out"  # the reject reason of a row on the opt-out list
_SCHEMA = """
CREATE TABLE IF NOT EXISTS optouts (
    hashed_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    source_file TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    PRIMARY KEY (hashed_type, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS optouts_by_source ON optouts (source_sha256);
CREATE TABLE IF NOT EXISTS optout_files (
    content_sha256 TEXT PRIMARY KEY,
    source_file TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    rows_in INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    identities INTEGER NOT NULL,
    identities_added INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class IngestResult:
    content_sha256: str
    already_ingested: bool  # this content was ingested before: nothing changed
    identities_added: int  # identities first seen in this file
    summary: OptOutFileResult | None  # None when already ingested (the file was not read)


class OptOutStore:
    """The opt-out list of one output dir."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @classmethod
    def in_output_dir(cls, output_dir: str | os.PathLike) -> OptOutStore:
        return cls(Path(output_dir) / "optouts" / STORE_NAME)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.executescript(_SCHEMA)
            with db:  # one transaction
                yield db

    def ingest(
        self,
        path: str | os.PathLike,
        *,
        default_country: str | None = None,
        now: datetime | None = None,
    ) -> IngestResult:
        """Read, hash and append a file's identities, unless its content is already in."""
        path = Path(path)
        digest = file_sha256(path)
        with self._db() as db:
            if db.execute(
                "SELECT 1 FROM optout_files WHERE content_sha256 = ?", (digest,)
            ).fetchone():
                return IngestResult(digest, True, 0, None)
        summary = read_optout_file(path, default_country=default_country)
        seen = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = [
            (t, h, seen, path.name, digest)
            for t, h in zip(
                summary.identities.column("hashed_type").to_pylist(),
                summary.identities.column("sha256").to_pylist(),
                strict=True,
            )
        ]
        with self._db() as db:
            if db.execute(
                "SELECT 1 FROM optout_files WHERE content_sha256 = ?", (digest,)
            ).fetchone():  # ingested by someone else meanwhile
                return IngestResult(digest, True, 0, None)
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO optouts VALUES (?, ?, ?, ?, ?)", rows)
            added = db.total_changes - before
            db.execute(
                "INSERT INTO optout_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest, path.name, seen, summary.rows_in, summary.rows_accepted,
                    summary.rows_rejected, summary.identities.num_rows, added,
                ),
            )  # fmt: skip
        return IngestResult(digest, False, added, summary)

    def identities(self, *, source_sha256: str | None = None) -> pa.Table:
        """(hashed_type, sha256) of the whole list, or of those first seen in one file."""
        query = "SELECT hashed_type, sha256 FROM optouts"
        args: tuple[Any, ...] = ()
        if source_sha256 is not None:
            query += " WHERE source_sha256 = ?"
            args = (source_sha256,)
        with self._db() as db:
            found = db.execute(query + " ORDER BY hashed_type, sha256", args).fetchall()
        types = [t for t, _ in found]
        hashes = [h for _, h in found]
        return pa.table({"hashed_type": types, "sha256": hashes}, schema=IDENTITY_SCHEMA)

    def files(self) -> list[dict[str, Any]]:
        """Every ingested file with its counts, oldest first."""
        with self._db() as db:
            db.row_factory = sqlite3.Row
            found = db.execute("SELECT * FROM optout_files ORDER BY ingested_at, source_file")
            return [dict(r) for r in found.fetchall()]

    def optout_list(self) -> OptOutList:
        return OptOutList.from_identities(self.identities())


@dataclass(frozen=True)
class OptOutList:
    """The opt-out hashes by hashed PII type, ready to test batches against."""

    hashes: Mapping[str, pa.Array]

    @classmethod
    def from_identities(cls, table: pa.Table) -> OptOutList:
        by_type: dict[str, pa.Array] = {}
        table = table.combine_chunks()
        types = table.column("hashed_type")
        for pii_type in pc.unique(types).to_pylist():
            chosen = pc.filter(table.column("sha256"), pc.equal(types, pii_type))
            by_type[str(pii_type)] = pc.unique(chosen.combine_chunks())
        return cls(by_type)

    def __len__(self) -> int:
        return sum(len(v) for v in self.hashes.values())

    def mask(self, hashed: Mapping[str, pa.Array], types: Mapping[str, str]) -> pa.Array:
        """Per row: true when any hashed column (`types`: column -> hashed PII type) holds a
        hash on the list. Columns of types without opt-outs cost nothing."""
        rows = len(next(iter(hashed.values()))) if hashed else 0
        out = pa.array([False] * rows, pa.bool_())
        for column, pii_type in types.items():
            listed = self.hashes.get(str(pii_type))
            if listed is None or not len(listed) or column not in hashed:
                continue
            values = hashed[column]
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            out = pc.or_(out, pc.fill_null(pc.is_in(values, value_set=listed), False))
        return out


def optout_columns(defn: DatasetDefinition) -> dict[str, str]:
    """Hashed columns of a dataset definition whose type opt-outs cover (column -> type)."""
    return {c.name: str(c.hashed_pii) for c in defn.pii_columns if c.hashed_pii in OPTOUT_TYPES}


def deletion_identities(table: pa.Table) -> list[dict[str, Any]]:
    """One `hashedIdentity` per (type, sha256): a row matching any of them is deleted."""
    return [
        hashed_identity({t: h})
        for t, h in zip(
            table.column("hashed_type").to_pylist(), table.column("sha256").to_pylist(), strict=True
        )
    ]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
