"""Amazon's error bodies: each AMC API family shapes its errors differently (per its OpenAPI
document), so a route names its `Family` and `render_error` builds the matching body."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.responses.http import Response


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


def family_for(path: str) -> Family:
    """Error family for a path no route serves."""
    for prefix, family in (
        ("/amc/audiences", Family.AUDIENCE),
        ("/amc/instances", Family.INSTANCES),
        ("/amc/accounts", Family.ACCOUNTS),
        ("/auth", Family.OAUTH),
        ("/ap/", Family.OAUTH),
    ):
        if path.startswith(prefix):
            return family
    return Family.ADU


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
