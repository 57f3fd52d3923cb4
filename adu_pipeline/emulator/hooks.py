"""Extension points for behaviour that real AMC shows only sometimes (faults, throttling, ...).

The server asks its `Hooks` before routing every request and before finishing every job, so a
test or a later feature (fault injection, rate limits) can change the outcome without touching the
handlers. The default hooks change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HookResponse:
    """A response a hook returns instead of the normal one (e.g. 429 with Retry-After)."""

    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Hooks:
    """No-op base; subclass and override what a scenario needs."""

    def before_request(
        self, method: str, path: str, headers: dict[str, str]
    ) -> HookResponse | None:
        """Return a response to short-circuit the request, or None to serve it normally."""
        return None

    def upload_outcome(self, upload_id: str, data_set_id: str) -> str | None:
        """Return a failure message to force an upload to FAILED, or None to process it."""
        return None

    def audience_outcome(self, audience_execution_id: str) -> str | None:
        """Return a statusReason to force an audience to FAILED, or None to run its SQL."""
        return None


class FailNextRequests(Hooks):
    """Answer the next `count` requests whose path contains `path_part` with `status`."""

    def __init__(self, path_part: str, status: int, count: int = 1, retry_after: int | None = None):
        self.path_part = path_part
        self.status = status
        self.remaining = count
        self.retry_after = retry_after

    def before_request(
        self, method: str, path: str, headers: dict[str, str]
    ) -> HookResponse | None:
        if self.remaining <= 0 or self.path_part not in path:
            return None
        self.remaining -= 1
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        body = {"code": str(self.status), "details": "Injected fault."}
        return HookResponse(self.status, body, extra)
