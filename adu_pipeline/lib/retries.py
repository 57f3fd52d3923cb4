"""Retry rules for assets that call AMC: the client retries 429/5xx with backoff inside a time
budget; Dagster retries the step a few more times, but never a failure a person must fix."""

from __future__ import annotations

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
