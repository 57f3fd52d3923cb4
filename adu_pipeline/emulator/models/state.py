"""Persistent emulator state: one SQLite file under the state dir.

Everything AMC would remember lives here (issued tokens, datasets, uploads, the ingested rows after
identity matching (with their identifiers in a separate column, for user deletion only),
audiences, user deletion requests, reporting executions, the clock offset), so
a restarted emulator picks up exactly where it stopped, including jobs that were still running.
One connection guarded by a lock: the emulator is small and SQLite serialises writers anyway.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_tokens (
    access_token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    refresh_token TEXT PRIMARY KEY, client_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT, used INTEGER NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, data_set_id TEXT NOT NULL,
    body TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (instance_id, data_set_id));
CREATE TABLE IF NOT EXISTS uploads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, upload_id TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL, data_set_id TEXT NOT NULL, request TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT, metrics TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, next_at REAL);
CREATE INDEX IF NOT EXISTS uploads_by_status ON uploads (status, next_at);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, data_set_id TEXT NOT NULL,
    partition TEXT NOT NULL, upload_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_by_upload ON rows (instance_id, data_set_id, upload_id, partition);
CREATE TABLE IF NOT EXISTS audiences (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, audience_execution_id TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,
    audience_count INTEGER, dsp_audience_id TEXT, dsp_canonical_id TEXT,
    create_time REAL NOT NULL, last_refreshed_time REAL, updated_at REAL NOT NULL, next_at REAL);
CREATE INDEX IF NOT EXISTS audiences_by_status ON audiences (status, next_at);
CREATE TABLE IF NOT EXISTS user_deletions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL, identities TEXT NOT NULL, identity_count INTEGER NOT NULL,
    status TEXT NOT NULL, rows_removed INTEGER, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, next_at REAL);
CREATE INDEX IF NOT EXISTS user_deletions_by_status ON user_deletions (status, next_at);
CREATE TABLE IF NOT EXISTS workflow_executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,
    result TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, next_at REAL);
CREATE INDEX IF NOT EXISTS executions_by_status ON workflow_executions (status, next_at);
CREATE TABLE IF NOT EXISTS emulator_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL);
"""

# Columns added after the first release: (table, column, declaration), added to older state files.
MIGRATIONS = (
    # the row's hashed PII / external ids as `TYPE|value` (JSON list), only for user deletion
    ("rows", "identities", "TEXT"),
    # audience lifecycle: attached to a DSP line item (emulator-only flag), next refresh due
    ("audiences", "line_item", "INTEGER NOT NULL DEFAULT 0"),
    ("audiences", "refresh_at", "REAL"),
)

# Dropped after the first release: running uploads now stage their rows in `rows` itself (a
# staged row left by an older version belongs to an upload that restarts from scratch anyway).
DROPPED = ("DROP TABLE IF EXISTS staged_rows", "DROP INDEX IF EXISTS rows_by_partition")

# A row is live (seen by audiences, queries, deletions and update strategies) once its upload
# committed: a running upload stages its rows in `rows` and they appear with its SUCCESS status,
# in the same transaction; a failed or restarted upload deletes its own.
LIVE_ROWS = (
    "upload_id NOT IN (SELECT upload_id FROM uploads WHERE status IN ('SUBMITTED','IN_PROGRESS'))"
)

DB_FILE = "amc-emulator.sqlite3"


class Store:
    """Thread-safe access to the SQLite file; `tx()` groups writes atomically."""

    def __init__(self, state_dir: Path):
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_FILE
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for statement in DROPPED:
            self._conn.execute(statement)
        for table, column, declaration in MIGRATIONS:
            have = {r["name"] for r in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic transaction; nested calls join the outer one."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchone()

    # --- datasets ---------------------------------------------------------------------------

    def get_dataset(self, instance_id: str, data_set_id: str) -> dict | None:
        row = self.one(
            "SELECT body FROM datasets WHERE instance_id=? AND data_set_id=?",
            (instance_id, data_set_id),
        )
        return json.loads(row["body"]) if row else None

    def dataset_times(self, instance_id: str, data_set_id: str) -> tuple[float, float]:
        row = self.one(
            "SELECT created_at, updated_at FROM datasets WHERE instance_id=? AND data_set_id=?",
            (instance_id, data_set_id),
        )
        return (row["created_at"], row["updated_at"]) if row else (0.0, 0.0)

    def list_datasets(self, instance_id: str) -> list[dict]:
        rows = self.all(
            "SELECT body FROM datasets WHERE instance_id=? ORDER BY seq", (instance_id,)
        )
        return [json.loads(r["body"]) for r in rows]

    def dataset_count(self, instance_id: str) -> int:
        row = self.one("SELECT count(*) AS n FROM datasets WHERE instance_id=?", (instance_id,))
        return row["n"] if row else 0

    def insert_dataset(self, instance_id: str, body: dict, now: float) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT INTO datasets (instance_id, data_set_id, body, created_at, updated_at)"
                " VALUES (?,?,?,?,?)",
                (instance_id, body["dataSetId"], json.dumps(body), now, now),
            )

    def save_dataset(self, instance_id: str, body: dict, now: float) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE datasets SET body=?, updated_at=? WHERE instance_id=? AND data_set_id=?",
                (json.dumps(body), now, instance_id, body["dataSetId"]),
            )

    def delete_dataset(self, instance_id: str, data_set_id: str) -> None:
        with self.tx() as c:
            c.execute(
                "DELETE FROM datasets WHERE instance_id=? AND data_set_id=?",
                (instance_id, data_set_id),
            )
            c.execute(
                "DELETE FROM rows WHERE instance_id=? AND data_set_id=?", (instance_id, data_set_id)
            )

    # --- ingested rows ----------------------------------------------------------------------

    def dataset_rows(self, instance_id: str, data_set_id: str) -> list[dict]:
        return [
            json.loads(text)
            for chunk in self.dataset_row_texts(instance_id, data_set_id)
            for text in chunk
        ]

    def dataset_row_texts(
        self, instance_id: str, data_set_id: str, chunk_rows: int = 50_000
    ) -> Iterator[list[str]]:
        """The live rows' JSON texts in upload order, chunk by chunk, read under the lock as
        one snapshot (the audience SQL parses them itself, a chunk at a time)."""
        with self._lock:
            cursor = self._conn.execute(
                f"SELECT data FROM rows WHERE instance_id=? AND data_set_id=? AND {LIVE_ROWS}"
                " ORDER BY id",
                (instance_id, data_set_id),
            )
            cursor.row_factory = None
            while chunk := cursor.fetchmany(chunk_rows):
                yield [r[0] for r in chunk]

    def partitions(self, instance_id: str, data_set_id: str) -> set[str]:
        rows = self.all(
            "SELECT DISTINCT partition FROM rows WHERE instance_id=? AND data_set_id=?"
            f" AND {LIVE_ROWS}",
            (instance_id, data_set_id),
        )
        return {r["partition"] for r in rows}

    def rewrite_rows(self, instance_id: str, data_set_id: str, sql_expr: str, args: tuple) -> None:
        """Apply a JSON edit (`data = <sql_expr>`) to every stored row of a dataset."""
        with self.tx() as c:
            c.execute(
                f"UPDATE rows SET data = {sql_expr} WHERE instance_id=? AND data_set_id=?"
                f" AND {LIVE_ROWS}",
                (*args, instance_id, data_set_id),
            )

    # --- uploads ----------------------------------------------------------------------------

    def get_upload(self, upload_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM uploads WHERE upload_id=?", (upload_id,))

    # --- audiences --------------------------------------------------------------------------

    def get_audience(self, audience_execution_id: str) -> sqlite3.Row | None:
        return self.one(
            "SELECT * FROM audiences WHERE audience_execution_id=?", (audience_execution_id,)
        )
