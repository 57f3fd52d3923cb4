"""The emulator's core object: configuration, state and the checks every API call shares.

Handlers receive the `Emulator` and a `Request`; they never touch the HTTP server, so the same
logic could sit behind another transport.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from adu_pipeline.emulator.config import EmulatorConfig, Instance
from adu_pipeline.emulator.state import Store
from adu_pipeline.emulator.web import ApiError, Request

CLIENT_ID = "Amazon-Advertising-API-ClientId"
ADVERTISER_ID = "Amazon-Advertising-API-AdvertiserId"
MARKETPLACE_ID = "Amazon-Advertising-API-MarketplaceId"
ADS_ACCOUNT_ID = "Amazon-Ads-AccountId"
ENTITY_ID = "Amazon-Advertising-API-EntityId"
AUDIENCE_INSTANCE_ID = "Amazon-Marketing-Cloud-Audience-InstanceId"


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> Amazon's `yyyy-MM-ddTHH:mm:ssZ`."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """`yyyy-MM-ddTHH:mm:ssZ` (fractions and offsets tolerated) -> epoch seconds."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid timestamp {value!r}; use yyyy-MM-ddTHH:mm:ssZ.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class Emulator:
    """State + config + shared request checks."""

    def __init__(self, config: EmulatorConfig, state_dir: Path, s3_endpoint_url: str | None):
        self.config = config
        self.state_dir = state_dir
        self.s3_endpoint_url = s3_endpoint_url
        self.public_url = ""  # set by the server once it listens; instances report it
        self.store = Store(state_dir)
        self.wakeup = threading.Event()  # set when a job is queued, so the worker reacts at once

    def now(self) -> float:
        return self.config.timing.clock()

    # --- authentication ---------------------------------------------------------------------

    def issue_access_token(self, client_id: str) -> tuple[str, int]:
        ttl = self.config.credentials.access_token_ttl_seconds
        token = "Atza|" + secrets.token_urlsafe(48)
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO access_tokens (access_token, client_id, expires_at) VALUES (?,?,?)",
                (token, client_id, self.now() + ttl),
            )
        return token, ttl

    def authenticate(self, req: Request) -> str:
        """Check the bearer token and the ClientId header; return the client id."""
        auth = req.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Missing or malformed Authorization header; expected Bearer token.")
        row = self.store.one(
            "SELECT client_id, expires_at FROM access_tokens WHERE access_token=?", (token.strip(),)
        )
        if row is None:
            raise ApiError(401, "The access token is not valid.")
        if row["expires_at"] <= self.now():
            raise ApiError(401, "The access token has expired.")
        client_id = req.header(CLIENT_ID)
        if client_id is None:
            raise ApiError(400, f"Missing required header {CLIENT_ID}.")
        if client_id != row["client_id"]:
            raise ApiError(401, f"{CLIENT_ID} does not match the client the token was issued to.")
        return client_id

    def check_account_headers(self, req: Request) -> None:
        """AdvertiserId (the AMC account id) and MarketplaceId must name the known account."""
        account = self.config.account
        for name in (ADVERTISER_ID, MARKETPLACE_ID):
            if req.header(name) is None:
                raise ApiError(400, f"Missing required header {name}.")
        if req.header(ADVERTISER_ID) != account.account_id:
            raise ApiError(403, f"Not authorized for the AMC account in {ADVERTISER_ID}.")
        if req.header(MARKETPLACE_ID) != account.marketplace_id:
            raise ApiError(403, f"{MARKETPLACE_ID} does not match the AMC account's marketplace.")

    def adu_instance(self, req: Request, instance_id: str) -> Instance:
        """Every ADU call: bearer, ClientId, account headers, and a known instance."""
        self.authenticate(req)
        self.check_account_headers(req)
        if self.config.require_ads_account_id and req.header(ADS_ACCOUNT_ID) is None:
            raise ApiError(400, f"Missing required header {ADS_ACCOUNT_ID}.")
        return self.known_instance(instance_id)

    def audience_instance(self, req: Request) -> Instance:
        """Every rule-based audience call: bearer, ClientId, instance header, optional EntityId."""
        self.authenticate(req)
        instance_id = req.header(AUDIENCE_INSTANCE_ID)
        if instance_id is None:
            raise ApiError(400, f"Missing required header {AUDIENCE_INSTANCE_ID}.")
        entity = req.header(ENTITY_ID)
        if entity is not None and entity != self.config.account.account_id:
            raise ApiError(403, f"Not authorized for the entity in {ENTITY_ID}.")
        return self.known_instance(instance_id)

    def known_instance(self, instance_id: str) -> Instance:
        instance = self.config.instance(instance_id)
        if instance is None:
            raise ApiError(404, f"No AMC instance {instance_id!r} for this account.")
        return instance


# --- pagination -------------------------------------------------------------------------------


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
