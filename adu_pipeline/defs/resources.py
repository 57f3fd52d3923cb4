"""Resources: pipeline settings, the AMC client factory; S3 goes through dagster-aws S3Resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from adu_pipeline.amc import AmcClient, AmcConfig
from adu_pipeline.amc.retry import RetryPolicy
from adu_pipeline.defs import project

# A sensor tick must finish well inside Dagster's 60 s limit: its AMC calls share this budget.
SENSOR_BUDGET_SECONDS = 20.0
ASSET_BUDGET_SECONDS = 120.0


class PipelineSettings(dg.ConfigurableResource):
    """Paths, S3 layout and match-readiness thresholds (defaults fit the bundled demo)."""

    landing_dir: str = Field(default="data/landing", description="Folder of dated export files.")
    output_dir: str = Field(default="data/output", description="Hashed parquet and rejects.")
    dataset_path: str = Field(default="data/datasets/crm_customers.yaml")
    segments_dir: str = Field(default="data/segments")
    s3_bucket: str = Field(description="Bucket the AMC instance may read (tagged instanceId).")
    s3_prefix: str = Field(default="adu", description="Key prefix: {prefix}/{dataset}/...")
    file_format: str = Field(default="csv_gz", description="csv_gz or parquet")
    max_part_bytes: int = Field(default=500 * 1024 * 1024, description="Largest S3 part.")
    create_bucket: bool = Field(default=False, description="Create the bucket (local stack only).")
    update_strategy: str | None = Field(
        default=None,
        description="OVERLAP_REPLACE for FACT datasets unless set (FULL_REPLACE or ADDITIVE).",
    )
    min_identifier_share: float = Field(
        default=0.5, description="Share of rows that must carry at least one usable identifier."
    )
    min_projected_audience: int = Field(
        default=2000, description="AMC refuses audiences under 2,000 matched users."
    )
    expected_match_rate: float = Field(
        default=0.5, description="Assumed share of identified rows AMC resolves to a user."
    )

    def path(self, value: str) -> Path:
        return project.resolve(value)

    @property
    def landing_path(self) -> Path:
        return self.path(self.landing_dir)

    @property
    def output_path(self) -> Path:
        return self.path(self.output_dir)


class AmcResource(dg.ConfigurableResource):
    """Connection settings for one AMC instance; each caller gets a client with its own budget."""

    region: str = "NA"
    base_url: str | None = None
    token_url: str | None = None
    client_id: str
    client_secret: str
    refresh_token: str
    advertiser_id: str = Field(description="The AMC account id (ENTITY...).")
    marketplace_id: str
    instance_id: str
    ads_account_id: str | None = None

    def config(self) -> AmcConfig:
        return AmcConfig(
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            region=self.region,
            base_url=self.base_url or None,
            token_url=self.token_url or None,
            advertiser_id=self.advertiser_id,
            marketplace_id=self.marketplace_id,
            instance_id=self.instance_id,
            ads_account_id=self.ads_account_id or None,
        )

    def client(self, budget_seconds: float = ASSET_BUDGET_SECONDS) -> AmcClient:
        """A client whose retries (backoff + jitter) never run past `budget_seconds` per call."""
        return AmcClient(
            self.config(), retry=RetryPolicy(budget_seconds=budget_seconds, max_attempts=6)
        )
