"""`adu amc login` (a refresh token from a one-time authorization code) and `adu amc token`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from urllib.parse import parse_qs, urlsplit

import click
import httpx

from adu_pipeline.amc.auth import SCOPE, authorize_url, code_grant_form, parse_grant
from adu_pipeline.amc.cli.common import Connection, amc_command, note
from adu_pipeline.amc.config import env_var_name
from adu_pipeline.amc.errors import AmcConnectionError, AmcTimeout
from adu_pipeline.errors import AduError, InputError


@amc_command("login", "get a refresh token (authorization code)")
@click.option("--redirect-uri", required=True, help="an Allowed Return URL of your LwA app")
@click.option("--code", default=None, help="the code from the redirect (else prompted on stdin)")
@click.option("--scope", default=SCOPE, show_default=True, help="OAuth scope")
def login(conn: Connection, redirect_uri: str, code: str | None, scope: str) -> int:
    config = conn.config()
    config.require("client_id", purpose="login")
    secret = config.client_secret
    if not secret:
        if not sys.stdin.isatty():
            config.require("client_secret", purpose="login")
        secret = click.prompt("LwA client secret", hide_input=True, err=True)
    url = authorize_url(config.authorize_url, config.client_id, redirect_uri, scope)
    note("1. Open this URL, sign in with the account that has AMC access, and allow access:")
    note(f"   {url}")
    note(f"2. Your browser is sent to {redirect_uri}?code=...; copy the code.")
    if not code:
        note("Paste the code (or the whole address) and press Enter:")
        code = sys.stdin.readline().strip()
    code = _code_from(code)
    if not code:
        raise InputError("no authorization code given")
    form = code_grant_form(config.client_id, secret, code, redirect_uri)
    try:
        response = httpx.post(
            config.lwa_token_url, data=form, timeout=httpx.Timeout(**asdict(config.timeouts))
        )
    except httpx.TimeoutException:
        raise AmcTimeout(details="the token endpoint did not answer in time") from None
    except httpx.TransportError as exc:
        raise AmcConnectionError(
            details=f"{type(exc).__name__} reaching the token endpoint"
        ) from None
    grant = parse_grant(response)
    if not grant.refresh_token:
        raise AduError("Login with Amazon returned no refresh token")
    variable = env_var_name("refresh_token")
    conn.emit(
        {"refresh_token": grant.refresh_token, "env": variable, "expires_in": grant.expires_in},
        [
            f"refresh token: {grant.refresh_token}",
            "Keep it secret. Set it for the other commands with:",
            f"export {variable}='{grant.refresh_token}'",
        ],
    )
    return 0


def _code_from(text: str) -> str:
    """Accept the bare code or the full redirect address containing ?code=..."""
    text = text.strip()
    if "code=" in text:
        query = urlsplit(text).query or text.split("?", 1)[-1]
        values = parse_qs(query).get("code")
        if values:
            return values[0]
    return text


@amc_command("token", "check the credentials by fetching a token")
@click.option("--show", is_flag=True, help="print the access token itself")
def token(conn: Connection, show: bool) -> int:
    with conn.client() as client:
        access_token = client.access_token()
    data: dict[str, object] = {"ok": True, "token_url": client.config.lwa_token_url}
    lines = [f"access token OK from {client.config.lwa_token_url}"]
    if show:
        data["access_token"] = access_token
        lines.append(access_token)
    conn.emit(data, lines)
    return 0


COMMANDS = (login, token)
