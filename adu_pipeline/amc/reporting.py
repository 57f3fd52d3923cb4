"""Preflight count: how many distinct users a segment's SQL selects, before an audience exists.

AMC answers it with an ad-hoc reporting query (the workflow execution API, API.md 4):
`POST /amc/reporting/{instanceId}/workflowExecutions` with the SQL and a time window ->
`GET .../workflowExecutions/{id}` until SUCCEEDED -> `GET .../{id}/downloadUrls` -> the CSV.
The SQL is wrapped in `count(DISTINCT user_id)`, which AMC allows (user_id itself is never
output). Calls go through the client's transport (auth, retries, budget), as deletions do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from adu_pipeline.amc.bodies import amc_timestamp, workflow_execution_request
from adu_pipeline.amc.errors import AmcApiError
from adu_pipeline.amc.status import LenientStatus

if TYPE_CHECKING:
    from adu_pipeline.amc.client import AmcClient


MT_EXECUTIONS = "application/vnd.amcworkflowexecutions.v1+json"
COUNT_COLUMN = "distinct_users"
DOWNLOAD_TIMEOUT_SECONDS = 60.0

Window = tuple[datetime, datetime] | Mapping[str, str]


class ExecutionStatus(LenientStatus):
    """A workflow execution's status; an unknown spelling is read as PENDING (keep polling)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


@dataclass(frozen=True)
class Execution:
    """One workflow execution as AMC reports it."""

    execution_id: str
    status: ExecutionStatus
    status_raw: str
    status_reason: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Execution:
        raw_status = str(obj.get("status") or "PENDING")
        return cls(
            execution_id=str(obj.get("workflowExecutionId") or ""),
            status=ExecutionStatus(raw_status),
            status_raw=raw_status,
            status_reason=obj.get("statusReason"),
            raw=dict(obj),
        )


def count_sql(sql: str) -> str:
    """The segment's SQL as a count of the distinct users it selects."""
    inner = sql.strip().rstrip(";").strip()
    return f"SELECT count(DISTINCT user_id) AS {COUNT_COLUMN} FROM ({inner}) AS segment"


def count_distinct_users(
    client: AmcClient,
    sql: str,
    window: Window,
    *,
    timeout: float = 3600.0,
    max_interval: float = 15.0,
    on_poll: Callable[[Execution], None] | None = None,
) -> int:
    """Distinct users `sql` selects in `window` ((start, end) datetimes, or an audience body's
    `timeWindowStart` / `timeWindowEnd`), on the client's instance. AmcApiError when the
    execution does not succeed (its statusReason in the message), AmcTimeout after `timeout`."""
    start, end = _bounds(window)
    body = workflow_execution_request(count_sql(sql), start, end)
    created = _request(client, "POST", "", body=body, idempotent=False)
    execution_id = str(created.get("workflowExecutionId") or "")
    if not execution_id:
        raise AmcApiError(details="CreateWorkflowExecution answered without an execution id")
    path = f"/{quote(execution_id, safe='')}"
    done = client.poll(
        lambda: Execution.from_api(_request(client, "GET", path)),
        timeout,
        max_interval,
        on_poll,
        what=f"workflow execution {execution_id}",
    )
    if done.status is not ExecutionStatus.SUCCEEDED:
        reason = (done.status_reason or "no reason given")[:300]
        raise AmcApiError(details=f"count query {execution_id} {done.status_raw}: {reason}")
    urls = _request(client, "GET", path + "/downloadUrls").get("downloadUrls") or []
    if not urls:
        raise AmcApiError(details=f"count query {execution_id} has no output to download")
    return _read_count(str(urls[0]), execution_id)


def _bounds(window: Window) -> tuple[str, str]:
    if isinstance(window, Mapping):
        return str(window["timeWindowStart"]), str(window["timeWindowEnd"])
    start, end = window
    return amc_timestamp(start), amc_timestamp(end)


def _read_count(url: str, execution_id: str) -> int:
    """The single count in the result CSV (a pre-signed URL: no AMC headers)."""
    response = httpx.get(url, timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=True)
    if response.status_code != 200:
        raise AmcApiError(
            status=response.status_code,
            details=f"count query {execution_id}: its output could not be downloaded",
        )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    try:
        return int(float(rows[0][COUNT_COLUMN])) if rows else 0
    except (KeyError, ValueError):
        raise AmcApiError(
            details=f"count query {execution_id}: the output has no {COUNT_COLUMN} number"
        ) from None


def _request(client: AmcClient, method: str, path: str, **kwargs: Any) -> Any:
    """One reporting call (same headers as ADU calls)."""
    return client.instance_request(
        method, "reporting", f"/workflowExecutions{path}", media_type=MT_EXECUTIONS, **kwargs
    )
