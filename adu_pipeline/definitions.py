"""Dagster code location entry point (workspace.yaml loads this module).

ADU_ENV picks the resources: local (default; moto's S3 server and the AMC emulator on loopback,
see `adu local up`) or prod (real S3 and Amazon Ads API, credentials from environment variables).
"""

from __future__ import annotations

import dagster as dg

from adu_pipeline.defs.assets.amc_audience import amc_audience
from adu_pipeline.defs.assets.amc_dataset import amc_dataset
from adu_pipeline.defs.assets.amc_upload import amc_upload
from adu_pipeline.defs.assets.crm_export import crm_export
from adu_pipeline.defs.assets.hashed_customers import hashed_customers
from adu_pipeline.defs.assets.s3_object import adu_s3_object
from adu_pipeline.defs.environments import resources_for_env
from adu_pipeline.defs.jobs import audience_job, export_job
from adu_pipeline.defs.schedules import daily_export_schedule
from adu_pipeline.defs.sensors import amc_audience_status, amc_upload_status, landing_file_sensor
from adu_pipeline.defs.status_checks import amc_audience_succeeded, amc_upload_succeeded

ASSETS = [crm_export, hashed_customers, adu_s3_object, amc_dataset, amc_upload, amc_audience]
ASSET_CHECKS = [amc_upload_succeeded, amc_audience_succeeded]


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """All definitions; tests and the demo pass resources pointing at their own local stack."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[export_job, audience_job],
        sensors=[landing_file_sensor, amc_upload_status, amc_audience_status],
        schedules=[daily_export_schedule],
        resources=resources if resources is not None else resources_for_env(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
