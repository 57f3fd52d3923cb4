"""Emulator configuration: who may log in, which accounts and instances exist, how fast time runs.

Everything has a default (one account with one instance) so `EmulatorServer(state_dir=...)` is
enough for tests; `EmulatorConfig.from_instances` builds the accounts from plain descriptions
(the local stack passes data/instances.yaml).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adu_pipeline.emulator.hooks import Hooks


@dataclass(frozen=True)
class Credentials:
    """Login with Amazon credentials the token endpoint accepts.

    client id / secret None = any non-empty value. Refresh token None = only tokens this emulator
    issued through the authorization-code flow (as LwA), or any non-empty one when
    `accept_any_refresh_token` is set (a local stack that never ran the consent flow).
    """

    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    access_token_ttl_seconds: int = 3600
    accept_any_refresh_token: bool = False


@dataclass(frozen=True)
class Advertiser:
    """A DSP (or sponsored-ads) advertiser linked to an instance; audiences activate into it."""

    id: str = "5900000000001"
    name: str = "Emulator DSP advertiser"
    type: str = "DISPLAY"


# Where each Amazon Ads region keeps AMC output buckets (only reported, never used for routing:
# one emulator URL serves every region).
REGION_BUCKET_REGIONS = {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}


@dataclass(frozen=True)
class Instance:
    """One AMC instance as GET /amc/instances reports it."""

    instance_id: str = "amcemulator01"
    region: str = "NA"
    instance_name: str = "AMC emulator instance"
    data_upload_aws_account_id: str = "111122223333"
    aws_account_id: str = "444455556666"
    s3_bucket_name: str = "amc-emulator-output"
    s3_bucket_region: str = "us-east-1"
    customer_canonical_name: str = "Emulator Advertiser Inc."
    creation_datetime: str = "2024-01-02T03:04:05Z"
    advertisers: tuple[Advertiser, ...] = (Advertiser(),)
    # Saved AMC workflows (workflowId -> SQL) an audience may name instead of a query.
    workflows: tuple[tuple[str, str], ...] = ()

    def workflow_sql(self, workflow_id: str) -> str | None:
        return dict(self.workflows).get(workflow_id)


@dataclass(frozen=True)
class Account:
    """The AMC account (`ENTITY...`): the value of Amazon-Advertising-API-AdvertiserId."""

    account_id: str = "ENTITY1AMCEMULATOR"
    account_name: str = "AMC emulator account"
    marketplace_id: str = "ATVPDKIKX0DER"
    instances: tuple[Instance, ...] = (Instance(),)


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
class RateLimit:
    """A token bucket: `rate` requests per second refill, at most `burst` at once."""

    rate: float
    burst: int


# API.md 6.2 / 7: rule-based audiences are documented (create 5/5, list and get 5/10); ADU and
# discovery limits are not published, so they get the audience list/get figures.
DEFAULT_RATE_LIMITS: tuple[tuple[str, RateLimit], ...] = (
    ("audience.create", RateLimit(5, 5)),
    ("audience.update", RateLimit(5, 5)),
    ("audience.delete", RateLimit(5, 5)),
    ("audience.list", RateLimit(5, 10)),
    ("audience.get", RateLimit(5, 10)),
    ("default", RateLimit(5, 10)),
)


@dataclass(frozen=True)
class Hostile:
    """Behaviour real AMC shows only sometimes; everything is off by default.

    Shares are 0..1. `seed` makes the dice repeatable (None = a fresh seed per start).
    """

    # per-route token buckets answering 429 + Retry-After (route keys: see DEFAULT_RATE_LIMITS)
    rate_limits: bool = False
    limits: tuple[tuple[str, RateLimit], ...] = DEFAULT_RATE_LIMITS
    # share of API requests answered at once with 429, 500, 502, 503 or 504 (nothing done)
    fault_share: float = 0.0
    # share of writes (POST/PUT/DELETE) answered 500 or 504 AFTER the write committed
    fault_after_commit_share: float = 0.0
    # seconds added to every API request (plus up to `latency_jitter_seconds` more)
    latency_seconds: float = 0.0
    latency_jitter_seconds: float = 0.0
    # share of uploads / audiences that end FAILED whatever their data
    upload_failure_share: float = 0.0
    audience_failure_share: float = 0.0
    # uploads need the instanceId tag (bucket or object) / a bucket policy for the instance's
    # dataUploadAwsAccountId, as AMC does for buckets outside the connected AWS account
    require_instance_tag: bool = False
    require_bucket_policy: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "fault_share",
            "fault_after_commit_share",
            "upload_failure_share",
            "audience_failure_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_seconds < 0 or self.latency_jitter_seconds < 0:
            raise ValueError("latency_seconds and latency_jitter_seconds must be zero or more")
        for key, limit in self.limits:
            if limit.rate <= 0 or limit.burst < 1:
                raise ValueError(f"rate limit {key}: rate must be > 0 and burst >= 1")

    def limit_for(self, route_key: str) -> RateLimit:
        limits = dict(self.limits)
        return limits.get(route_key) or limits.get("default") or RateLimit(5, 10)


@dataclass(frozen=True)
class EmulatorConfig:
    """All knobs of one emulator run."""

    credentials: Credentials = field(default_factory=Credentials)
    accounts: tuple[Account, ...] = (Account(),)
    timing: Timing = field(default_factory=Timing)
    match_shares: MatchShares = field(default_factory=MatchShares)
    # AMC leaves rows without any country code unresolved (API.md 5.1); tests may switch it off.
    require_country_for_matching: bool = True
    # Require Amazon-Ads-AccountId on ADU calls (API.md 1.3 [UNCONFIRMED] production behaviour).
    require_ads_account_id: bool = False
    # Reject audiences whose advertiserId is not linked to the instance.
    known_advertisers_only: bool = False
    audience_min_users: int = 2000
    # AMC caps datasets per instance at 5,000 (API.md 7)
    max_datasets_per_instance: int = 5000
    # CSV uploads through the batch path (models/screen.py); False reads every row through the
    # row path, for the equivalence test and benchmarks/emulator_ingest.py's comparison.
    batch_ingest: bool = True
    hostile: Hostile = field(default_factory=Hostile)
    s3_access_key_id: str = "testing"
    s3_secret_access_key: str = "testing"
    s3_region: str = "us-east-1"
    hooks: Hooks = field(default_factory=Hooks)

    def __post_init__(self) -> None:
        ids = [i.instance_id for a in self.accounts for i in a.instances]
        if len(set(ids)) != len(ids):
            raise ValueError("each instance_id may belong to one account only")
        if len({a.account_id for a in self.accounts}) != len(self.accounts):
            raise ValueError("account ids must be unique")

    @property
    def instances(self) -> tuple[Instance, ...]:
        """Every instance of every account, in configuration order."""
        return tuple(i for a in self.accounts for i in a.instances)

    def instance(self, instance_id: str) -> Instance | None:
        return next((i for i in self.instances if i.instance_id == instance_id), None)

    def account_of(self, instance_id: str) -> Account | None:
        """The account an instance belongs to (None for an unknown instance)."""
        return next(
            (a for a in self.accounts if any(i.instance_id == instance_id for i in a.instances)),
            None,
        )

    def account_by_id(self, account_id: str | None) -> Account | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    @classmethod
    def from_instances(
        cls, instances: Iterable[Mapping[str, Any]], **kwargs: Any
    ) -> EmulatorConfig:
        """Accounts from plain instance descriptions (keys instance_id, account_id,
        marketplace_id, dsp_advertisers, region, optional description), grouped by account_id
        in first-seen order; `kwargs` are the other EmulatorConfig fields."""
        grouped: dict[str, list[Mapping[str, Any]]] = {}
        for item in instances:
            missing = sorted(_INSTANCE_KEYS - item.keys())
            if missing:
                raise ValueError(f"an emulator instance lacks {', '.join(missing)}")
            grouped.setdefault(str(item["account_id"]), []).append(item)
        if not grouped:
            raise ValueError("the emulator needs at least one instance")
        return cls(accounts=tuple(_account(k, v) for k, v in grouped.items()), **kwargs)


_INSTANCE_KEYS = {"instance_id", "account_id", "marketplace_id", "dsp_advertisers", "region"}


def _account(account_id: str, items: list[Mapping[str, Any]]) -> Account:
    marketplaces = {str(i["marketplace_id"]) for i in items}
    if len(marketplaces) != 1:
        raise ValueError(f"the instances of account {account_id} name different marketplaces")
    return Account(
        account_id=account_id,
        account_name=f"AMC account {account_id}",
        marketplace_id=marketplaces.pop(),
        instances=tuple(_instance(i) for i in items),
    )


def _instance(item: Mapping[str, Any]) -> Instance:
    instance_id, region = str(item["instance_id"]), str(item["region"])
    if region not in REGION_BUCKET_REGIONS:
        raise ValueError(f"instance {instance_id}: region must be NA, EU or FE")
    return Instance(
        instance_id=instance_id,
        region=region,
        instance_name=item.get("description") or instance_id,
        s3_bucket_name=f"amc-output-{instance_id}",
        s3_bucket_region=REGION_BUCKET_REGIONS[region],
        advertisers=tuple(
            Advertiser(id=str(a), name=f"DSP advertiser {a}") for a in item["dsp_advertisers"]
        ),
    )
