"""The background worker that moves uploads, audiences, deletions and executions along.

Uploads: SUBMITTED -> IN_PROGRESS -> SUCCESS | FAILED; audiences: PENDING -> RUNNING ->
SUCCEEDED | FAILED, then refreshed on their schedule or DEACTIVATED (`lifecycle`); user deletion
requests: PENDING -> SUCCEEDED (the matched rows removed); reporting executions: PENDING ->
RUNNING -> SUCCEEDED | FAILED. Each transition waits `timing.step_seconds` after the previous
one. The job state lives in SQLite (`next_at` = when the next transition is due), so a restarted
emulator resumes every unfinished job; a finished job's rows and status commit in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import traceback
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adu_pipeline.emulator.models import lifecycle
from adu_pipeline.emulator.models.audience_sql import AudienceFailed, audience_size, query_result
from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.models.ingest import UploadFailed, s3_client
from adu_pipeline.emulator.models.reporting import MAX_RESULT_ROWS, to_csv
from adu_pipeline.emulator.models.state import LIVE_ROWS
from adu_pipeline.emulator.models.upload_rows import Stored, read_ahead, stored_batches
from adu_pipeline.emulator.models.user_deletion import remove_rows

log = logging.getLogger("adu_pipeline.emulator.jobs")
MAX_IDLE_SECONDS = 1.0
INJECTED_UPLOAD_FAILURE = "Injected failure: the upload could not be processed."
INJECTED_AUDIENCE_FAILURE = "Injected failure: the audience could not be generated."


class _Stopping(Exception):
    """The worker is stopping mid-upload: the upload stays IN_PROGRESS and restarts later."""


def where_failed(exc: BaseException) -> str:
    """Exception type and innermost frame, not its message: a parser's or converter's message
    can quote a value read from the uploaded objects."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


class Worker(threading.Thread):
    """One thread; processes due jobs one at a time, sleeps until the next one is due."""

    def __init__(self, app: Emulator):
        super().__init__(name="amc-emulator-jobs", daemon=True)
        self.app = app
        self._stopping = threading.Event()
        self._s3 = None

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self.app.wakeup.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.step()
            except Exception as exc:
                log.error("emulator job worker error: %s", where_failed(exc))
                worked = False
            if not worked:
                self.app.wakeup.wait(self._idle_seconds())
                self.app.wakeup.clear()

    def step(self) -> bool:
        """Advance the most overdue job, if any is due; True when something happened."""
        now = self.app.now()
        store = self.app.store
        upload = store.one(
            "SELECT * FROM uploads WHERE status IN ('SUBMITTED','IN_PROGRESS') AND next_at <= ?"
            " ORDER BY next_at LIMIT 1",
            (now,),
        )
        if upload is not None:
            self._advance_upload(upload)
            return True
        audience = store.one(
            "SELECT * FROM audiences WHERE status IN ('PENDING','RUNNING') AND next_at <= ?"
            " ORDER BY next_at LIMIT 1",
            (now,),
        )
        if audience is not None:
            self._advance_audience(audience)
            return True
        deletion = store.one(
            "SELECT * FROM user_deletions WHERE status='PENDING' AND next_at <= ?"
            " ORDER BY next_at LIMIT 1",
            (now,),
        )
        if deletion is not None:
            self._run_deletion(deletion)
            return True
        execution = store.one(
            "SELECT * FROM workflow_executions WHERE status IN ('PENDING','RUNNING')"
            " AND next_at <= ? ORDER BY next_at LIMIT 1",
            (now,),
        )
        if execution is not None:
            self._advance_execution(execution)
            return True
        due = store.one(
            "SELECT * FROM audiences WHERE status='SUCCEEDED' AND refresh_at <= ?"
            " ORDER BY refresh_at LIMIT 1",
            (now,),
        )
        if due is not None:
            self._refresh_audience(due)
            return True
        return False

    def _idle_seconds(self) -> float:
        due = self.app.store.one(
            "SELECT min(n) AS n FROM (SELECT min(next_at) AS n FROM uploads"
            " WHERE status IN ('SUBMITTED','IN_PROGRESS') UNION ALL SELECT min(next_at)"
            " FROM audiences WHERE status IN ('PENDING','RUNNING') UNION ALL SELECT"
            " min(next_at) FROM user_deletions WHERE status='PENDING' UNION ALL SELECT"
            " min(next_at) FROM workflow_executions WHERE status IN ('PENDING','RUNNING')"
            " UNION ALL SELECT min(refresh_at) FROM audiences WHERE status='SUCCEEDED')"
        )
        if due is None or due["n"] is None:
            return MAX_IDLE_SECONDS
        return min(MAX_IDLE_SECONDS, max(0.0, due["n"] - self.app.now()))

    # --- uploads ----------------------------------------------------------------------------

    def _advance_upload(self, row: sqlite3.Row) -> None:
        app, now = self.app, self.app.now()
        step = app.config.timing.step_seconds
        if row["status"] == "SUBMITTED":
            with app.store.tx() as c:
                c.execute(
                    "UPDATE uploads SET status='IN_PROGRESS', updated_at=?, next_at=?"
                    " WHERE upload_id=?",
                    (now, now + step, row["upload_id"]),
                )
            return
        try:
            written = self._ingest(row)
        except _Stopping:
            return
        except UploadFailed as exc:
            self._fail_upload(row, str(exc))
        except Exception as exc:
            log.error("upload %s processing error: %s", row["upload_id"], where_failed(exc))
            self._fail_upload(row, "Internal error while processing.")
        else:
            log.info("upload %s SUCCESS: %d rows", row["upload_id"], written)

    def _ingest(self, row: sqlite3.Row) -> int:
        """Stream the upload's rows into `rows` batch by batch (hidden while the upload is
        running, see `state.LIVE_ROWS`), then apply the strategy and the status at once."""
        app, upload_id = self.app, row["upload_id"]
        forced = app.config.hooks.upload_outcome(upload_id, row["data_set_id"])
        if forced:
            raise UploadFailed(forced)
        if app.hostility.upload_fails(upload_id):
            raise UploadFailed(INJECTED_UPLOAD_FAILURE)
        dataset = app.store.get_dataset(row["instance_id"], row["data_set_id"])
        if dataset is None:
            raise UploadFailed(f"Data set {row['data_set_id']} no longer exists.")
        if self._s3 is None:
            self._s3 = s3_client(app.config, app.s3_endpoint_url)
        request = json.loads(row["request"])
        self._clear_staged(row)  # a restarted job begins again
        batches = stored_batches(app.config, self._s3, dataset, request, row["instance_id"])
        for batch in read_ahead(batches):
            self._stage(row, batch)
            if self._stopping.is_set():
                raise _Stopping
        return self._commit_upload(row, request["updateStrategy"])

    def _stage(self, row: sqlite3.Row, batch: Iterable[Stored]) -> None:
        head = (row["instance_id"], row["data_set_id"], row["upload_id"])
        with self.app.store.tx() as c:
            c.executemany(
                "INSERT INTO rows (instance_id, data_set_id, upload_id, partition, data,"
                " identities) VALUES (?,?,?,?,?,?)",
                ((*head, *stored) for stored in batch),
            )

    def _clear_staged(self, row: sqlite3.Row) -> None:
        """Drop the rows a running upload has staged so far."""
        with self.app.store.tx() as c:
            c.execute(
                "DELETE FROM rows WHERE instance_id=? AND data_set_id=? AND upload_id=?",
                (row["instance_id"], row["data_set_id"], row["upload_id"]),
            )

    def _fail_upload(self, row: sqlite3.Row, message: str) -> None:
        with self.app.store.tx():
            self._clear_staged(row)
            self._finish_upload(row["upload_id"], "FAILED", message, {})

    def _commit_upload(self, row: sqlite3.Row, strategy: str) -> int:
        """Apply the update strategy to the live rows and mark the upload SUCCESS (which makes
        its staged rows live), atomically."""
        instance_id, data_set_id, upload_id = (
            row["instance_id"],
            row["data_set_id"],
            row["upload_id"],
        )
        others = f"instance_id=? AND data_set_id=? AND upload_id<>? AND {LIVE_ROWS}"
        mine = "instance_id=? AND data_set_id=? AND upload_id=?"
        key = (instance_id, data_set_id, upload_id)
        with self.app.store.tx() as c:
            if strategy == "FULL_REPLACE":
                c.execute(f"DELETE FROM rows WHERE {others}", key)
            elif strategy == "OVERLAP_REPLACE":
                c.execute(
                    f"DELETE FROM rows WHERE {others} AND partition IN"
                    f" (SELECT DISTINCT partition FROM rows WHERE {mine})",
                    key + key,
                )
            elif strategy == "OVERLAP_KEEP":
                c.execute(
                    f"DELETE FROM rows WHERE {mine} AND partition IN"
                    f" (SELECT DISTINCT partition FROM rows WHERE {others})",
                    key + key,
                )
            count = c.execute(f"SELECT count(*) FROM rows WHERE {mine}", key).fetchone()[0]
            self._finish_upload(upload_id, "SUCCESS", None, {"OutputRowCount": count})
        return count

    def _finish_upload(self, upload_id: str, status: str, message: str | None, metrics: dict):
        with self.app.store.tx() as c:
            c.execute(
                "UPDATE uploads SET status=?, message=?, metrics=?, updated_at=?, next_at=NULL"
                " WHERE upload_id=?",
                (status, message, json.dumps(metrics), self.app.now(), upload_id),
            )

    # --- audiences --------------------------------------------------------------------------

    def _advance_audience(self, row: sqlite3.Row) -> None:
        app, now = self.app, self.app.now()
        audience_id = row["audience_execution_id"]
        if row["status"] == "PENDING":
            with app.store.tx() as c:
                c.execute(
                    "UPDATE audiences SET status='RUNNING', updated_at=?, next_at=?"
                    " WHERE audience_execution_id=?",
                    (now, now + app.config.timing.step_seconds, audience_id),
                )
            return
        spec = json.loads(row["body"])
        try:
            forced = app.config.hooks.audience_outcome(audience_id)
            if not forced and app.hostility.audience_fails(audience_id):
                forced = INJECTED_AUDIENCE_FAILURE
            if forced:
                raise AudienceFailed(forced)
            window = _window(spec, now, now)  # the window as given; it slides at refreshes
            size = audience_size(
                app.store, row["instance_id"], spec["query"], window, app.config.audience_min_users
            )
        except AudienceFailed as exc:
            self._finish_audience(audience_id, "FAILED", str(exc), 0, None)
        except Exception as exc:
            log.error("audience %s processing error: %s", audience_id, where_failed(exc))
            self._finish_audience(audience_id, "FAILED", "Internal error while running.", 0, None)
        else:
            self._finish_audience(audience_id, "SUCCEEDED", None, size, _dsp_ids(audience_id))

    def _finish_audience(
        self,
        audience_id: str,
        status: str,
        reason: str | None,
        count: int,
        dsp: tuple[str, str] | None,
    ) -> None:
        now = self.app.now()
        row = self.app.store.get_audience(audience_id)
        refresh_at = lifecycle.next_event_for(row, now) if dsp and row is not None else None
        with self.app.store.tx() as c:
            c.execute(
                "UPDATE audiences SET status=?, status_reason=?, audience_count=?,"
                " dsp_audience_id=?, dsp_canonical_id=?, last_refreshed_time=?, updated_at=?,"
                " next_at=NULL, refresh_at=? WHERE audience_execution_id=?",
                (
                    status,
                    reason,
                    count,
                    dsp[0] if dsp else None,
                    dsp[1] if dsp else None,
                    now if dsp else None,
                    now,
                    refresh_at,
                    audience_id,
                ),
            )

    def _refresh_audience(self, row: sqlite3.Row) -> None:
        """A SUCCEEDED audience's scheduled event: recompute its size from the rows stored now
        (user deletions show), or deactivate it (refreshRateDays 0 after 30 days). A refresh
        that cannot run keeps the last size and says why in statusReason."""
        app, now = self.app, self.app.now()
        audience_id = row["audience_execution_id"]
        spec = json.loads(row["body"])
        if spec.get("refreshRateDays") == 0:
            with app.store.tx() as c:
                c.execute(
                    "UPDATE audiences SET status='DEACTIVATED', status_reason=?, updated_at=?,"
                    " refresh_at=NULL WHERE audience_execution_id=?",
                    (lifecycle.DEACTIVATED_REASON, now, audience_id),
                )
            return
        count, reason = row["audience_count"], None
        try:
            count = audience_size(
                app.store,
                row["instance_id"],
                spec["query"],
                _window(spec, row["create_time"], now),
                0,
            )
        except AudienceFailed as exc:
            reason = f"The last refresh failed: {exc}"
        except Exception as exc:
            log.error("audience %s refresh error: %s", audience_id, where_failed(exc))
            reason = "The last refresh failed: internal error."
        refreshed = now if reason is None else row["last_refreshed_time"]
        with app.store.tx() as c:
            c.execute(
                "UPDATE audiences SET audience_count=?, status_reason=?, last_refreshed_time=?,"
                " updated_at=?, refresh_at=? WHERE audience_execution_id=?",
                (count, reason, refreshed, now, lifecycle.next_event_for(row, now), audience_id),
            )

    # --- user deletion requests -------------------------------------------------------------

    def _run_deletion(self, row: sqlite3.Row) -> None:
        """Remove every stored row of the instance that holds one of the identities, and mark
        the request SUCCEEDED with the count, in one transaction."""
        app, now = self.app, self.app.now()
        with app.store.tx() as c:
            removed = remove_rows(c, row["instance_id"], json.loads(row["identities"]))
            c.execute(
                "UPDATE user_deletions SET status='SUCCEEDED', rows_removed=?, updated_at=?,"
                " next_at=NULL WHERE request_id=?",
                (removed, now, row["request_id"]),
            )
        log.info("user deletion %s SUCCEEDED: %d rows removed", row["request_id"], removed)

    # --- reporting executions ---------------------------------------------------------------

    def _advance_execution(self, row: sqlite3.Row) -> None:
        app, now = self.app, self.app.now()
        execution_id = row["execution_id"]
        if row["status"] == "PENDING":
            with app.store.tx() as c:
                c.execute(
                    "UPDATE workflow_executions SET status='RUNNING', updated_at=?, next_at=?"
                    " WHERE execution_id=?",
                    (now, now + app.config.timing.step_seconds, execution_id),
                )
            return
        request = json.loads(row["request"])
        status, reason, result = "SUCCEEDED", None, None
        try:
            window = (_moment(request["timeWindowStart"]), _moment(request["timeWindowEnd"]))
            names, rows = query_result(
                app.store, row["instance_id"], request["sqlQuery"], window, MAX_RESULT_ROWS
            )
            result = to_csv(names, rows)
        except AudienceFailed as exc:
            status, reason = "FAILED", str(exc)
        except Exception as exc:
            log.error("execution %s error: %s", execution_id, where_failed(exc))
            status, reason = "FAILED", "Internal error while running."
        with app.store.tx() as c:
            c.execute(
                "UPDATE workflow_executions SET status=?, status_reason=?, result=?,"
                " updated_at=?, next_at=NULL WHERE execution_id=?",
                (status, reason, result, now, execution_id),
            )


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _window(spec: dict, created: float, now: float) -> tuple[datetime, datetime]:
    """The audience's time window, slid forward since creation when it is relative."""
    shift = timedelta(
        seconds=lifecycle.window_shift(created, now, bool(spec.get("timeWindowRelative")))
    )
    return _moment(spec["timeWindowStart"]) + shift, _moment(spec["timeWindowEnd"]) + shift


def _dsp_ids(audience_id: str) -> tuple[str, str]:
    """Stable DSP audience id (13 digits) and canonical id for an audience."""
    digest = hashlib.sha256(f"amc-emulator/dsp/{audience_id}".encode()).hexdigest()
    return str(int(digest[:15], 16) % 10**13).zfill(13), str(uuid.UUID(digest[:32]))
