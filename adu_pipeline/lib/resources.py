"""Resources per environment: `s3` (dagster-aws S3Resource) and `amc` (Login with Amazon
credentials; the instance a call goes to comes from data/instances.yaml, not from here).

ADU_ENV=local points both at the loopback stack (`adu local up`, `adu dev`); prod uses real S3
(boto3's credential chain) and the Amazon Ads API host of each instance's region. The AMC
credentials are always `dg.EnvVar`s, locally too (the local stack exports them to the processes
it starts), so run config, the UI and run storage only ever hold the variable names; in prod a
missing one is an error naming the variable, never a fall-back to local.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from adu_pipeline.amc import AmcClient, AmcConfig
from adu_pipeline.amc.retry import RetryPolicy
from adu_pipeline.errors import InputError
from adu_pipeline.settings import LOCAL_AWS_KEYS, LOCAL_HOST, LOCAL_REGION, Settings

# A sensor tick must finish well inside Dagster's 60 s limit: its AMC calls share this budget.
SENSOR_BUDGET_SECONDS = 20.0
ASSET_BUDGET_SECONDS = 120.0

CREDENTIALS = ("ADU_AMC_CLIENT_ID", "ADU_AMC_CLIENT_SECRET", "ADU_AMC_REFRESH_TOKEN")
CREDENTIAL_FIELDS = dict(
    zip(("client_id", "client_secret", "refresh_token"), CREDENTIALS, strict=True)
)


class AmcResource(dg.ConfigurableResource):
    """Login with Amazon credentials and host overrides; one client per instance and caller."""

    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str | None = Field(default=None, description="Override the region's API host.")
    token_url: str | None = Field(default=None, description="Override the region's token URL.")
    ads_account_id: str | None = None

    def client(self, instance: Any, budget_seconds: float = ASSET_BUDGET_SECONDS) -> AmcClient:
        """A client for one instance of data/instances.yaml; retries stay inside the budget."""
        config = AmcConfig(
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            region=instance.region,
            base_url=self.base_url or None,
            token_url=self.token_url or None,
            advertiser_id=instance.account_id,
            marketplace_id=instance.marketplace_id,
            instance_id=instance.instance_id,
            ads_account_id=self.ads_account_id or None,
        )
        return AmcClient(config, retry=RetryPolicy(budget_seconds=budget_seconds, max_attempts=6))


def resources_for(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`s3` and `amc` for the settings' environment; `environ` (default os.environ) only decides
    which optional variables are set, their values stay in the environment."""
    if settings.is_local:
        return _local(settings)
    return _prod(os.environ if environ is None else environ)


def _optional(source: Mapping[str, str], name: str) -> dg.EnvVar | None:
    """An EnvVar when the optional variable is set (its value never stored), else None."""
    return dg.EnvVar(name) if source.get(name, "").strip() else None


def credentials_from_env() -> dict[str, dg.EnvVar]:
    """The AmcResource credential fields as environment references, resolved at run time."""
    return {field: dg.EnvVar(name) for field, name in CREDENTIAL_FIELDS.items()}


def _local(settings: Settings) -> dict[str, Any]:
    amc_url = f"http://{LOCAL_HOST}:{settings.local_amc_port}"
    return {
        "s3": S3Resource(
            endpoint_url=f"http://{LOCAL_HOST}:{settings.local_s3_port}",
            region_name=LOCAL_REGION,
            **LOCAL_AWS_KEYS,  # moto's fixed dummies, not secrets
        ),
        "amc": AmcResource(
            **credentials_from_env(), base_url=amc_url, token_url=f"{amc_url}/auth/o2/token"
        ),
    }


def _prod(source: Mapping[str, str]) -> dict[str, Any]:
    missing = [name for name in CREDENTIALS if not source.get(name, "").strip()]
    if missing:
        raise InputError(f"ADU_ENV=prod needs {', '.join(missing)}: set them (no local fall-back)")
    return {
        "s3": S3Resource(region_name=_optional(source, "ADU_S3_REGION")),
        "amc": AmcResource(
            **credentials_from_env(),
            base_url=_optional(source, "ADU_AMC_BASE_URL"),
            token_url=_optional(source, "ADU_AMC_TOKEN_URL"),
            ads_account_id=_optional(source, "ADU_AMC_ADS_ACCOUNT_ID"),
        ),
    }


@contextmanager
def amc_client_outside_run(
    resource: AmcResource, instance: Any, budget_seconds: float = SENSOR_BUDGET_SECONDS
) -> Iterator[AmcClient]:
    """A client from the `amc` resource outside a run (demo, tests): EnvVars are resolved the way
    a run resolves them."""
    with (
        dg.build_resources({"amc": resource}) as built,
        built.amc.client(instance, budget_seconds=budget_seconds) as client,
    ):
        yield client
