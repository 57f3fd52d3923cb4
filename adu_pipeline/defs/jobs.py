"""Jobs: one run per export date (hash -> S3 -> dataset -> upload), one per segment audience.

Runs use the in-process executor: the steps of one date are sequential and I/O bound, so one
process per run (parallelism comes from running several dates) starts far faster than one per step.
"""

from __future__ import annotations

import dagster as dg

from adu_pipeline.defs.checks import AUDIENCE_CHECK, UPLOAD_CHECK

EXPORT_JOB = "adu_export_job"
AUDIENCE_JOB = "adu_audience_job"

# The AMC status checks are reported by the sensors, never as part of a submitting run.
_status_checks = dg.AssetSelection.checks(
    dg.AssetCheckKey(dg.AssetKey("amc_upload"), UPLOAD_CHECK),
    dg.AssetCheckKey(dg.AssetKey("amc_audience"), AUDIENCE_CHECK),
)

export_job = dg.define_asset_job(
    EXPORT_JOB,
    selection=dg.AssetSelection.assets(
        "hashed_customers", "adu_s3_object", "amc_dataset", "amc_upload"
    )
    - _status_checks,
    description="One export date: hash locally, check, write to S3, ensure the dataset, upload.",
    executor_def=dg.in_process_executor,
)

audience_job = dg.define_asset_job(
    AUDIENCE_JOB,
    selection=dg.AssetSelection.assets("amc_audience") - _status_checks,
    description="Create or reuse the AMC audience of one segment.",
    executor_def=dg.in_process_executor,
)
