"""hashed_customers: the landing file normalized and SHA-256 hashed into local parquet.

Streams the export through adu_pipeline.hashing (bounded memory), fills the main event time with
the partition's export date, writes true nulls and a rejects table (reasons, never values), drops
exact duplicate rows and counts them. The blocking checks are returned with the materialization.
"""

from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from adu_pipeline.defs.checks import evaluate_hashed_checks, hashed_customers_check_specs
from adu_pipeline.defs.definition import OWNERS, column_schema, default_definition, definition_at
from adu_pipeline.defs.landing import find_landing_file
from adu_pipeline.defs.partitions import export_date_partitions
from adu_pipeline.defs.resources import PipelineSettings
from adu_pipeline.errors import AduError
from adu_pipeline.hashing import HashPlan, HashSummary, hash_file

PROGRESS_EVERY_ROWS = 1_000_000


def output_paths(
    settings: PipelineSettings, dataset_id: str, partition_key: str
) -> tuple[Path, Path]:
    folder = settings.output_path / dataset_id / f"export_date={partition_key}"
    return folder / "hashed.parquet", folder / "rejects.parquet"


def summary_metadata(summary: HashSummary) -> dict[str, Any]:
    """Numeric metadata the UI plots per partition (counts only, never a value)."""
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
    for column, stats in summary.columns.items():
        for reason, count in stats.invalid.items():
            meta[f"invalid/{column}/{reason}"] = int(count)
    return meta


def _definition_metadata() -> dict[str, Any]:
    try:
        return {"dagster/column_schema": column_schema(default_definition())}
    except Exception:  # a broken definition is reported by the run that uses it
        return {}


@dg.asset(
    partitions_def=export_date_partitions,
    deps=["crm_export"],
    check_specs=hashed_customers_check_specs,
    group_name="hashing",
    kinds={"python", "parquet"},
    owners=OWNERS,
    metadata=_definition_metadata(),
    description=(
        "The export normalized per Amazon's rules and SHA-256 hashed, one parquet file per "
        "export date, with a rejects table; blocking checks guard everything downstream."
    ),
)
def hashed_customers(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> dg.MaterializeResult:
    partition_key = context.partition_key
    export_date = date.fromisoformat(partition_key)
    defn = definition_at(settings.path(settings.dataset_path))
    landing = find_landing_file(settings.landing_path, export_date)
    output, rejects = output_paths(settings, defn.id, partition_key)
    output.parent.mkdir(parents=True, exist_ok=True)
    context.log.info(f"hashing {landing.path.name} ({landing.size_bytes} bytes) for {defn.id}")

    logged = [0]

    def progress(rows_so_far: int) -> None:
        if rows_so_far - logged[0] >= PROGRESS_EVERY_ROWS:
            logged[0] = rows_so_far
            context.log.info(f"{rows_so_far} rows hashed")

    try:
        summary = hash_file(
            landing.path,
            output,
            HashPlan.from_definition(defn),
            rejects_path=rejects,
            export_date=export_date,
            drop_duplicates=True,
            progress=progress,
        )
    except AduError as exc:  # one clear line, never a value (the hashing contract)
        raise dg.Failure(description=f"{landing.path.name}: {exc}", allow_retries=False) from None
    except Exception as exc:
        # The event log keeps a failure's message and cause for good: a parser's message may
        # quote a row of the raw export, so only the kind of error is recorded.
        raise dg.Failure(
            description=f"{landing.path.name}: hashing failed ({type(exc).__name__}; the "
            "message is withheld because it may quote the export)",
            allow_retries=False,
        ) from None
    meta = summary_metadata(summary)
    accounted = meta["rows_written"] + meta["rows_rejected"] + meta["duplicates_dropped"]
    if meta["rows_in"] != accounted:
        raise dg.Failure(
            description=f"row accounting broken: {meta['rows_in']} in, {accounted} accounted for",
            allow_retries=False,
        )
    check_results, readiness = evaluate_hashed_checks(defn, output, settings)
    context.log.info(
        f"{meta['rows_in']} rows in, {meta['rows_written']} written, "
        f"{meta['rows_rejected']} rejected, {meta['duplicates_dropped']} duplicates dropped"
    )
    return dg.MaterializeResult(
        metadata={
            **meta,
            **readiness,
            "output_path": dg.MetadataValue.path(str(output)),
            "rejects_path": dg.MetadataValue.path(str(rejects)),
            "output_bytes": output.stat().st_size,
            "landing_file": landing.path.name,
            "dataset_id": defn.id,
        },
        check_results=check_results,
    )
