"""The backend (moto's per-service backend): configuration, the SQLite store, the clock, tokens.

Handlers in `responses/` receive the `Emulator`; the job worker shares it. No HTTP here.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models import lifecycle
from adu_pipeline.emulator.models.hostile import Hostility
from adu_pipeline.emulator.models.state import Store


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> Amazon's `yyyy-MM-ddTHH:mm:ssZ`."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """`yyyy-MM-ddTHH:mm:ssZ` (fractions and offsets tolerated) -> epoch seconds."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid timestamp {value!r}; use yyyy-MM-ddTHH:mm:ssZ.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class Emulator:
    """State + config + shared request checks."""

    def __init__(self, config: EmulatorConfig, state_dir: Path, s3_endpoint_url: str | None):
        self.config = config
        self.state_dir = state_dir
        self.s3_endpoint_url = s3_endpoint_url
        self.public_url = ""  # set by the server once it listens; instances report it
        self.store = Store(state_dir)
        self.wakeup = threading.Event()  # set when a job is queued, so the worker reacts at once
        # token buckets refill on real time, whatever clock the jobs run on
        self.hostility = Hostility(config.hostile, time.monotonic)

    def now(self) -> float:
        """AMC's time: the configured clock plus what `advance_clock` added (kept in SQLite)."""
        return self.config.timing.clock() + self.clock_offset()

    def clock_offset(self) -> float:
        row = self.store.one("SELECT offset_seconds FROM emulator_clock WHERE id=1")
        return row["offset_seconds"] if row else 0.0

    def advance_clock(self, seconds: float) -> float:
        """Move AMC's time forward (jobs, refreshes, deactivation, timestamps); returns the new
        now. Access tokens keep the configured clock, so a test can jump 31 days and carry on."""
        if not seconds >= 0:
            raise ApiError(400, "advanceSeconds must be zero or more.")
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO emulator_clock (id, offset_seconds) VALUES (1, ?) ON CONFLICT (id)"
                " DO UPDATE SET offset_seconds = offset_seconds + excluded.offset_seconds",
                (seconds,),
            )
        self.wakeup.set()
        return self.now()

    def set_line_item(self, audience_execution_id: str, attached: bool):
        """Mark an audience attached to a DSP line item (or not) and reschedule its next refresh
        from its last one; None for an unknown audience."""
        with self.store.tx() as c:
            row = self.store.get_audience(audience_execution_id)
            if row is None:
                return None
            c.execute(
                "UPDATE audiences SET line_item=? WHERE audience_execution_id=?",
                (int(attached), audience_execution_id),
            )
            row = self.store.get_audience(audience_execution_id)
            if row["status"] == "SUCCEEDED" and row["last_refreshed_time"] is not None:
                c.execute(
                    "UPDATE audiences SET refresh_at=? WHERE audience_execution_id=?",
                    (
                        lifecycle.next_event_for(row, row["last_refreshed_time"]),
                        audience_execution_id,
                    ),
                )
        self.wakeup.set()
        return self.store.get_audience(audience_execution_id)

    def stats(self) -> dict:
        """Counters since start (GET /_emulator/stats): requests, 429s, injected faults, rows
        removed by user deletion requests."""
        stats = self.hostility.stats()
        row = self.store.one("SELECT coalesce(sum(rows_removed), 0) AS n FROM user_deletions")
        stats["deletedRows"] = row["n"] if row else 0
        return stats

    # --- authentication ---------------------------------------------------------------------

    def issue_access_token(self, client_id: str) -> tuple[str, int]:
        ttl = self.config.credentials.access_token_ttl_seconds
        token = "Atza|" + secrets.token_urlsafe(48)
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO access_tokens (access_token, client_id, expires_at) VALUES (?,?,?)",
                (token, client_id, self.config.timing.clock() + ttl),
            )
        return token, ttl

    def token_client(self, access_token: str) -> str:
        """The client an access token was issued to; 401 for an unknown or expired token."""
        row = self.store.one(
            "SELECT client_id, expires_at FROM access_tokens WHERE access_token=?", (access_token,)
        )
        if row is None:
            raise ApiError(401, "The access token is not valid.")
        if row["expires_at"] <= self.config.timing.clock():
            raise ApiError(401, "The access token has expired.")
        return row["client_id"]
