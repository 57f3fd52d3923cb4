"""The one exception handlers and models raise to answer a caller (moto's `exceptions.py`)."""

from __future__ import annotations


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
