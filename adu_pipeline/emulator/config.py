"""Emulator configuration: who may log in, which account/instance exist, how fast time runs.

Everything has a default so `EmulatorServer(state_dir=...)` is enough for tests and the demo.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adu_pipeline.emulator.hooks import Hooks


@dataclass(frozen=True)
class Credentials:
    """Login with Amazon credentials the token endpoint accepts; None = any non-empty value."""

    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    access_token_ttl_seconds: int = 3600


@dataclass(frozen=True)
class Advertiser:
    """A DSP (or sponsored-ads) advertiser linked to an instance; audiences activate into it."""

    id: str = "5900000000001"
    name: str = "Emulator DSP advertiser"
    type: str = "DISPLAY"


@dataclass(frozen=True)
class Instance:
    """One AMC instance as GET /amc/instances reports it."""

    instance_id: str = "amcemulator01"
    instance_name: str = "AMC emulator instance"
    data_upload_aws_account_id: str = "111122223333"
    aws_account_id: str = "444455556666"
    s3_bucket_name: str = "amc-emulator-output"
    s3_bucket_region: str = "us-east-1"
    customer_canonical_name: str = "Emulator Advertiser Inc."
    creation_datetime: str = "2024-01-02T03:04:05Z"
    advertisers: tuple[Advertiser, ...] = (Advertiser(),)


@dataclass(frozen=True)
class Account:
    """The AMC account (`ENTITY...`): the value of Amazon-Advertising-API-AdvertiserId."""

    account_id: str = "ENTITY1AMCEMULATOR"
    account_name: str = "AMC emulator account"
    marketplace_id: str = "ATVPDKIKX0DER"


@dataclass(frozen=True)
class MatchShares:
    """Share (0..1) of distinct identifiers of each kind that the simulated identity graph knows.

    Defaults: 70 % of emails, 60 % of phones, 50 % of name+address tuples, 55 % of external ids.
    """

    email: float = 0.70
    phone: float = 0.60
    name_address: float = 0.50
    external_id: float = 0.55


@dataclass(frozen=True)
class Timing:
    """The emulator clock: each asynchronous job advances one state per `step_seconds`."""

    step_seconds: float = 1.0
    poll_seconds: float = 0.02
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class EmulatorConfig:
    """All knobs of one emulator run."""

    credentials: Credentials = field(default_factory=Credentials)
    account: Account = field(default_factory=Account)
    instances: tuple[Instance, ...] = (Instance(),)
    timing: Timing = field(default_factory=Timing)
    match_shares: MatchShares = field(default_factory=MatchShares)
    # AMC leaves rows without any country code unresolved (API.md 5.1); tests may switch it off.
    require_country_for_matching: bool = True
    # Require Amazon-Ads-AccountId on ADU calls (API.md 1.3 [UNCONFIRMED] production behaviour).
    require_ads_account_id: bool = False
    # Reject audiences whose advertiserId is not linked to the instance.
    known_advertisers_only: bool = False
    audience_min_users: int = 2000
    s3_access_key_id: str = "testing"
    s3_secret_access_key: str = "testing"
    s3_region: str = "us-east-1"
    hooks: Hooks = field(default_factory=Hooks)

    def instance(self, instance_id: str) -> Instance | None:
        return next((i for i in self.instances if i.instance_id == instance_id), None)
