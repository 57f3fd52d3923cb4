"""adu_s3_object: the hashed partition in S3 as parts plus a manifest AMC reads.

Keys are deterministic per dataset and partition: {prefix}/{dataset}/export_date={date}/part-NNNNN
and manifest-{content hash}.txt, so an upload names exactly the content it loads. Objects are
tagged instanceId (AMC's read permission), request AES256 server-side encryption, and are skipped
when S3 already holds the same content. The PII egress guard is re-applied here because blocking
checks do not stop a separate run.
"""

from pathlib import Path
from typing import Any

import dagster as dg
from botocore.exceptions import ClientError
from dagster_aws.s3 import S3Resource

from adu_pipeline.defs import quality
from adu_pipeline.defs.assets.hashed_customers import output_paths
from adu_pipeline.defs.definition import OWNERS, definition_at
from adu_pipeline.defs.partitions import export_date_partitions
from adu_pipeline.defs.resources import AmcResource, PipelineSettings
from adu_pipeline.defs.s3_parts import Part, combined_hash, temp_parts_dir, write_parts
from adu_pipeline.local_stack import ensure_bucket

CONTENT_HASH_KEY = "content-sha256"


def partition_prefix(settings: PipelineSettings, dataset_id: str, partition_key: str) -> str:
    return f"{settings.s3_prefix.strip('/')}/{dataset_id}/export_date={partition_key}/"


def manifest_key(prefix: str, content_hash: str) -> str:
    return f"{prefix}manifest-{content_hash[:16]}.txt"


def stored_hash(client: Any, bucket: str, key: str) -> str | None:
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return (head.get("Metadata") or {}).get(CONTENT_HASH_KEY)


def put_file(client: Any, bucket: str, key: str, path: Path, sha256: str, instance_id: str) -> bool:
    """Upload unless the same content is there already; True when bytes were sent."""
    if stored_hash(client, bucket, key) == sha256:
        return False
    client.upload_file(
        str(path),
        bucket,
        key,
        ExtraArgs={
            "Metadata": {CONTENT_HASH_KEY: sha256},
            "ServerSideEncryption": "AES256",
            "Tagging": f"instanceId={instance_id}",
        },
    )
    return True


def egress_guard(defn, path: Path) -> None:
    bad = quality.egress_violations(defn, path)
    total = sum(bad.values())
    if total:
        columns = ", ".join(f"{c}={n}" for c, n in bad.items() if n)
        raise dg.Failure(
            description=f"PII egress guard: {total} values are not SHA-256 hex ({columns}); "
            "nothing was written to S3",
            metadata={"non_hash_values": total},
            allow_retries=False,
        )


@dg.asset(
    partitions_def=export_date_partitions,
    deps=["hashed_customers"],
    group_name="s3",
    kinds={"s3"},
    owners=OWNERS,
    description=(
        "The hashed partition in S3: gzip CSV (or parquet) parts of at most max_part_bytes and a "
        "manifest listing them, tagged instanceId, server-side encrypted."
    ),
)
def adu_s3_object(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    s3: S3Resource,
    amc: AmcResource,
) -> dg.MaterializeResult:
    partition_key = context.partition_key
    defn = definition_at(settings.path(settings.dataset_path))
    source, _ = output_paths(settings, defn.id, partition_key)
    if not source.exists():
        raise dg.Failure(
            description=f"hashed_customers has no output for {partition_key}: materialize it first",
            allow_retries=False,
        )
    egress_guard(defn, source)
    client = s3.get_client()
    bucket = settings.s3_bucket
    if settings.create_bucket:
        ensure_bucket(client, bucket)
    prefix = partition_prefix(settings, defn.id, partition_key)
    with temp_parts_dir() as tmp:
        parts: list[Part] = write_parts(
            source,
            Path(tmp),
            file_format=settings.file_format,
            max_part_bytes=settings.max_part_bytes,
        )
        sent = 0
        for part in parts:
            sent += put_file(
                client, bucket, prefix + part.name, part.path, part.sha256, amc.instance_id
            )
        content_hash = combined_hash(parts)
        manifest = Path(tmp) / "manifest.txt"
        manifest.write_text("".join(f"s3://{bucket}/{prefix}{p.name}\n" for p in parts))
        key = manifest_key(prefix, content_hash)
        manifest_sent = put_file(client, bucket, key, manifest, content_hash, amc.instance_id)
    context.log.info(
        f"{len(parts)} parts ({sent} uploaded, {len(parts) - sent} unchanged), manifest {key}"
    )
    return dg.MaterializeResult(
        metadata={
            "s3_bucket": bucket,
            "manifest_key": key,
            "manifest_uri": dg.MetadataValue.url(f"s3://{bucket}/{key}"),
            "content_hash": content_hash,
            "file_format": settings.file_format,
            "part_count": len(parts),
            "parts_uploaded": sent,
            "parts_unchanged": len(parts) - sent,
            "manifest_uploaded": int(manifest_sent),
            "rows": sum(p.rows for p in parts),
            "bytes": sum(p.size_bytes for p in parts),
            "part_keys": dg.MetadataValue.json([prefix + p.name for p in parts]),
        },
        data_version=dg.DataVersion(content_hash[:16]),
    )
