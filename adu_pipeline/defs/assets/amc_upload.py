"""amc_upload: the ADU upload of one export date's manifest, started once per content.

Materializes on submit, with the upload id in its metadata; the amc_upload_status sensor follows
it to SUCCESS (OutputRowCount) or FAILED (AMC's message). The manifest key carries the content
hash, so re-materializing finds the existing upload through ListUploads instead of starting a
second one, unless `force: true`.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from adu_pipeline.amc import AmcApiError, upload_request
from adu_pipeline.defs.assets.amc_dataset import AMC_POOL
from adu_pipeline.defs.definition import OWNERS, definition_at
from adu_pipeline.defs.partitions import export_date_partitions
from adu_pipeline.defs.resources import AmcResource, PipelineSettings
from adu_pipeline.defs.retries import AMC_RETRY_POLICY, amc_failure

S3_OBJECT = dg.AssetKey("adu_s3_object")
FORMATS = {"csv_gz": ("csv", "GZIP"), "parquet": ("parquet", "NONE")}


class UploadConfig(dg.Config):
    force: bool = Field(default=False, description="Start a new upload even for the same content.")


def latest_metadata(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition_key: str
) -> dict[str, Any] | None:
    """Plain values of the newest materialization's metadata for one partition."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition_key]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def update_strategy(settings: PipelineSettings, is_fact: bool) -> str:
    if settings.update_strategy:
        return settings.update_strategy.upper()
    return "OVERLAP_REPLACE" if is_fact else "FULL_REPLACE"


@dg.asset(
    partitions_def=export_date_partitions,
    deps=[S3_OBJECT, "amc_dataset"],
    group_name="amc",
    kinds={"amazon"},
    owners=OWNERS,
    pool=AMC_POOL,
    retry_policy=AMC_RETRY_POLICY,
    description=(
        "The Advertiser Data Upload of this export date's manifest (OVERLAP_REPLACE for a FACT "
        "dataset, so the date replaces exactly its AMC partition); started once per content."
    ),
)
def amc_upload(
    context: dg.AssetExecutionContext,
    config: UploadConfig,
    settings: PipelineSettings,
    amc: AmcResource,
) -> dg.MaterializeResult:
    partition_key = context.partition_key
    defn = definition_at(settings.path(settings.dataset_path))
    s3 = latest_metadata(context.instance, S3_OBJECT, partition_key)
    if not s3 or not s3.get("manifest_key"):
        raise dg.Failure(
            description=f"adu_s3_object has no manifest for {partition_key}: materialize it first",
            allow_retries=False,
        )
    file_format, compression = FORMATS[str(s3.get("file_format") or "csv_gz")]
    strategy = update_strategy(settings, defn.is_fact)
    body = upload_request(
        str(s3["s3_bucket"]),
        manifest_key=str(s3["manifest_key"]),
        file_format=file_format,
        compression=compression,
        update_strategy=strategy,
    )
    with amc.client() as client:
        try:
            result = client.find_or_create_upload(defn.id, body, force=config.force)
        except AmcApiError as exc:
            raise amc_failure("AMC upload", exc) from None
    upload = result.upload
    verb = "started" if result.created else "found existing"
    context.log.info(f"{verb} upload {upload.upload_id} ({upload.status_raw}) for {partition_key}")
    return dg.MaterializeResult(
        metadata={
            "upload_id": upload.upload_id,
            "dataset_id": defn.id,
            "status": upload.status_raw,
            "started": int(result.created),
            "update_strategy": strategy,
            "manifest_key": str(s3["manifest_key"]),
            "s3_bucket": str(s3["s3_bucket"]),
            "content_hash": str(s3.get("content_hash") or ""),
            "rows_sent": int(s3.get("rows") or 0),
        }
    )
