"""AMC API client (Login with Amazon, Advertiser Data Upload, rule-based audiences); no Dagster."""

from adu_pipeline.amc.bodies import (
    amc_timestamp,
    audience_request,
    parse_amc_timestamp,
    same_data_source,
    upload_request,
)
from adu_pipeline.amc.client import AmcClient, AudienceResult, DatasetResult, UploadResult
from adu_pipeline.amc.config import AmcConfig, AmcConfigError, Timeouts
from adu_pipeline.amc.diffs import DatasetDiff, audience_differences, dataset_differences
from adu_pipeline.amc.errors import (
    AmcApiError,
    AmcAudienceConflict,
    AmcAuthError,
    AmcConflictError,
    AmcConnectionError,
    AmcDatasetConflict,
    AmcNotFoundError,
    AmcServerError,
    AmcThrottledError,
    AmcTimeout,
    AmcValidationError,
)
from adu_pipeline.amc.models import Account, Advertiser, Audience, Dataset, Instance, Upload
from adu_pipeline.amc.retry import RetryPolicy
from adu_pipeline.amc.status import JobStatus

__all__ = [
    "Account",
    "Advertiser",
    "AmcApiError",
    "AmcAudienceConflict",
    "AmcAuthError",
    "AmcClient",
    "AmcConfig",
    "AmcConfigError",
    "AmcConflictError",
    "AmcConnectionError",
    "AmcDatasetConflict",
    "AmcNotFoundError",
    "AmcServerError",
    "AmcThrottledError",
    "AmcTimeout",
    "AmcValidationError",
    "Audience",
    "AudienceResult",
    "Dataset",
    "DatasetDiff",
    "DatasetResult",
    "Instance",
    "JobStatus",
    "RetryPolicy",
    "Timeouts",
    "Upload",
    "UploadResult",
    "amc_timestamp",
    "audience_differences",
    "audience_request",
    "dataset_differences",
    "parse_amc_timestamp",
    "same_data_source",
    "upload_request",
]
