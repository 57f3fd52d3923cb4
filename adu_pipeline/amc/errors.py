"""Typed AMC errors carrying what Amazon said (status, code, details, requestId), no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from adu_pipeline.errors import AduError

if TYPE_CHECKING:
    from adu_pipeline.amc.diffs import DatasetDiff

_MAX_DETAIL_CHARS = 500
_MAX_ERRORS_SHOWN = 5


class AmcApiError(AduError):
    """An AMC or Login with Amazon call failed; str() is one line for the CLI."""

    label = "error"  # shown when there is no HTTP status

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
        errors: list[str] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        attempts: int = 1,
        service: str = "AMC",
    ) -> None:
        self.status = status
        self.code = code
        self.details = details
        self.errors = list(errors or [])
        self.request_id = request_id
        self.method = method
        self.path = path
        self.attempts = attempts
        self.service = service
        super().__init__(message or self._format())

    def _format(self) -> str:
        name = self.code if self.code and not self.code.isdigit() else _reason(self.status)
        if self.status is None and not self.code:
            name = self.label
        text = f"{self.service} {self.status} {name}" if self.status else f"{self.service} {name}"
        detail = self.details or ""
        extra = [e for e in self.errors if e and e != detail][:_MAX_ERRORS_SHOWN]
        if extra:
            detail = "; ".join([detail, *extra]) if detail else "; ".join(extra)
        if detail:
            text += f": {_one_line(detail)}"
        if self.request_id:
            text += f" (requestId {self.request_id})"
        return text

    @property
    def retryable(self) -> bool:
        return False


class AmcAuthError(AmcApiError):
    """401/403, or Login with Amazon refused the credentials."""


class AmcNotFoundError(AmcApiError):
    """404: the instance, dataset, upload or audience does not exist."""


class AmcValidationError(AmcApiError):
    """400 (and other 4xx): the request was malformed; `details`/`errors` say why."""


class AmcThrottledError(AmcApiError):
    """429: slow down; `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)

    @property
    def retryable(self) -> bool:
        return True


class AmcServerError(AmcApiError):
    """5xx: AMC failed; for a create, the outcome is unknown (ambiguous)."""

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


class AmcTimeout(AmcApiError):
    """No complete answer in time; for a create, the outcome is unknown (ambiguous)."""

    label = "timeout"

    @property
    def retryable(self) -> bool:
        return True


class AmcConnectionError(AmcApiError):
    """The connection could not be made or broke."""

    label = "connection error"

    @property
    def retryable(self) -> bool:
        return True


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def error_from_response(response: httpx.Response, *, attempts: int = 1) -> AmcApiError:
    """Map an error response to its typed error, reading every error body shape AMC uses."""
    body = _json_or_none(response)
    code = details = request_id = None
    errors: list[str] = []
    if isinstance(body, dict):
        code = _str(body.get("code")) or _str(body.get("error"))
        details = (
            _str(body.get("details"))
            or _str(body.get("message"))
            or _str(body.get("error_description"))
        )
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [_one_line(str(e)) for e in raw_errors[:100]]
        request_id = _str(body.get("requestId"))
    request_id = request_id or response.headers.get("x-amzn-RequestId")
    status = response.status_code
    kwargs: dict[str, Any] = dict(
        status=status,
        code=code,
        details=details,
        errors=errors,
        request_id=request_id,
        method=response.request.method if response.request else None,
        path=response.request.url.path if response.request else None,
        attempts=attempts,
    )
    if status == 429:
        return AmcThrottledError(retry_after=parse_retry_after(response), **kwargs)
    if status in (401, 403):
        return AmcAuthError(**kwargs)
    if status == 404:
        return AmcNotFoundError(**kwargs)
    if status >= 500:
        return AmcServerError(**kwargs)
    if 400 <= status < 500:
        return AmcValidationError(**kwargs)
    return AmcApiError(**kwargs)


def parse_retry_after(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _reason(status: int | None) -> str:
    if status is None:
        return "error"
    try:
        return HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        return "error"


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_DETAIL_CHARS else flat[: _MAX_DETAIL_CHARS - 1] + "…"


class AmcConflictError(AduError):
    """What AMC holds differs from what we want in a way no call may fix (a person decides).

    Not an AmcApiError: AMC answered fine, so retrying can never help.
    """


class AmcDatasetConflict(AmcConflictError):
    """The dataset exists and differs beyond new nullable columns; `.diff` holds every line."""

    def __init__(self, dataset_id: str, diff: DatasetDiff) -> None:
        self.dataset_id = dataset_id
        self.diff = diff
        super().__init__(
            f"dataset {dataset_id} exists in AMC and differs from the definition: "
            + "; ".join(diff.differences)
        )


class AmcAudienceConflict(AmcConflictError):
    """An audience of this name exists with other settings; `.differences` lists them."""

    def __init__(self, name: str, audience_id: str, differences: list[str] | tuple[str, ...]):
        self.name = name
        self.audience_id = audience_id
        self.differences = tuple(differences)
        super().__init__(
            f"audience {name!r} exists ({audience_id}) with other settings: "
            + "; ".join(self.differences)
        )
