"""Who may call what: the bearer token, the ClientId header, and which account and instance the
headers name. Many accounts: the AdvertiserId header picks the account, and an instance of
another account is answered like an unknown one (404, as the specs document "does not exist or
no access"); an unknown account or a marketplace that is not the account's is a 403."""

from __future__ import annotations

from adu_pipeline.emulator.config import Account, Instance
from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.responses.http import Request

CLIENT_ID = "Amazon-Advertising-API-ClientId"
ADVERTISER_ID = "Amazon-Advertising-API-AdvertiserId"
MARKETPLACE_ID = "Amazon-Advertising-API-MarketplaceId"
ADS_ACCOUNT_ID = "Amazon-Ads-AccountId"
ENTITY_ID = "Amazon-Advertising-API-EntityId"
AUDIENCE_INSTANCE_ID = "Amazon-Marketing-Cloud-Audience-InstanceId"


def authenticate(app: Emulator, req: Request) -> str:
    """Check the bearer token and the ClientId header; return the client id."""
    scheme, _, token = (req.header("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing or malformed Authorization header; expected Bearer token.")
    token_client = app.token_client(token.strip())
    client_id = req.header(CLIENT_ID)
    if client_id is None:
        raise ApiError(400, f"Missing required header {CLIENT_ID}.")
    if client_id != token_client:
        raise ApiError(401, f"{CLIENT_ID} does not match the client the token was issued to.")
    return client_id


def header_account(app: Emulator, req: Request) -> Account:
    """Authenticate, then the account AdvertiserId names, with its MarketplaceId."""
    authenticate(app, req)
    for name in (ADVERTISER_ID, MARKETPLACE_ID):
        if req.header(name) is None:
            raise ApiError(400, f"Missing required header {name}.")
    account = app.config.account_by_id(req.header(ADVERTISER_ID))
    if account is None:
        raise ApiError(403, f"Not authorized for the AMC account in {ADVERTISER_ID}.")
    if req.header(MARKETPLACE_ID) != account.marketplace_id:
        raise ApiError(403, f"{MARKETPLACE_ID} does not match the AMC account's marketplace.")
    return account


def adu_instance(app: Emulator, req: Request, instance_id: str) -> Instance:
    """Every ADU call: bearer, ClientId, account headers, and an instance of that account."""
    account = header_account(app, req)
    if app.config.require_ads_account_id and req.header(ADS_ACCOUNT_ID) is None:
        raise ApiError(400, f"Missing required header {ADS_ACCOUNT_ID}.")
    return instance_of(account, instance_id)


def audience_instance(app: Emulator, req: Request) -> Instance:
    """Every rule-based audience call: bearer, ClientId, instance header, optional EntityId
    (which, when sent, must be the instance's account)."""
    authenticate(app, req)
    instance_id = req.header(AUDIENCE_INSTANCE_ID)
    if instance_id is None:
        raise ApiError(400, f"Missing required header {AUDIENCE_INSTANCE_ID}.")
    account = app.config.account_of(instance_id)
    if account is None:
        raise ApiError(404, f"No AMC instance {instance_id!r} for this account.")
    entity = req.header(ENTITY_ID)
    if entity is not None and entity != account.account_id:
        raise ApiError(403, f"Not authorized for the entity in {ENTITY_ID}.")
    return instance_of(account, instance_id)


def instance_of(account: Account, instance_id: str) -> Instance:
    """The account's instance; 404 for an unknown one or one of another account."""
    instance = next((i for i in account.instances if i.instance_id == instance_id), None)
    if instance is None:
        raise ApiError(404, f"No AMC instance {instance_id!r} for this account.")
    return instance
