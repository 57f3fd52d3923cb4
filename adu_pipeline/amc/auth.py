"""Login with Amazon: the bearer token as an `httpx.Auth` (cached, refreshed on a 401), the
refresh-token grant, and the one-time code exchange."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from adu_pipeline.amc.errors import AmcApiError, AmcAuthError, error_from_response

SCOPE = "advertising::campaign_management"
# Refresh this long before Amazon's expiry so a token never dies mid-request.
EXPIRY_MARGIN_SECONDS = 120.0
# Token fetch timeout for a request that carries none (httpx always sets one on ours).
DEFAULT_FETCH_TIMEOUT = 30.0


@dataclass(frozen=True)
class TokenGrant:
    """What Login with Amazon returns; repr hides the tokens."""

    access_token: str
    refresh_token: str | None
    expires_in: float
    token_type: str = "bearer"

    def __repr__(self) -> str:
        return f"TokenGrant(token_type={self.token_type!r}, expires_in={self.expires_in})"


def authorize_url(
    base: str, client_id: str, redirect_uri: str, scope: str = SCOPE, state: str | None = None
) -> str:
    """The consent page a user opens once to obtain an authorization code."""
    params = {
        "client_id": client_id,
        "scope": scope,
        "response_type": "code",
        "redirect_uri": redirect_uri,
    }
    if state:
        params["state"] = state
    return f"{base}?{urlencode(params)}"


def parse_grant(response: httpx.Response) -> TokenGrant:
    """Read a token response; a 4xx becomes AmcAuthError, anything else its typed error."""
    if response.status_code >= 400:
        error = error_from_response(response)
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise AmcAuthError(
                status=error.status,
                code=error.code,
                details=error.details,
                request_id=error.request_id,
                service="Login with Amazon",
            )
        raise error
    try:
        body = response.json()
        return TokenGrant(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_in=float(body.get("expires_in") or 3600),
            token_type=str(body.get("token_type") or "bearer"),
        )
    except (ValueError, KeyError, TypeError):
        raise AmcAuthError(
            status=response.status_code,
            details="token response without an access_token",
            service="Login with Amazon",
        ) from None


class TokenCache:
    """Holds the current access token until shortly before it expires; thread-safe.

    `fetch(timeout)` performs one refresh-token grant (the caller owns retries and budgets).
    """

    def __init__(
        self,
        fetch: Callable[[float], TokenGrant],
        clock: Callable[[], float] = time.monotonic,
        margin: float = EXPIRY_MARGIN_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until = 0.0

    def get(self, timeout: float) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._valid_until:
                grant = self._fetch(timeout)
                margin = min(self._margin, grant.expires_in / 2)
                self._token = grant.access_token
                self._valid_until = self._clock() + grant.expires_in - margin
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the token (only if it is still the one that was rejected)."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None
                self._valid_until = 0.0


class TokenUnavailable(Exception):
    """Raised out of httpx by LwaAuth: no access token could be had, so nothing was sent."""

    def __init__(self, error: AmcApiError) -> None:
        super().__init__(str(error))
        self.error = error


class LwaAuth(httpx.Auth):
    """Adds `Authorization: Bearer <access token>`; on a 401, forgets that token, fetches a new
    one and re-sends once (a rejected token is not a retry). The token fetch gets the request's
    own (budget-clipped) timeout; its failures surface as TokenUnavailable."""

    def __init__(self, tokens: TokenCache) -> None:
        self._tokens = tokens

    def __repr__(self) -> str:  # never the token
        return "LwaAuth()"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timeout = _timeout_cap(request)
        token = self._token(timeout)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._tokens.invalidate(token)
            request.headers["Authorization"] = f"Bearer {self._token(timeout)}"
            yield request

    def _token(self, timeout: float) -> str:
        try:
            return self._tokens.get(timeout)
        except AmcApiError as exc:
            raise TokenUnavailable(exc) from None


def _timeout_cap(request: httpx.Request) -> float:
    """The longest phase timeout httpx will apply to this request (the budget clipped them)."""
    values = [v for v in (request.extensions.get("timeout") or {}).values() if v is not None]
    return max(values, default=DEFAULT_FETCH_TIMEOUT)


def refresh_grant_form(client_id: str, client_secret: str, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }


def code_grant_form(
    client_id: str, client_secret: str, code: str, redirect_uri: str
) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
