"""AMC administration calls used for discovery: accounts, instances, linked advertisers."""

from __future__ import annotations

from adu_pipeline.emulator.config import Account, Instance
from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.http import Request, Response, page

ACCOUNTS_MEDIA = "application/vnd.amcaudiencesconnections.v1+json"
INSTANCES_MEDIA = "application/vnd.amcinstances.v1+json"
CONFIGURED_TYPES = {"SPONSORED_ADS": "SPONSORED_PRODUCTS"}


def list_accounts(app: Emulator, req: Request) -> Response:
    """Every configured account (one login may reach several AMC accounts)."""
    access.authenticate(app, req)
    body = {
        "amcAccounts": [
            {
                "accountId": a.account_id,
                "accountName": a.account_name,
                "marketplaceId": a.marketplace_id,
            }
            for a in app.config.accounts
        ]
    }
    return Response(200, body, ACCOUNTS_MEDIA)


def list_instances(app: Emulator, req: Request) -> Response:
    """The instances of the account named by Amazon-Advertising-API-AdvertiserId."""
    account = access.header_account(app, req)
    items, next_token = page(list(account.instances), req, size_param="limit", default=10)
    body: dict = {"instances": [instance_body(app, account, i) for i in items]}
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, INSTANCES_MEDIA)


def get_instance(app: Emulator, req: Request, instance_id: str) -> Response:
    account = access.header_account(app, req)
    instance = access.instance_of(account, instance_id)
    return Response(200, {"instance": instance_body(app, account, instance)}, INSTANCES_MEDIA)


def list_advertisers(app: Emulator, req: Request, instance_id: str) -> Response:
    instance = access.instance_of(access.header_account(app, req), instance_id)
    wanted = req.param("type")
    advertisers = [a for a in instance.advertisers if wanted in (None, a.type)]
    if wanted and wanted not in ("DISPLAY", "SAS", "SPONSORED_ADS"):
        raise ApiError(400, "type must be DISPLAY, SAS or SPONSORED_ADS.")
    items, next_token = page(advertisers, req, size_param="limit", default=100, maximum=1000)
    body: dict = {
        "advertisers": [
            {
                "id": a.id,
                "name": a.name,
                "type": a.type,
                "configuredAdvertiserTypes": [CONFIGURED_TYPES.get(a.type, a.type)],
            }
            for a in items
        ],
        "totalCount": len(advertisers),
    }
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, INSTANCES_MEDIA)


def instance_body(app: Emulator, account: Account, instance: Instance) -> dict:
    return {
        "instanceId": instance.instance_id,
        "instanceName": instance.instance_name,
        "apiEndpoint": app.public_url,
        "awsAccountId": instance.aws_account_id,
        "dataUploadAwsAccountId": instance.data_upload_aws_account_id,
        "s3BucketName": instance.s3_bucket_name,
        "s3BucketRegion": instance.s3_bucket_region,
        "creationStatus": "COMPLETED",
        "creationDatetime": instance.creation_datetime,
        "entities": [account.account_id],
        "advertiserTypes": sorted({a.type for a in instance.advertisers} or {"DISPLAY"}),
        "customerCanonicalName": instance.customer_canonical_name,
    }
