"""Where and as whom the client talks to AMC; secrets never appear in repr or in error messages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from adu_pipeline.errors import InputError

# API.md 1.2: regional Amazon Ads API hosts.
API_HOSTS = {
    "NA": "https://advertising-api.amazon.com",
    "EU": "https://advertising-api-eu.amazon.com",
    "FE": "https://advertising-api-fe.amazon.com",
}
# API.md 1.1: regional Login with Amazon token endpoints.
TOKEN_URLS = {
    "NA": "https://api.amazon.com/auth/o2/token",
    "EU": "https://api.amazon.co.uk/auth/o2/token",
    "FE": "https://api.amazon.co.jp/auth/o2/token",
}
# Login with Amazon consent pages, one per region (Amazon Ads "get started" guide).
AUTHORIZE_URLS = {
    "NA": "https://www.amazon.com/ap/oa",
    "EU": "https://eu.account.amazon.com/ap/oa",
    "FE": "https://apac.account.amazon.com/ap/oa",
}
# API.md 1.3: marketplace ids (subset) and their countries; `adu amc discover` names instances so.
MARKETPLACE_COUNTRIES = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL",
    "A2NODRKZP88ZB9": "SE",
    "A33AVAJ2PDY3EV": "TR",
    "A17E79C6D8DWNP": "SA",
    "A2VIGQ35RCS4UG": "AE",
    "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU",
    "A21TJRUUN4KGV": "IN",
}

ENV_PREFIX = "ADU_AMC_"
SECRET_FIELDS = frozenset({"client_secret", "refresh_token"})
CREDENTIAL_FIELDS = ("client_id", "client_secret", "refresh_token")


class AmcConfigError(InputError):
    """A setting the requested operation needs is missing or malformed."""


@dataclass(frozen=True)
class Timeouts:
    """Explicit httpx timeouts in seconds; each is further clipped by the retry budget."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0


@dataclass(frozen=True)
class AmcConfig:
    """Connection settings for one AMC account + instance.

    `advertiser_id` is the AMC account id (header Amazon-Advertising-API-AdvertiserId); `entity_id`
    (header Amazon-Advertising-API-EntityId, audiences only) defaults to it.
    """

    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    region: str = "NA"
    base_url: str | None = None
    token_url: str | None = None
    advertiser_id: str | None = None
    marketplace_id: str | None = None
    instance_id: str | None = None
    ads_account_id: str | None = None
    entity_id: str | None = None
    authorize_endpoint: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    # Where each value came from, e.g. "ADU_AMC_INSTANCE_ID or --instance-id", for error messages.
    source_hint: str = field(default="ADU_AMC_*", repr=False, compare=False)

    def __post_init__(self) -> None:
        region = (self.region or "NA").strip().upper()
        if region not in API_HOSTS:
            raise AmcConfigError(f"unknown AMC region {self.region!r}: use one of NA, EU, FE")
        object.__setattr__(self, "region", region)

    @property
    def api_base_url(self) -> str:
        return (self.base_url or API_HOSTS[self.region]).rstrip("/")

    @property
    def lwa_token_url(self) -> str:
        return self.token_url or TOKEN_URLS[self.region]

    @property
    def authorize_url(self) -> str:
        return self.authorize_endpoint or AUTHORIZE_URLS[self.region]

    @property
    def audience_entity_id(self) -> str | None:
        return self.entity_id or self.advertiser_id

    def require(self, *names: str, purpose: str) -> None:
        """Fail with one line naming every missing setting (never a value)."""
        missing = [name for name in names if not getattr(self, name)]
        if missing:
            hints = ", ".join(env_var_name(name) for name in missing)
            raise AmcConfigError(
                f"{purpose} needs {', '.join(missing)}: set {hints} (or the matching --flag)"
            )

    def with_overrides(self, **values: object) -> AmcConfig:
        """A copy with the given non-None values replaced (CLI flags over environment)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in values.items() if k in known and v is not None})

    @classmethod
    def from_env(
        cls,
        prefix: str = ENV_PREFIX,
        env: Mapping[str, str] | None = None,
        *,
        require_credentials: bool = True,
    ) -> AmcConfig:
        """Read `<prefix>CLIENT_ID`, `<prefix>INSTANCE_ID`, ...; errors name missing variables."""
        source = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = source.get(prefix + name.upper(), "").strip()
            return value or None

        if require_credentials:
            missing = [prefix + n.upper() for n in CREDENTIAL_FIELDS if not get(n)]
            if missing:
                raise AmcConfigError(f"missing AMC credentials: set {', '.join(missing)}")
        timeouts = Timeouts(
            **{
                part: _float_env(source, f"{prefix}TIMEOUT_{part.upper()}", default)
                for part, default in vars(Timeouts()).items()
            }
        )
        return cls(
            client_id=get("client_id") or "",
            client_secret=get("client_secret") or "",
            refresh_token=get("refresh_token") or "",
            region=get("region") or "NA",
            base_url=get("base_url"),
            token_url=get("token_url"),
            advertiser_id=get("advertiser_id"),
            marketplace_id=get("marketplace_id"),
            instance_id=get("instance_id"),
            ads_account_id=get("ads_account_id"),
            entity_id=get("entity_id"),
            authorize_endpoint=get("authorize_url"),
            timeouts=timeouts,
            source_hint=prefix + "*",
        )


def env_var_name(field_name: str, prefix: str = ENV_PREFIX) -> str:
    return prefix + field_name.upper()


def _float_env(source: Mapping[str, str], name: str, default: float) -> float:
    raw = source.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AmcConfigError(f"{name} must be a number of seconds") from None
    if value <= 0:
        raise AmcConfigError(f"{name} must be positive")
    return value
