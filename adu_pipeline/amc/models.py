"""Light typed views of AMC responses: the fields the pipeline reads, unknown fields ignored.

Each model keeps the full response object in `raw` so callers can diff or display more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adu_pipeline.amc.status import JobStatus


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Account:
    account_id: str
    account_name: str | None
    marketplace_id: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Account:
        return cls(
            account_id=str(obj.get("accountId", "")),
            account_name=_opt_str(obj.get("accountName")),
            marketplace_id=_opt_str(obj.get("marketplaceId")),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Instance:
    instance_id: str
    instance_name: str | None
    api_endpoint: str | None
    creation_status: str | None
    data_upload_aws_account_id: str | None
    s3_bucket_name: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Instance:
        return cls(
            instance_id=str(obj.get("instanceId", "")),
            instance_name=_opt_str(obj.get("instanceName")),
            api_endpoint=_opt_str(obj.get("apiEndpoint")),
            creation_status=_opt_str(obj.get("creationStatus")),
            data_upload_aws_account_id=_opt_str(obj.get("dataUploadAwsAccountId")),
            s3_bucket_name=_opt_str(obj.get("s3BucketName")),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Advertiser:
    """A DSP / sponsored-ads advertiser linked to an instance (the audience `advertiserId`)."""

    advertiser_id: str
    name: str | None
    type: str | None
    marketplace_id: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Advertiser:
        return cls(
            advertiser_id=str(obj.get("id", "")),
            name=_opt_str(obj.get("name")),
            type=_opt_str(obj.get("type")),
            marketplace_id=_opt_str(obj.get("marketplaceId")),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    description: str | None
    period: str | None
    country_code: str | None
    columns: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def column_names(self) -> list[str]:
        return [str(c.get("name")) for c in self.columns]

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Dataset:
        columns = obj.get("columns") or []
        return cls(
            dataset_id=str(obj.get("dataSetId", "")),
            description=_opt_str(obj.get("description")),
            period=_opt_str(obj.get("period")),
            country_code=_opt_str(obj.get("countryCode")),
            columns=tuple(dict(c) for c in columns if isinstance(c, Mapping)),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Upload:
    upload_id: str
    dataset_id: str | None
    status: JobStatus
    status_raw: str
    message: str | None
    metrics: Mapping[str, float]
    data_source: Mapping[str, Any]
    country_code: str | None
    created_at: str | None
    updated_at: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def output_row_count(self) -> int | None:
        return _opt_int(self.metrics.get("OutputRowCount"))

    @classmethod
    def from_api(cls, obj: Mapping[str, Any], *, dataset_id: str | None = None) -> Upload:
        raw_status = str(obj.get("status") or "PENDING")
        metrics = obj.get("metrics") if isinstance(obj.get("metrics"), Mapping) else {}
        source = obj.get("dataSource") if isinstance(obj.get("dataSource"), Mapping) else {}
        return cls(
            upload_id=str(obj.get("uploadId", "")),
            dataset_id=_opt_str(obj.get("dataSetId")) or dataset_id,
            status=JobStatus.parse(raw_status),
            status_raw=raw_status,
            message=_opt_str(obj.get("message")),
            metrics=dict(metrics),
            data_source=dict(source),
            country_code=_opt_str(obj.get("countryCode")),
            created_at=_opt_str(obj.get("createdAt")),
            updated_at=_opt_str(obj.get("updatedAt")),
            raw=dict(obj),
        )


@dataclass(frozen=True)
class Audience:
    audience_id: str  # audienceExecutionId
    name: str | None
    advertiser_id: str | None
    status: JobStatus
    status_raw: str
    status_reason: str | None
    audience_count: int | None
    dsp_audience_id: str | None
    dsp_canonical_id: str | None
    query: str | None
    time_window_start: str | None
    time_window_end: str | None
    time_window_relative: bool | None
    refresh_rate_days: int | None
    create_time: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> Audience:
        raw_status = str(obj.get("status") or "PENDING")
        relative = obj.get("timeWindowRelative")
        if isinstance(relative, str):  # the guide's example sends "TRUE"
            relative = relative.strip().lower() == "true"
        return cls(
            audience_id=str(obj.get("audienceExecutionId", "")),
            name=_opt_str(obj.get("audienceName")),
            advertiser_id=_opt_str(obj.get("advertiserId")),
            status=JobStatus.parse(raw_status),
            status_raw=raw_status,
            status_reason=_opt_str(
                obj.get("statusReason") or obj.get("audienceExecutionDescription")
            ),
            audience_count=_opt_int(obj.get("audienceCount")),
            dsp_audience_id=_opt_str(obj.get("dspAudienceId")),
            dsp_canonical_id=_opt_str(obj.get("dspCanonicalId")),
            query=_opt_str(obj.get("query")),
            time_window_start=_opt_str(obj.get("timeWindowStart")),
            time_window_end=_opt_str(obj.get("timeWindowEnd")),
            time_window_relative=None if relative is None else bool(relative),
            refresh_rate_days=_opt_int(obj.get("refreshRateDays")),
            create_time=_opt_str(obj.get("createTime")),
            raw=dict(obj),
        )
