"""One request with auth, retries and a time budget; logs method, path, status and attempt only.

Auth is `LwaAuth` (an httpx.Auth: bearer token, one refresh on a 401); this module owns retries,
backoff and the deadline, and tells a request that was never sent from one that may have acted.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from adu_pipeline.amc.auth import (
    LwaAuth,
    TokenCache,
    TokenGrant,
    TokenUnavailable,
    parse_grant,
    refresh_grant_form,
)
from adu_pipeline.amc.config import AmcConfig, Timeouts
from adu_pipeline.amc.errors import (
    AmcApiError,
    AmcConnectionError,
    AmcThrottledError,
    AmcTimeout,
    error_from_response,
)
from adu_pipeline.amc.retry import Clock, Deadline, RetryPolicy

logger = logging.getLogger("adu_pipeline.amc")

_MIN_REQUEST_TIMEOUT = 0.05


class Transport:
    """Shared by a client and all its budget views: one httpx pool, one token cache."""

    def __init__(
        self,
        config: AmcConfig,
        *,
        http: httpx.Client | None = None,
        httpx_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self._owns_http = http is None
        self.http = http or httpx.Client(
            timeout=_timeout(config.timeouts, None),
            transport=httpx_transport,
            follow_redirects=False,
        )
        self.tokens = TokenCache(self._fetch_token, clock=clock)
        self.auth = LwaAuth(self.tokens)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    # -- Login with Amazon ------------------------------------------------------------------

    def _fetch_token(self, timeout: float) -> TokenGrant:
        """One refresh-token grant; failures are the typed AmcApiError (LwaAuth wraps them)."""
        cfg = self.config
        cfg.require("client_id", "client_secret", "refresh_token", purpose="Login with Amazon")
        form = refresh_grant_form(cfg.client_id, cfg.client_secret, cfg.refresh_token)
        try:
            response = self._send_once(
                "POST",
                cfg.lwa_token_url,
                timeout,
                data=form,
                headers={"Accept": "application/json"},
            )
        except _SendFailure as failure:
            raise failure.error from None
        return parse_grant(response)

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        policy: RetryPolicy,
        deadline: Deadline | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content_type: str | None = None,
        idempotent: bool = True,
        auth: bool = True,
    ) -> httpx.Response:
        """Send with retries on 429/5xx/transport errors within `policy` and the deadline.

        Non-idempotent requests are retried only when the server cannot have acted on them
        (429, no token, or the connection was never made); other failures surface as ambiguous
        errors. A 401 refreshes the access token once and repeats the request (LwaAuth).
        """
        call_deadline = Deadline.earliest(Deadline(policy.budget_seconds, self.clock), deadline)
        assert call_deadline is not None
        path = httpx.URL(url).path
        send_headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            send_headers["Content-Type"] = content_type or "application/json"
        attempt = 0
        while True:
            attempt += 1
            remaining = call_deadline.remaining()
            if remaining <= 0:
                raise AmcTimeout(
                    details=f"retry budget exhausted before {method} {path}",
                    method=method,
                    path=path,
                    attempts=attempt - 1,
                )
            try:
                response = self._send_once(
                    method,
                    url,
                    max(remaining, _MIN_REQUEST_TIMEOUT),
                    headers=send_headers,
                    params=params,
                    content=body,
                    auth=self.auth if auth else None,
                )
                if response.is_success:
                    logger.debug(
                        "%s %s -> %s (attempt %d)", method, path, response.status_code, attempt
                    )
                    return response
                logger.info("%s %s -> %s (attempt %d)", method, path, response.status_code, attempt)
                error, sent = error_from_response(response, attempts=attempt), True
            except _SendFailure as failure:
                error, sent = failure.error, failure.sent
                error.attempts = attempt
                logger.info("%s %s -> %s (attempt %d)", method, path, type(error).__name__, attempt)
            safe_to_repeat = idempotent or not sent or isinstance(error, AmcThrottledError)
            if not (error.retryable and safe_to_repeat) or attempt >= policy.max_attempts:
                raise error
            delay = policy.delay_for(error, attempt, self.rng)
            if delay >= call_deadline.remaining():
                logger.info("%s %s: retry budget exhausted after attempt %d", method, path, attempt)
                raise error
            self.sleep(delay)

    def _send_once(
        self,
        method: str,
        url: str,
        timeout: float,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """One HTTP exchange; transport failures and a missing token become _SendFailure."""
        path = httpx.URL(url).path
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self.http.request(
                method,
                url,
                headers=headers,
                params=clean_params or None,
                content=content,
                data=data,
                auth=auth,
                timeout=_timeout(self.config.timeouts, timeout),
            )
        except TokenUnavailable as exc:
            if exc.error.retryable:
                raise _SendFailure(exc.error, sent=False) from None
            raise exc.error from None
        except httpx.TimeoutException as exc:
            never_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise _SendFailure(
                AmcTimeout(
                    details=f"{type(exc).__name__} on {method} {path}", method=method, path=path
                ),
                sent=not never_sent,
            ) from None
        except httpx.TransportError as exc:
            never_sent = isinstance(exc, httpx.ConnectError)
            raise _SendFailure(
                AmcConnectionError(
                    details=f"{type(exc).__name__} on {method} {path}", method=method, path=path
                ),
                sent=not never_sent,
            ) from None


class _SendFailure(Exception):
    def __init__(self, error: AmcApiError, *, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent


def _timeout(t: Timeouts, cap: float | None) -> httpx.Timeout:
    def clip(value: float) -> float:
        return value if cap is None else max(_MIN_REQUEST_TIMEOUT, min(value, cap))

    return httpx.Timeout(
        connect=clip(t.connect), read=clip(t.read), write=clip(t.write), pool=clip(t.pool)
    )
