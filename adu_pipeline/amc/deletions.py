"""Compliance deletion of users from uploaded data: the three userDeletionRequest operations.

AMC deletes the matched identities from every dataset of the instance, asynchronously
(CreateUserDeletionRequest, ListUserDeletionRequests, GetUserDeletionRequest; API.md 3.8).
Bodies come from `amc.bodies.user_deletion_request(s)`, the one builder. Calls go through the
client's transport (auth, retries, budget) exactly as the dataset and upload calls do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from adu_pipeline.amc.bodies import user_deletion_requests
from adu_pipeline.amc.errors import AmcApiError
from adu_pipeline.amc.status import LenientStatus

if TYPE_CHECKING:
    from adu_pipeline.amc.client import AmcClient


MT_DELETION = "application/vnd.amcadvertiseruserdeletionrequest.v1+json"
MAX_PAGE = 100  # ListUserDeletionRequests maxResults maximum


class DeletionStatus(LenientStatus):
    """UserDeletionStatus: the spec lists PENDING and SUCCEEDED only.

    FAILED is not in the spec; it is read as terminal should AMC ever send it, so a sensor does
    not poll forever. Any other spelling is PENDING (keep polling), with the raw text kept.
    """

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self is not DeletionStatus.PENDING

    @property
    def is_success(self) -> bool:
        return self is DeletionStatus.SUCCEEDED


@dataclass(frozen=True)
class UserDeletion:
    """A UserDeletion object (Get wraps it in `identityDeletion`; List returns a list)."""

    request_id: str
    status: DeletionStatus
    status_raw: str
    identity_count: int | None
    created_at: str | None  # yyyy-MM-ddTHH:mm:ssZ as AMC sent it
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> UserDeletion:
        raw_status = str(obj.get("status") or "PENDING")
        count = obj.get("identityCount")
        return cls(
            request_id=str(obj.get("userDeletionRequestId") or ""),
            status=DeletionStatus(raw_status),
            status_raw=raw_status,
            identity_count=None if count in (None, "") else int(float(count)),
            created_at=str(obj["creationDateTime"]) if obj.get("creationDateTime") else None,
            raw=dict(obj),
        )


@dataclass(frozen=True)
class DeletionReceipt:
    """One request this pipeline sent: its id and how many identities it carried."""

    request_id: str
    identity_count: int


class UserDeletions:
    """The user deletion calls of one instance, on top of an `AmcClient` (its config picks the
    instance, account and marketplace; `client.with_budget(s)` bounds a sensor tick)."""

    def __init__(self, client: AmcClient) -> None:
        self.client = client

    def create(self, body: Mapping[str, Any]) -> str:
        """POST /userDeletionRequest with a `user_deletion_request(...)` body; returns the id.

        Never retried after an ambiguous failure (a repeat would be a second request)."""
        result = self._request("POST", "/userDeletionRequest", body=dict(body), idempotent=False)
        request_id = str(result.get("userDeletionRequestId") or "")
        if not request_id:
            raise AmcApiError(details="CreateUserDeletionRequest answered without a request id")
        return request_id

    def submit(self, identities: Iterable[Mapping[str, Any]]) -> list[DeletionReceipt]:
        """Send every identity, at most 1,000 per request; one receipt per request sent."""
        receipts = []
        for body in user_deletion_requests(identities):
            request_id = self.create(body)
            receipts.append(DeletionReceipt(request_id, len(body["targetIdentities"])))
        return receipts

    def get(self, request_id: str) -> UserDeletion:
        result = self._request("GET", f"/userDeletionRequest/{quote(request_id, safe='')}")
        return UserDeletion.from_api(result.get("identityDeletion") or result)

    def iter(self, *, page_size: int | None = None) -> Iterator[UserDeletion]:
        """POST /userDeletionRequest/list, every page (nextToken as a query parameter)."""
        if page_size is not None and not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {"nextToken": token, "maxResults": page_size}
            body = self._request("POST", "/userDeletionRequest/list", params=params)
            return body.get("userDeletions") or [], body.get("nextToken")

        return (UserDeletion.from_api(d) for d in self.client.paginate(fetch))

    def list(self, *, page_size: int | None = None) -> list[UserDeletion]:
        return list(self.iter(page_size=page_size))

    def wait(
        self,
        request_id: str,
        *,
        timeout: float = 3600.0,
        max_interval: float = 15.0,
        on_poll: Callable[[UserDeletion], None] | None = None,
    ) -> UserDeletion:
        """Poll until SUCCEEDED (or FAILED); AmcTimeout after `timeout` seconds."""
        return self.client.poll(
            lambda: self.get(request_id),
            timeout,
            max_interval,
            on_poll,
            what=f"user deletion request {request_id}",
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.instance_request(
            method, "advertiserData", path, media_type=MT_DELETION, **kwargs
        )
