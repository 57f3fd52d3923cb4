"""The Dagster instance settings this code location relies on, in one place.

Exactly-once writes to AMC rest on pools with a limit of 1 (see `keys.amc_pool`): two runs of
the same partition or segment take turns, and the second finds what the first created. A killed
run's slots are freed once Dagster (or the run reaper) marks it finished. The pool's slot claim
is not atomic, so the steps also hold the pool's writer lock (`writer_lock.amc_writer`).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import yaml

EXACTLY_ONCE_LIMIT = 1

INSTANCE_SETTINGS: dict[str, Any] = {
    "telemetry": {"enabled": False},
    "concurrency": {"pools": {"default_limit": EXACTLY_ONCE_LIMIT}},
    "run_monitoring": {"enabled": True, "free_slots_after_run_end_seconds": 30},
}

LOCAL_HEADER = "# Written by adu-pipeline (adu demo / adu dev / tests) when missing; edit freely.\n"


def instance_yaml(extra: dict[str, Any] | None = None) -> str:
    """dagster.yaml text for a local instance (the demo, `adu dev`, tests)."""
    return LOCAL_HEADER + yaml.safe_dump({**INSTANCE_SETTINGS, **(extra or {})}, sort_keys=False)


def require_exclusive_pool(context: Any, pool: str) -> None:
    """Refuse to call AMC from a step whose pool lets two runs in at once: find-then-create is
    only exactly-once when the pool's limit is 1 (the instance's `concurrency` settings)."""
    limit = context.instance.event_log_storage.get_concurrency_info(pool).slot_count
    if limit == EXACTLY_ONCE_LIMIT:
        return
    allowed = "any number of" if not limit else str(limit)
    raise dg.Failure(
        description=(
            f"pool {pool} lets {allowed} runs write to AMC at once, so two runs could both "
            "create the same upload or audience; set `concurrency: pools: default_limit: 1` in "
            f"dagster.yaml (or `dagster instance concurrency set {pool} 1`) and run again"
        ),
        allow_retries=False,
    )
