"""Retry rules for assets that call AMC: the client retries 429/5xx with backoff inside a time
budget; Dagster retries the step a few more times, but never a failure a person must fix."""

from __future__ import annotations

from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcApiError

AMC_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def amc_failure(what: str, exc: AmcApiError) -> dg.Failure:
    """A step failure carrying AMC's own message; retried only when the error is transient."""
    return dg.Failure(
        description=f"{what}: {exc}",
        metadata={"http_status": exc.status or 0, "request_id": exc.request_id or ""},
        allow_retries=bool(getattr(exc, "retryable", False)),
    )


def status_check_result(
    status: Any, metadata: dict[str, Any], message: str | None, what: str
) -> dg.AssetCheckResult:
    """An AMC status check run by hand (or by a UI run that includes it): a job AMC is still
    working on is a warning that says so, not a failure; the status sensor reports the end."""
    if not status.is_terminal:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=metadata,
            description=f"{what} is still {metadata['status']} in AMC; the status sensor "
            "reports its final state",
        )
    return dg.AssetCheckResult(passed=status.is_success, metadata=metadata, description=message)
