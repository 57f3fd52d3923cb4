"""The request and reply types every handler uses, on werkzeug's Request.

Handlers return a `Response` (status, JSON-able body, media type); the server turns it into a
werkzeug response, so handlers never build HTTP by hand.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from werkzeug.wrappers import Request as WerkzeugRequest

from adu_pipeline.emulator.exceptions import ApiError


class Request(WerkzeugRequest):
    """werkzeug's Request plus the few accessors AMC handlers share."""

    @cached_property
    def request_id(self) -> str:
        return str(uuid.uuid4())

    def header(self, name: str) -> str | None:
        """A header's value, stripped; None when absent or blank."""
        value = (self.headers.get(name) or "").strip()
        return value or None

    def param(self, name: str) -> str | None:
        values = self.args.getlist(name)
        return values[-1] if values else None

    def json_body(self, accepted_media: tuple[str, ...]) -> Any:
        """Parse the JSON body; 400 (declared by every spec) for a foreign type or bad JSON."""
        if self.mimetype and self.mimetype not in (*accepted_media, "application/json"):
            raise ApiError(400, f"Unsupported Content-Type {self.mimetype!r}.")
        body = self.get_data()
        if not body.strip():
            raise ApiError(400, "The request body is missing.")
        try:
            parsed = json.loads(body)
            # lone surrogates ("\\ud800") parse but cannot be stored or echoed as UTF-8
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise ApiError(400, "The request body is nested too deeply.") from None
        except (ValueError, UnicodeError):  # JSONDecodeError, int digit limits, surrogates
            raise ApiError(400, "The request body is not valid JSON.") from None
        return parsed

    def form_fields(self) -> dict[str, str]:
        """Form-encoded body (Login with Amazon); the last value of a repeated field wins."""
        return {name: values[-1] for name, values in self.form.lists()}


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


def page(items: list, req: Request, *, size_param: str, default: int, maximum: int = 100):
    """Slice `items` by the opaque nextToken/size query params; return (page, next_token)."""
    raw_size = req.param(size_param)
    size = default
    if raw_size is not None:
        try:
            size = int(float(raw_size))
        except ValueError:
            raise ApiError(400, f"{size_param} must be a number between 1 and {maximum}.") from None
        if not 1 <= size <= maximum:
            raise ApiError(400, f"{size_param} must be between 1 and {maximum}.")
    start = 0
    token = req.param("nextToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError(400, "nextToken is not valid.") from None
    chunk = items[start : start + size]
    end = start + size
    next_token = (
        base64.urlsafe_b64encode(f"o:{end}".encode()).decode() if end < len(items) else None
    )
    return chunk, next_token
