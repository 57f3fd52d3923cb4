"""Resources per environment: ADU_ENV=local (default, the loopback stack) or prod (real AWS + AMC).

Production credentials come from dg.EnvVar so their values never enter the run config or the UI;
a missing or partial credential is an error naming the variable, never a fall-back to local.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from adu_pipeline.defs.resources import AmcResource, PipelineSettings
from adu_pipeline.errors import InputError
from adu_pipeline.local_stack import LOCAL_AWS_KEYS, LOCAL_BUCKET, LOCAL_REGION, local_ports

# What the emulator serves by default (adu_pipeline.emulator.config); any non-empty secret works.
LOCAL_AMC = {
    "client_id": "amzn1.application-oa2-client.local",
    "client_secret": "local-secret",
    "refresh_token": "Atzr|local-refresh-token",
    "advertiser_id": "ENTITY1AMCEMULATOR",
    "marketplace_id": "ATVPDKIKX0DER",
    "instance_id": "amcemulator01",
}

# prod: every one of these must be set (ADU_AMC_* follow adu_pipeline.amc.config).
PROD_REQUIRED = (
    "ADU_AMC_CLIENT_ID",
    "ADU_AMC_CLIENT_SECRET",
    "ADU_AMC_REFRESH_TOKEN",
    "ADU_AMC_ADVERTISER_ID",
    "ADU_AMC_MARKETPLACE_ID",
    "ADU_AMC_INSTANCE_ID",
    "ADU_S3_BUCKET",
)
PROD_OPTIONAL = (
    "ADU_AMC_REGION",
    "ADU_AMC_BASE_URL",
    "ADU_AMC_TOKEN_URL",
    "ADU_AMC_ADS_ACCOUNT_ID",
    "ADU_S3_REGION",
)
ENVIRONMENTS = ("local", "prod")


def current_env(environ: Mapping[str, str] | None = None) -> str:
    source = os.environ if environ is None else environ
    env = source.get("ADU_ENV", "").strip().lower() or "local"
    if env not in ENVIRONMENTS:
        raise InputError(f"ADU_ENV must be local or prod, not {env!r}")
    return env


def settings_from_env(
    environ: Mapping[str, str], *, bucket: Any, create_bucket: bool, **overrides: Any
) -> PipelineSettings:
    """Paths and thresholds, each overridable by an ADU_* variable."""
    values: dict[str, Any] = {
        "landing_dir": environ.get("ADU_LANDING_DIR") or "data/landing",
        "output_dir": environ.get("ADU_OUTPUT_DIR") or "data/output",
        "dataset_path": environ.get("ADU_DATASET") or "data/datasets/crm_customers.yaml",
        "segments_dir": environ.get("ADU_SEGMENTS_DIR") or "data/segments",
        "s3_bucket": bucket,
        "s3_prefix": environ.get("ADU_S3_PREFIX") or "adu",
        "file_format": environ.get("ADU_FILE_FORMAT") or "csv_gz",
        "max_part_bytes": _int_env(environ, "ADU_MAX_PART_MB", 500) * 1024 * 1024,
        "create_bucket": create_bucket,
        "update_strategy": environ.get("ADU_UPDATE_STRATEGY") or None,
        "min_identifier_share": _float_env(environ, "ADU_MIN_IDENTIFIER_SHARE", 0.5),
        "min_projected_audience": _int_env(environ, "ADU_MIN_PROJECTED_AUDIENCE", 2000),
        "expected_match_rate": _float_env(environ, "ADU_EXPECTED_MATCH_RATE", 0.5),
    }
    values.update(overrides)
    return PipelineSettings(**values)


def local_resources(
    s3_endpoint_url: str,
    amc_base_url: str,
    *,
    bucket: str = LOCAL_BUCKET,
    environ: Mapping[str, str] | None = None,
    amc_credentials: Mapping[str, str] | None = None,
    **settings_overrides: Any,
) -> dict[str, Any]:
    """Resources for moto's S3 server and the AMC emulator at the given loopback URLs.

    `amc_credentials` replaces the local defaults (e.g. an emulator started with fixed ones)."""
    source = os.environ if environ is None else environ
    amc_base_url = amc_base_url.rstrip("/")
    return {
        "settings": settings_from_env(
            source, bucket=bucket, create_bucket=True, **settings_overrides
        ),
        "s3": S3Resource(endpoint_url=s3_endpoint_url, region_name=LOCAL_REGION, **LOCAL_AWS_KEYS),
        "amc": AmcResource(
            base_url=amc_base_url,
            token_url=f"{amc_base_url}/auth/o2/token",
            **{**LOCAL_AMC, **(amc_credentials or {})},
        ),
    }


def default_local_resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    source = os.environ if environ is None else environ
    s3_port, amc_port = local_ports(source)
    return local_resources(
        f"http://127.0.0.1:{s3_port}",
        f"http://127.0.0.1:{amc_port}",
        bucket=source.get("ADU_S3_BUCKET") or LOCAL_BUCKET,
        environ=source,
    )


def prod_resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Real S3 (default AWS credential chain) and the Ads API host of the region."""
    source = os.environ if environ is None else environ
    missing = [name for name in PROD_REQUIRED if not source.get(name, "").strip()]
    if missing:
        raise InputError(f"ADU_ENV=prod needs {', '.join(missing)}: set them (no local fall-back)")

    def optional(name: str) -> Any:
        return dg.EnvVar(name) if source.get(name, "").strip() else None

    return {
        "settings": settings_from_env(
            source, bucket=dg.EnvVar("ADU_S3_BUCKET"), create_bucket=False
        ),
        "s3": S3Resource(region_name=optional("ADU_S3_REGION")),
        "amc": AmcResource(
            region=dg.EnvVar("ADU_AMC_REGION") if optional("ADU_AMC_REGION") else "NA",
            base_url=optional("ADU_AMC_BASE_URL"),
            token_url=optional("ADU_AMC_TOKEN_URL"),
            client_id=dg.EnvVar("ADU_AMC_CLIENT_ID"),
            client_secret=dg.EnvVar("ADU_AMC_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("ADU_AMC_REFRESH_TOKEN"),
            advertiser_id=dg.EnvVar("ADU_AMC_ADVERTISER_ID"),
            marketplace_id=dg.EnvVar("ADU_AMC_MARKETPLACE_ID"),
            instance_id=dg.EnvVar("ADU_AMC_INSTANCE_ID"),
            ads_account_id=optional("ADU_AMC_ADS_ACCOUNT_ID"),
        ),
    }


def resources_for_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    return (
        prod_resources(environ)
        if current_env(environ) == "prod"
        else default_local_resources(environ)
    )


def _int_env(source: Mapping[str, str], name: str, default: int) -> int:
    raw = source.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InputError(f"{name} must be a whole number") from None


def _float_env(source: Mapping[str, str], name: str, default: float) -> float:
    raw = source.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number") from None
