"""A dataset's assets in AMC, one set per instance that receives it: the AMC dataset (created
once, extended with new nullable columns, never deleted) and the upload of each partition.

The client owns find-or-create (`ensure_dataset`, `find_or_create_upload`); these assets only
call it and turn its answer into metadata. Both run in the pool of their (dataset, instance) with
a limit of 1, so two runs never find-then-create at once: the second finds the first's work. The
upload's status is followed by a sensor, which reports it on the upload's partition.
"""

import dagster as dg
from pydantic import Field

from adu_pipeline.amc import AmcApiError, upload_request
from adu_pipeline.errors import AduError
from adu_pipeline.lib import keys
from adu_pipeline.lib.checks import require_gates_passed
from adu_pipeline.lib.metadata import latest_metadata
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.retries import AMC_RETRY_POLICY, amc_failure, status_check_result
from adu_pipeline.lib.writer_lock import amc_writer

FORMATS = {"csv_gz": ("csv", "GZIP"), "parquet": ("parquet", "NONE")}


class UploadConfig(dg.Config):
    force: bool = Field(default=False, description="Start a new upload even for the same content.")


def _failure(what: str, exc: AduError) -> dg.Failure:
    if isinstance(exc, AmcApiError):
        return amc_failure(what, exc)
    return dg.Failure(description=f"{what}: {exc}", allow_retries=False)


def amc_dataset_asset(plan: DatasetPlan, instance) -> dg.AssetsDefinition:
    pool = keys.amc_pool(plan.id, instance.key)

    @dg.asset(
        key=keys.amc_dataset(plan.id, instance.key),
        group_name=plan.id,
        kinds={"amazon"},
        owners=keys.OWNERS,
        pool=pool,
        retry_policy=AMC_RETRY_POLICY,
        tags={"instance": instance.key},
        description=(
            f"The AMC dataset {plan.id} in instance {instance.key} ({instance.instance_id}): "
            "created from the definition, extended with new nullable columns, never deleted; "
            "any other drift fails with the diff."
        ),
    )
    def _amc_dataset(context: dg.AssetExecutionContext, amc: AmcResource) -> dg.MaterializeResult:
        with amc_writer(context, pool), amc.client(instance) as client:
            try:
                result = client.ensure_dataset(plan.defn.create_body())
            except AduError as exc:
                raise _failure(f"AMC dataset {plan.id} in {instance.key}", exc) from None
        for column in result.columns_added:
            context.log.info(f"added column {column} to AMC dataset {plan.id} ({instance.key})")
        context.log.info(f"AMC dataset {plan.id} in {instance.key}: {result.action}")
        return dg.MaterializeResult(
            metadata={
                "dataset_id": plan.id,
                "instance": instance.key,
                "instance_id": instance.instance_id,
                "action": result.action,
                "created": int(result.action == "created"),
                "columns_added": len(result.columns_added),
                "column_count": len(result.dataset.columns),
                "fact_dataset": int(plan.defn.is_fact),
            }
        )

    return _amc_dataset


def upload_asset(plan: DatasetPlan, instance) -> dg.AssetsDefinition:
    s3_key = keys.s3_object(plan.id)
    strategy = plan.defn.update_strategy
    what = "this export date's" if plan.partitioned else "the full list's"
    pool = keys.amc_pool(plan.id, instance.key)

    @dg.asset(
        key=keys.upload(plan.id, instance.key),
        partitions_def=plan.partitions,
        deps=[s3_key, keys.amc_dataset(plan.id, instance.key)],
        group_name=plan.id,
        kinds={"amazon"},
        owners=keys.OWNERS,
        pool=pool,
        retry_policy=AMC_RETRY_POLICY,
        tags={"instance": instance.key},
        description=(
            f"The Advertiser Data Upload of {what} manifest to instance {instance.key} "
            f"({strategy}); started once per content, followed by amc_upload_status."
        ),
    )
    def _upload(
        context: dg.AssetExecutionContext, config: UploadConfig, amc: AmcResource
    ) -> dg.MaterializeResult:
        partition_key = plan.partition_key(context)
        require_gates_passed(context.instance, keys.hashed(plan.id), partition_key)
        s3 = latest_metadata(context.instance, s3_key, partition_key)
        if not s3 or not s3.get("manifest_key"):
            where = f" for {partition_key}" if partition_key else ""
            raise dg.Failure(
                description=f"{s3_key.to_user_string()} has no manifest{where}: "
                "materialize it first",
                allow_retries=False,
            )
        file_format, compression = FORMATS[str(s3.get("file_format") or "csv_gz")]
        body = upload_request(
            str(s3["s3_bucket"]),
            manifest_key=str(s3["manifest_key"]),
            file_format=file_format,
            compression=compression,
            update_strategy=strategy,
        )
        with amc_writer(context, pool), amc.client(instance) as client:
            try:
                result = client.find_or_create_upload(plan.id, body, force=config.force)
            except AduError as exc:
                raise _failure(f"AMC upload to {instance.key}", exc) from None
        upload = result.upload
        verb = "started" if result.created else "found existing"
        where = f" for {partition_key}" if partition_key else ""
        context.log.info(
            f"{verb} upload {upload.upload_id} ({upload.status_raw}) to {instance.key}{where}"
            + (f": {result.reason}" if result.reason else "")
        )
        return dg.MaterializeResult(
            metadata={
                "upload_id": upload.upload_id,
                "dataset_id": plan.id,
                "instance": instance.key,
                "status_at_start": upload.status_raw,
                "started": int(result.created),
                "reason": result.reason,
                "update_strategy": strategy,
                "manifest_key": str(s3["manifest_key"]),
                "s3_bucket": str(s3["s3_bucket"]),
                "content_hash": str(s3.get("content_hash") or ""),
                "rows_sent": int(s3.get("rows") or 0),
            }
        )

    return _upload


def upload_status_check(plan: DatasetPlan, instance) -> dg.AssetChecksDefinition:
    """The amc_upload_status sensor reports this check at each terminal state; run by hand, it
    asks AMC once about the newest upload."""
    asset_key = keys.upload(plan.id, instance.key)

    @dg.asset_check(
        asset=asset_key,
        name=keys.UPLOAD_CHECK,
        partitions_def=plan.partitions,
        description="AMC ingested this partition's upload (SUCCESS, OutputRowCount); FAILED "
        "carries AMC's message.",
    )
    def _check(context: dg.AssetCheckExecutionContext, amc: AmcResource) -> dg.AssetCheckResult:
        partition_key = context.partition_key if plan.partitioned else None
        newest = latest_metadata(context.instance, asset_key, partition_key)
        if newest is None:
            return dg.AssetCheckResult(passed=False, description="no upload has been started yet")
        try:
            with amc.client(instance, budget_seconds=20) as client:
                upload = client.get_upload(plan.id, str(newest["upload_id"]))
        except AmcApiError as exc:
            raise amc_failure("AMC upload status", exc) from None
        return status_check_result(
            upload.status,
            {
                "upload_id": upload.upload_id,
                "status": upload.status_raw,
                "OutputRowCount": upload.output_row_count or 0,
            },
            upload.message,
            f"upload {upload.upload_id}",
        )

    return _check
