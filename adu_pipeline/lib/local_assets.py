"""A dataset's assets on this side of the wire: the landing file (external), the hashed parquet
with its blocking checks, and the S3 parts + manifest AMC reads.

No raw-PII DataFrame passes through an IO manager: the landing sensor records the landing file as
a materialization of an external asset, and the hashed asset streams the file directly.
"""

from datetime import date
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from adu_pipeline.errors import AduError
from adu_pipeline.hashing import HashPlan, hash_file
from adu_pipeline.lib import keys
from adu_pipeline.lib.checks import (
    evaluate_hashed_checks,
    hashed_check_specs,
    pii_validity_result,
    require_gates_passed,
)
from adu_pipeline.lib.metadata import column_schema, summary_metadata
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.privacy.apply import apply_optouts
from adu_pipeline.privacy.store import OptOutStore
from adu_pipeline.staging import quality
from adu_pipeline.staging.landing import find_landing_file, newest_landing_file
from adu_pipeline.staging.s3 import ensure_bucket, partition_prefix, stage_partition
from adu_pipeline.staging.sniff import delimiter_hint

PROGRESS_EVERY_ROWS = 1_000_000


def landing_spec(plan: DatasetPlan) -> dg.AssetSpec:
    stem = plan.defn.pipeline.landing
    which = "one file per export date" if plan.partitioned else "the newest file is the full list"
    return dg.AssetSpec(
        keys.landing(plan.id),
        partitions_def=plan.partitions,
        group_name=plan.id,
        kinds={"file"},
        owners=keys.OWNERS,
        description=(
            f"The raw export as delivered to the landing folder ({stem}_YYYY-MM-DD.csv / .csv.gz "
            f"/ .parquet / .jsonl; {which}). Raw PII: never read into Dagster storage, never "
            "logged, never leaves the machine."
        ),
        metadata={"landing_pattern": f"{stem}_{{export_date}}.{{csv,csv.gz,parquet,jsonl}}"},
    )


def hashed_asset(plan: DatasetPlan) -> dg.AssetsDefinition:
    defn = plan.defn

    @dg.asset(
        key=keys.hashed(plan.id),
        partitions_def=plan.partitions,
        deps=[keys.landing(plan.id)],
        check_specs=hashed_check_specs(keys.hashed(plan.id), plan.partitions),
        group_name=plan.id,
        kinds={"python", "parquet"},
        owners=keys.OWNERS,
        metadata={"dagster/column_schema": column_schema(defn)},
        description=(
            "The export normalized per Amazon's rules and SHA-256 hashed into local parquet, with "
            "a rejects table (reasons, never values); blocking checks guard everything downstream."
        ),
    )
    def _hashed(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        partition_key = plan.partition_key(context)
        stem = defn.pipeline.landing
        folder = plan.settings.landing_dir
        try:
            landing = (
                find_landing_file(folder, stem, date.fromisoformat(partition_key))
                if partition_key
                else newest_landing_file(folder, stem)
            )
        except AduError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        output, rejects = plan.output_paths(partition_key)
        output.parent.mkdir(parents=True, exist_ok=True)
        context.log.info(f"hashing {landing.path.name} ({landing.size_bytes} bytes) for {plan.id}")
        logged = [0]

        def progress(rows_so_far: int) -> None:
            if rows_so_far - logged[0] >= PROGRESS_EVERY_ROWS:
                logged[0] = rows_so_far
                context.log.info(f"{rows_so_far} rows hashed")

        try:
            summary = hash_file(
                landing.path,
                output,
                HashPlan.from_definition(defn),
                rejects_path=rejects,
                export_date=landing.export_date,
                drop_duplicates=True,
                encoding=defn.pipeline.encoding,
                delimiter=defn.pipeline.delimiter,
                progress=progress,
            )
        except AduError as exc:  # one clear line, never a value (the hashing contract)
            hint = delimiter_hint(landing.path, defn.pipeline.delimiter, defn.pipeline.encoding)
            raise dg.Failure(
                description=f"{landing.path.name}: {exc}{hint}", allow_retries=False
            ) from None
        except Exception as exc:
            # The event log keeps a failure's message for good: a parser's message may quote a
            # row of the raw export, so only the kind of error is recorded.
            raise dg.Failure(
                description=f"{landing.path.name}: hashing failed ({type(exc).__name__}; the "
                "message is withheld because it may quote the export)",
                allow_retries=False,
            ) from None
        # People on the opt-out list never go back to AMC: their rows become `opted_out` rejects.
        optouts = OptOutStore.in_output_dir(plan.settings.output_dir).optout_list()
        opted_out = apply_optouts(output, rejects, defn, optouts)
        meta = summary_metadata(summary)
        meta["rows_written"] -= opted_out
        meta["rows_rejected"] += opted_out
        meta["rejects/opted_out"] = opted_out
        meta["dagster/row_count"] = meta["rows_written"]
        accounted = meta["rows_written"] + meta["rows_rejected"] + meta["duplicates_dropped"]
        if meta["rows_in"] != accounted:
            raise dg.Failure(
                description=f"row accounting broken: {meta['rows_in']} in, {accounted} accounted",
                allow_retries=False,
            )
        check_results, readiness = evaluate_hashed_checks(defn, output, plan.settings)
        check_results.append(pii_validity_result(summary))
        context.log.info(
            f"{meta['rows_in']} rows in, {meta['rows_written']} written, "
            f"{meta['rows_rejected']} rejected, {meta['duplicates_dropped']} duplicates dropped"
        )
        return dg.MaterializeResult(
            metadata={
                **meta,
                **readiness,
                "output_path": dg.MetadataValue.path(str(output)),
                "rejects_path": dg.MetadataValue.path(str(rejects)),
                "output_bytes": output.stat().st_size,
                "landing_file": landing.path.name,
                "export_date": landing.partition_key,
                "dataset_id": plan.id,
            },
            check_results=check_results,
        )

    return _hashed


def egress_guard(plan: DatasetPlan, source: Any) -> None:
    """Re-applied before anything is written: a blocking check does not stop a separate run."""
    bad = quality.egress_violations(plan.defn, source)
    total = sum(bad.values())
    if total:
        columns = ", ".join(f"{c}={n}" for c, n in bad.items() if n)
        raise dg.Failure(
            description=f"PII egress guard: {total} values are not SHA-256 hex ({columns}); "
            "nothing was written to S3",
            metadata={"non_hash_values": total},
            allow_retries=False,
        )


def s3_object_asset(plan: DatasetPlan) -> dg.AssetsDefinition:
    instance_ids = [i.instance_id for i in plan.instances]
    settings = plan.settings

    @dg.asset(
        key=keys.s3_object(plan.id),
        partitions_def=plan.partitions,
        deps=[keys.hashed(plan.id)],
        group_name=plan.id,
        kinds={"s3"},
        owners=keys.OWNERS,
        description=(
            "The hashed data in S3: gzip CSV (or parquet) parts of at most ADU_MAX_PART_MB and a "
            f"manifest listing them, tagged instanceId ({' '.join(instance_ids)}), encrypted."
        ),
    )
    def _s3_object(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.MaterializeResult:
        partition_key = plan.partition_key(context)
        source, _ = plan.output_paths(partition_key)
        if not source.exists():
            raise dg.Failure(
                description=f"{keys.hashed(plan.id).to_user_string()} has no output"
                + (f" for {partition_key}" if partition_key else "")
                + ": materialize it first",
                allow_retries=False,
            )
        require_gates_passed(context.instance, keys.hashed(plan.id), partition_key)
        egress_guard(plan, source)
        client = s3.get_client()
        if settings.is_local:
            ensure_bucket(client, settings.s3_bucket)
        staged = stage_partition(
            client,
            settings.s3_bucket,
            partition_prefix(plan.s3_prefix, partition_key),
            source,
            file_format=settings.file_format,
            max_part_bytes=settings.max_part_bytes,
            instance_ids=instance_ids,
        )
        count = len(staged.parts)
        context.log.info(staged.summary)
        return dg.MaterializeResult(
            metadata={
                "s3_bucket": staged.bucket,
                "manifest_key": staged.manifest_key,
                "manifest_uri": dg.MetadataValue.url(f"s3://{staged.bucket}/{staged.manifest_key}"),
                "content_hash": staged.content_hash,
                "file_format": settings.file_format,
                "part_count": count,
                "parts_uploaded": staged.parts_uploaded,
                "parts_unchanged": count - staged.parts_uploaded,
                "manifest_uploaded": int(staged.manifest_uploaded),
                "multipart_aborted": staged.multipart_aborted or 0,
                "temp_folders_removed": staged.temp_folders_removed,
                "rows": staged.rows,
                "bytes": staged.size_bytes,
                "instances": " ".join(instance_ids),
                "part_keys": dg.MetadataValue.json(list(staged.part_keys)),
            },
            data_version=dg.DataVersion(staged.content_hash[:16]),
        )

    return _s3_object
