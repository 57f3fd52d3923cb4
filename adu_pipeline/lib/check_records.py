"""Room for a sensor's check result on a partition that already has one.

Dagster 1.13 indexes a check result by (asset, check, run id, partition), and a sensor's results
have no run id: a second result for the same partition (a re-delivered date, an audience that
FAILED again after an update, a health state that changed back) fails the whole tick with a
UNIQUE constraint. The event log keeps every result; only the index row of the previous one is
replaced, so "latest" reads the new result. One home for this workaround.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

RUNLESS_RUN_ID = ""


def ready_for_storage(instance: dg.DagsterInstance, events: list[Any]) -> list[Any]:
    """`events` with one check result per (check, partition), the newest; the stored index row
    of an earlier sensor result for the same partition is removed so the new one can be added."""
    checks: dict[tuple[dg.AssetCheckKey, str], Any] = {}
    for event in events:
        if isinstance(event, dg.AssetCheckEvaluation) and event.partition is not None:
            checks[(event.asset_check_key, event.partition)] = event
    kept = [
        e
        for e in events
        if not isinstance(e, dg.AssetCheckEvaluation)
        or e.partition is None
        or checks[(e.asset_check_key, e.partition)] is e
    ]
    storage = instance.event_log_storage
    if checks and hasattr(storage, "index_connection"):
        table = AssetCheckExecutionsTable
        with storage.index_connection() as conn:
            for key, partition in checks:
                conn.execute(
                    table.delete().where(
                        (table.c.asset_key == key.asset_key.to_string())
                        & (table.c.check_name == key.name)
                        & (table.c.run_id == RUNLESS_RUN_ID)
                        & (table.c.partition == partition)
                    )
                )
    return kept
