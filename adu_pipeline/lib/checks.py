"""Asset checks. The three gates on each hashed asset are blocking: nothing leaves the machine
unless the schema holds, every hashed-PII value is 64 lowercase hex or null, and the data can
match. A fourth, a warning, flags a PII column with no valid value (usually a mapping mistake).

They are evaluated inside the hashed step (returned with its materialization) because they read
the same local file, one result per partition. A blocking check only stops the rest of its own
run, so the steps downstream call `require_gates_passed` too: whatever the run, data whose
latest gate failed for that partition never reaches S3 or AMC. The AMC status checks are
reported by the status sensors.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter  # 1.13: no public alias yet
from dagster._core.storage.asset_check_execution_record import (
    COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES as COMPLETED,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.hashing import HashSummary
from adu_pipeline.lib.keys import (
    EGRESS_CHECK,
    GATE_CHECKS,
    PII_VALID_CHECK,
    READINESS_CHECK,
    SCHEMA_CHECK,
)
from adu_pipeline.settings import Settings
from adu_pipeline.staging import quality

GATE_WAIT_SECONDS = 300.0  # how long a step waits for another run still checking its partition
GATE_DESCRIPTIONS = {
    SCHEMA_CHECK: "The hashed output matches the pandera schema derived from the definition.",
    EGRESS_CHECK: "Every hashed-PII value is 64 lowercase hex or null (no raw PII leaves).",
    READINESS_CHECK: (
        "Enough rows carry a usable identifier, and the projected audience clears AMC's "
        "2,000-user minimum (ADU_MIN_IDENTIFIER_SHARE, ADU_MIN_PROJECTED_AUDIENCE)."
    ),
}


def hashed_check_specs(
    asset: dg.AssetKey, partitions: dg.PartitionsDefinition | None
) -> list[dg.AssetCheckSpec]:
    gates = [
        dg.AssetCheckSpec(
            name, asset=asset, blocking=True, description=text, partitions_def=partitions
        )
        for name, text in GATE_DESCRIPTIONS.items()
    ]
    warning = dg.AssetCheckSpec(
        PII_VALID_CHECK,
        asset=asset,
        partitions_def=partitions,
        description="Warns when a PII column has no valid value at all (usually a column mapped "
        "to the wrong field of the export, or a wrong delimiter).",
    )
    return [*gates, warning]


def require_gates_passed(
    instance: dg.DagsterInstance,
    asset: dg.AssetKey,
    partition_key: str | None,
    wait_seconds: float = GATE_WAIT_SECONDS,
) -> None:
    """Fail the step unless the newest result of every gate on `asset` (for this partition)
    passed: materializing S3 or AMC alone must not bypass a blocking check. While another run of
    the partition is still checking (a planned result), wait for it, then read what it found."""
    check_keys = [dg.AssetCheckKey(asset, name) for name in GATE_CHECKS]
    where = f" for {partition_key}" if partition_key else ""
    problems = []
    for key in check_keys:
        evaluation = _settled_evaluation(instance, key, partition_key, wait_seconds)
        if evaluation is None:
            problems.append(f"{key.name} has no result{where}")
        elif not evaluation.passed:
            why = evaluation.description or "see the check"
            problems.append(f"{key.name} failed{where}: {why}")
    if problems:
        raise dg.Failure(
            description=f"{asset.to_user_string()} did not pass its gates, so nothing was sent: "
            + "; ".join(problems)
            + ". Fix the export (or the thresholds) and materialize the hashed asset again.",
            metadata={"gates_failed": len(problems)},
            allow_retries=False,
        )


def _settled_evaluation(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey, partition_key: str | None, wait: float
) -> dg.AssetCheckEvaluation | None:
    """The newest completed result; a planned one of a run still going is waited for first."""
    partition = PartitionKeyFilter(key=partition_key)
    storage = instance.event_log_storage
    deadline = time.monotonic() + wait
    while True:
        latest = storage.get_latest_asset_check_execution_by_key([key], partition_filter=partition)
        record = latest.get(key)
        if record is None or record.status is not AssetCheckExecutionRecordStatus.PLANNED:
            break
        run = instance.get_run_by_id(record.run_id)
        if run is None or run.is_finished or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    done = storage.get_asset_check_execution_history(
        key, limit=1, status=COMPLETED, partition_filter=partition
    )
    evaluation = done[0].evaluation if done else None
    return evaluation if isinstance(evaluation, dg.AssetCheckEvaluation) else None


def pii_validity_result(summary: HashSummary) -> dg.AssetCheckResult:
    """WARN when a hashed-PII column has rows but not one valid value."""
    empty = {}
    for column, stats in summary.columns.items():
        if stats.kind != "pii" or summary.rows_out == 0 or stats.valid:
            continue
        reasons = {**stats.invalid, **({"missing": stats.missing} if stats.missing else {})}
        empty[column] = ", ".join(f"{n} {r}" for r, n in reasons.items()) or "all empty"
    return dg.AssetCheckResult(
        check_name=PII_VALID_CHECK,
        passed=not empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"columns_without_valid_value": len(empty), "rows_written": summary.rows_out},
        description="; ".join(
            f"{c}: 0 of {summary.rows_out} rows valid ({why}); check the column mapping, "
            "delimiter and encoding"
            for c, why in empty.items()
        )
        or None,
    )


def evaluate_hashed_checks(
    defn: DatasetDefinition, path: Path, settings: Settings
) -> tuple[list[dg.AssetCheckResult], dict[str, object]]:
    """The three gate results, plus the readiness figures for the materialization's metadata."""
    schema = quality.schema_summary(defn, path)
    schema_result = dg.AssetCheckResult(
        check_name=SCHEMA_CHECK,
        passed=bool(schema["valid"]),
        metadata={
            "rows_checked": schema["rows"],
            "failure_count": schema["failure_count"],
            "failing_columns": ", ".join(sorted(schema["columns"])) or "none",
            "reasons": dg.MetadataValue.md(
                "\n".join(f"- {r}" for r in schema["reasons"]) or "none"
            ),
        },
        description=None if schema["valid"] else "; ".join(schema["reasons"][:5]),
    )
    bad = quality.egress_violations(defn, path)
    bad_total = sum(bad.values())
    egress_result = dg.AssetCheckResult(
        check_name=EGRESS_CHECK,
        passed=bad_total == 0,
        metadata={
            "non_hash_values": bad_total,
            **{f"non_hash_values/{c}": n for c, n in bad.items()},
        },
        description=None
        if bad_total == 0
        else f"{bad_total} hashed-PII values are not SHA-256 hex: "
        + ", ".join(f"{c}={n}" for c, n in bad.items() if n),
    )
    ready = quality.match_readiness(defn, path)
    share = ready.identifier_share()
    projected = ready.projected_audience(settings.expected_match_rate)
    problems = []
    if share < settings.min_identifier_share:
        problems.append(
            f"only {share:.1%} of rows carry an identifier "
            f"(minimum {settings.min_identifier_share:.0%})"
        )
    if projected < settings.min_projected_audience:
        problems.append(
            f"projected audience {projected} is under {settings.min_projected_audience} "
            f"(at an assumed match rate of {settings.expected_match_rate:.0%})"
        )
    validity = {f"validity/{c}": round(v, 4) for c, v in ready.validity().items()}
    readiness_meta: dict[str, object] = {
        "identifier_share": round(share, 4),
        "rows_with_identifier": ready.rows_with_identifier,
        "projected_audience": projected,
        **validity,
    }
    readiness_result = dg.AssetCheckResult(
        check_name=READINESS_CHECK,
        passed=not problems,
        metadata={
            **readiness_meta,
            "min_identifier_share": settings.min_identifier_share,
            "min_projected_audience": settings.min_projected_audience,
        },
        description="; ".join(problems) or None,
    )
    return [schema_result, egress_result, readiness_result], readiness_meta
