"""Names of assets, checks, jobs and pools: one place, so sensors and tests agree with the assets.

Every dataset's assets are prefixed by its id (`crm_customers/hashed`); AMC-side assets add the
instance key (`crm_customers/us/amc_upload`), since one dataset may go to several instances.
"""

from __future__ import annotations

import warnings

import dagster as dg

# Per-partition check results (the UI's truth per export date and segment) use partitioned
# asset checks, a preview in Dagster 1.13: chosen knowingly, so its warning is not repeated to
# every user at every load.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

OWNERS = ["team:marketing-data"]

SCHEMA_CHECK = "schema_matches_definition"
EGRESS_CHECK = "pii_egress_guard"
READINESS_CHECK = "match_readiness"
GATE_CHECKS = (SCHEMA_CHECK, EGRESS_CHECK, READINESS_CHECK)  # blocking: nothing leaves otherwise
PII_VALID_CHECK = "pii_columns_have_valid_values"  # a warning
UPLOAD_CHECK = "amc_upload_succeeded"
AUDIENCE_CHECK = "amc_audience_succeeded"

AUDIENCE = dg.AssetKey(["audiences", "amc_audience"])
AUDIENCE_JOB = "adu_audience_job"
SEGMENT_PARTITIONS = "segments"


def landing(dataset_id: str) -> dg.AssetKey:
    return dg.AssetKey([dataset_id, "landing"])


def hashed(dataset_id: str) -> dg.AssetKey:
    return dg.AssetKey([dataset_id, "hashed"])


def s3_object(dataset_id: str) -> dg.AssetKey:
    return dg.AssetKey([dataset_id, "s3_object"])


def amc_dataset(dataset_id: str, instance: str) -> dg.AssetKey:
    return dg.AssetKey([dataset_id, instance, "amc_dataset"])


def upload(dataset_id: str, instance: str) -> dg.AssetKey:
    return dg.AssetKey([dataset_id, instance, "amc_upload"])


def amc_pool(dataset_id: str, instance: str) -> str:
    """The pool of every op that writes dataset D in instance I (its dataset and its uploads):
    with a limit of 1, two runs never find-then-create at the same time."""
    return f"amc.{dataset_id}.{instance}"


AUDIENCE_POOL = "amc.audiences"  # audiences of every segment: one create at a time


def export_job(dataset_id: str) -> str:
    return f"{dataset_id}_export_job"


def schedule(dataset_id: str) -> str:
    return f"{dataset_id}_daily_schedule"


def upload_parts(key: dg.AssetKey) -> tuple[str, str]:
    """(dataset id, instance key) of an amc_upload asset key."""
    dataset_id, instance, _ = key.path
    return dataset_id, instance


# The privacy lifecycle (opt-outs -> user deletions; audience health)
OPTOUTS = dg.AssetKey(["privacy", "optouts"])
OPTOUT_JOB = "adu_optout_job"
DELETION_CHECK = "amc_user_deletion_succeeded"
FRESH_CHECK = "amc_audience_fresh"


def user_deletions(instance: str) -> dg.AssetKey:
    return dg.AssetKey(["privacy", instance, "user_deletions"])


def deletion_pool(instance: str) -> str:
    """One deletion run per instance at a time: two runs never send the same file twice."""
    return f"amc.deletions.{instance}"
