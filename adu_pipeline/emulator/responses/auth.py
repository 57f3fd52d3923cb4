"""Login with Amazon: the authorize page (`GET /ap/oa`) and the token endpoint (`/auth/o2/token`).

Accepts the client id and secret the emulator was configured with (any non-empty value when not
configured). Refresh tokens are checked as LwA does: only the configured one or one this emulator
issued (authorization-code flow) is valid, unless `Credentials.accept_any_refresh_token`.
Errors use the OAuth2 body `{error, error_description}`.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.responses.http import Request, Response

FORM = "application/x-www-form-urlencoded"


def authorize(app: Emulator, req: Request) -> Response:
    """Stand-in for Amazon's consent page: approve at once and redirect back with a code."""
    client_id = req.param("client_id")
    redirect_uri = req.param("redirect_uri")
    if not client_id or not _matches(app.config.credentials.client_id, client_id):
        raise ApiError(400, "Unknown client_id.", oauth_error="invalid_client")
    if req.param("response_type") != "code":
        raise ApiError(400, "response_type must be code.", oauth_error="unsupported_response_type")
    code = "ANemu" + secrets.token_urlsafe(24)
    with app.store.tx() as c:
        c.execute(
            "INSERT INTO auth_codes (code, client_id, redirect_uri, used, created_at)"
            " VALUES (?,?,?,0,?)",
            (code, client_id, redirect_uri, app.now()),
        )
    params = {"code": code, "scope": req.param("scope") or ""}
    if req.param("state") is not None:
        params["state"] = req.param("state")
    if redirect_uri and urlsplit(redirect_uri).scheme in ("http", "https"):
        sep = "&" if "?" in redirect_uri else "?"
        return Response(302, None, headers={"Location": redirect_uri + sep + urlencode(params)})
    return Response(200, params)


def token(app: Emulator, req: Request) -> Response:
    if req.mimetype != FORM:
        raise ApiError(400, f"The token request must be {FORM}.", oauth_error="invalid_request")
    form = req.form_fields()
    grant = form.get("grant_type", "")
    client_id = _client(app, form)
    if grant == "refresh_token":
        refresh = form.get("refresh_token", "")
        if not refresh:
            raise ApiError(
                400,
                "The request is missing a required parameter : refresh_token",
                oauth_error="invalid_request",
            )
        if not _refresh_token_ok(app, refresh):
            raise ApiError(
                400,
                "The request has an invalid grant parameter : refresh_token",
                oauth_error="invalid_grant",
            )
    elif grant == "authorization_code":
        refresh = _redeem_code(app, form, client_id)
    else:
        raise ApiError(
            400,
            "grant_type must be refresh_token or authorization_code.",
            oauth_error="unsupported_grant_type",
        )
    access, ttl = app.issue_access_token(client_id)
    body = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": ttl,
    }
    return Response(200, body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _client(app: Emulator, form: dict[str, str]) -> str:
    creds = app.config.credentials
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret:
        raise ApiError(
            400, "The request is missing client_id or client_secret.", oauth_error="invalid_request"
        )
    if not _matches(creds.client_id, client_id) or not _matches(creds.client_secret, secret):
        raise ApiError(401, "Client authentication failed.", oauth_error="invalid_client")
    return client_id


def _matches(expected: str | None, given: str) -> bool:
    return bool(given) if expected is None else secrets.compare_digest(expected, given)


def _refresh_token_ok(app: Emulator, refresh: str) -> bool:
    creds = app.config.credentials
    if creds.accept_any_refresh_token and creds.refresh_token is None:
        return True
    if creds.refresh_token is not None and secrets.compare_digest(creds.refresh_token, refresh):
        return True
    row = app.store.one("SELECT 1 FROM refresh_tokens WHERE refresh_token=?", (refresh,))
    return row is not None


def _redeem_code(app: Emulator, form: dict[str, str], client_id: str) -> str:
    """Exchange a code once (codes from /ap/oa must come back with their redirect_uri)."""
    code = form.get("code", "")
    if not code:
        raise ApiError(
            400, "The request has an invalid parameter : code", oauth_error="invalid_request"
        )
    with app.store.tx() as c:
        row = c.execute("SELECT * FROM auth_codes WHERE code=?", (code,)).fetchone()
        if row is not None and (
            row["used"]
            or row["client_id"] != client_id
            or (row["redirect_uri"] and row["redirect_uri"] != form.get("redirect_uri"))
        ):
            raise ApiError(
                400, "The request has an invalid parameter : code", oauth_error="invalid_grant"
            )
        if row is None:
            c.execute(
                "INSERT INTO auth_codes (code, client_id, redirect_uri, used, created_at)"
                " VALUES (?,?,?,1,?)",
                (code, client_id, form.get("redirect_uri"), app.now()),
            )
        else:
            c.execute("UPDATE auth_codes SET used=1 WHERE code=?", (code,))
        refresh = app.config.credentials.refresh_token or "Atzr|" + secrets.token_urlsafe(48)
        c.execute(
            "INSERT OR IGNORE INTO refresh_tokens (refresh_token, client_id, created_at)"
            " VALUES (?,?,?)",
            (refresh, client_id, app.now()),
        )
    return refresh
