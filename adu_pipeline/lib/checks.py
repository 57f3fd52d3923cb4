"""Asset checks. The three on each hashed asset are blocking: nothing leaves the machine unless
the schema holds, every hashed-PII value is 64 lowercase hex or null, and the data can match.

They are evaluated inside the hashed step (returned with its materialization) because they read
the same local file; the AMC status checks are reported by the status sensors.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.lib.keys import EGRESS_CHECK, READINESS_CHECK, SCHEMA_CHECK
from adu_pipeline.settings import Settings
from adu_pipeline.staging import quality


def hashed_check_specs(asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            SCHEMA_CHECK,
            asset=asset,
            blocking=True,
            description="The hashed output matches the pandera schema derived from the definition.",
        ),
        dg.AssetCheckSpec(
            EGRESS_CHECK,
            asset=asset,
            blocking=True,
            description="Every hashed-PII value is 64 lowercase hex or null (no raw PII leaves).",
        ),
        dg.AssetCheckSpec(
            READINESS_CHECK,
            asset=asset,
            blocking=True,
            description=(
                "Enough rows carry a usable identifier, and the projected audience clears AMC's "
                "2,000-user minimum (ADU_MIN_IDENTIFIER_SHARE, ADU_MIN_PROJECTED_AUDIENCE)."
            ),
        ),
    ]


def evaluate_hashed_checks(
    defn: DatasetDefinition, path: Path, settings: Settings
) -> tuple[list[dg.AssetCheckResult], dict[str, object]]:
    """The three check results, plus the readiness figures for the materialization's metadata."""
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
