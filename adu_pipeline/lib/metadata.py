"""Dagster metadata built from our libraries' results: column schemas, hashing summaries,
the newest materialization's values. Counts and names only, never a value from the data."""

from __future__ import annotations

from typing import Any

import dagster as dg

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.hashing import HashSummary


def column_schema(defn: DatasetDefinition) -> dg.TableSchema:
    """The output layout as Dagster's column schema (shown on the asset page)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=c["name"], type=c["type"], description=c.get("description") or None)
            for c in defn.columns_for_metadata()
        ]
    )


def summary_metadata(summary: HashSummary) -> dict[str, Any]:
    """Numeric metadata the UI plots per partition."""
    meta: dict[str, Any] = {
        "rows_in": summary.rows_in,
        "rows_written": summary.rows_out,
        "rows_rejected": summary.rows_rejected,
        "duplicates_dropped": summary.duplicates_dropped,
        "dagster/row_count": summary.rows_out,
        "hash_seconds": round(summary.seconds, 3),
    }
    for reason, count in sorted(summary.rejected_by_reason.items()):
        meta[f"rejects/{reason}"] = int(count)
    nulled = 0
    for column, stats in summary.columns.items():
        for reason, count in stats.invalid.items():
            meta[f"invalid/{column}/{reason}"] = int(count)
            nulled += int(count)
    # Values that were present but could not be normalized: nulled in a row that is still sent
    # (rows_rejected counts whole rows left out).
    meta["values_nulled"] = nulled
    return meta


def values(event: Any) -> dict[str, Any]:
    return {k: v.value for k, v in event.metadata.items()}


def latest_metadata(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition_key: str | None
) -> dict[str, Any] | None:
    """Plain values of the newest materialization's metadata (of one partition, if given)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=key, asset_partitions=[partition_key] if partition_key else None
        ),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return values(records[0].asset_materialization)
