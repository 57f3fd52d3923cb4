"""Request/response values and Amazon's error bodies, independent of the HTTP server used.

Each AMC API family shapes its errors differently (per its OpenAPI document), so an `ApiError`
carries its family and `render_error` builds the matching body and media type.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs


class Family(StrEnum):
    """Which error shape and media types a route uses."""

    ADU = "adu"  # {code, details, errors, requestId}, application/json
    AUDIENCE = "audience"  # {code, details, requestId}, vnd.amcquerybasedaudience.v1+json
    INSTANCES = "instances"  # {code, details}, vnd.amcinstances.v1+json
    ACCOUNTS = "accounts"  # {message, requestId}, vnd.amcaudiencesconnections.v1+json
    OAUTH = "oauth"  # {error, error_description}, application/json


ERROR_MEDIA = {
    Family.ADU: "application/json",
    Family.AUDIENCE: "application/vnd.amcquerybasedaudience.v1+json",
    Family.INSTANCES: "application/vnd.amcinstances.v1+json",
    Family.ACCOUNTS: "application/vnd.amcaudiencesconnections.v1+json",
    Family.OAUTH: "application/json",
}


class ApiError(Exception):
    """An error answered to the caller; `details` is one clear line without values or secrets."""

    def __init__(
        self,
        status: int,
        details: str,
        errors: list[str] | None = None,
        *,
        oauth_error: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(details)
        self.status = status
        self.details = details
        self.errors = errors or [details]
        self.oauth_error = oauth_error
        self.headers = headers or {}


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value.strip() if value is not None and value.strip() else None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def json_body(self, accepted_media: tuple[str, ...]) -> Any:
        """Parse the JSON body; 400 (declared by every spec) for a foreign type or bad JSON."""
        if self.content_type and self.content_type not in (*accepted_media, "application/json"):
            raise ApiError(400, f"Unsupported Content-Type {self.content_type!r}.")
        if not self.body.strip():
            raise ApiError(400, "The request body is missing.")
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "The request body is not valid JSON.") from None

    def form(self) -> dict[str, str]:
        """Form-encoded body (Login with Amazon)."""
        try:
            parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise ApiError(400, "The request body is not valid UTF-8.") from None
        return {k: v[-1] for k, v in parsed.items()}


@dataclass
class Response:
    """What a handler returns; the server serialises `body` as JSON unless it is None."""

    status: int
    body: Any = None
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def pick_media(req: Request, offered: tuple[str, ...]) -> str:
    """Choose the response media type from Accept: an offered vendor type, else the first one.

    `application/json` asked explicitly is honoured, as Amazon's guides call the API that way.
    """
    accept = [p.split(";")[0].strip().lower() for p in (req.header("accept") or "").split(",")]
    for media in offered:
        if media in accept:
            return media
    if "application/json" in accept and not any(a.startswith("application/vnd.") for a in accept):
        return "application/json"
    return offered[0]


def render_error(family: Family, err: ApiError, request_id: str) -> Response:
    """Amazon's error body for the family."""
    if family is Family.OAUTH:
        body: dict[str, Any] = {
            "error": err.oauth_error or "invalid_request",
            "error_description": err.details,
        }
    elif family is Family.ADU:
        body = {
            "code": str(err.status),
            "details": err.details,
            "errors": err.errors[:100],
            "requestId": request_id,
        }
    elif family is Family.AUDIENCE:
        body = {"code": str(err.status), "details": err.details, "requestId": request_id}
    elif family is Family.INSTANCES:
        body = {"code": str(err.status), "details": err.details}
    else:
        body = {"message": err.details, "requestId": request_id}
    return Response(err.status, body, ERROR_MEDIA[family], dict(err.headers))
