"""Put one hashed partition into S3 as parts plus a manifest AMC reads.

Keys are deterministic per dataset and partition ({prefix}/export_date={date}/part-NNNNN, and
manifest-{content hash}.txt), so an upload names exactly the content it loads. Objects are tagged
`instanceId` with every instance that reads them (API.md 3.5: a space-separated list, at most 25),
request AES256 server-side encryption, and are skipped when S3 already holds the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError

from adu_pipeline.errors import InputError
from adu_pipeline.staging.parts import Part, combined_hash, temp_parts_dir, write_parts

CONTENT_HASH_KEY = "content-sha256"
MAX_INSTANCES_PER_TAG = 25


@dataclass(frozen=True)
class StagedPartition:
    bucket: str
    prefix: str
    manifest_key: str
    content_hash: str
    parts: tuple[Part, ...]
    part_keys: tuple[str, ...]
    parts_uploaded: int
    manifest_uploaded: bool

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def size_bytes(self) -> int:
        return sum(p.size_bytes for p in self.parts)


def partition_prefix(prefix: str, partition_key: str | None) -> str:
    """`{prefix}/export_date={date}/` for a FACT partition, `{prefix}/full/` for a DIMENSION."""
    folder = f"export_date={partition_key}" if partition_key else "full"
    return f"{prefix.strip('/')}/{folder}/"


def manifest_key(prefix: str, content_hash: str) -> str:
    return f"{prefix}manifest-{content_hash[:16]}.txt"


def instance_tag(instance_ids: list[str] | tuple[str, ...]) -> str:
    if not instance_ids or len(instance_ids) > MAX_INSTANCES_PER_TAG:
        raise InputError(f"an S3 object is read by 1 to {MAX_INSTANCES_PER_TAG} AMC instances")
    return urlencode({"instanceId": " ".join(sorted(instance_ids))}, quote_via=quote)


def ensure_bucket(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)


def stored_hash(client: Any, bucket: str, key: str) -> str | None:
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return (head.get("Metadata") or {}).get(CONTENT_HASH_KEY)


def put_file(client: Any, bucket: str, key: str, path: Path, sha256: str, tagging: str) -> bool:
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
            "Tagging": tagging,
        },
    )
    return True


def stage_partition(
    client: Any,
    bucket: str,
    prefix: str,
    source: Path,
    *,
    file_format: str,
    max_part_bytes: int,
    instance_ids: list[str] | tuple[str, ...],
) -> StagedPartition:
    """Cut `source` (hashed parquet) into parts, upload the changed ones and the manifest."""
    tagging = instance_tag(instance_ids)
    with temp_parts_dir() as tmp:
        parts = write_parts(
            source, Path(tmp), file_format=file_format, max_part_bytes=max_part_bytes
        )
        sent = sum(
            put_file(client, bucket, prefix + p.name, p.path, p.sha256, tagging) for p in parts
        )
        content_hash = combined_hash(parts)
        manifest = Path(tmp) / "manifest.txt"
        manifest.write_text("".join(f"s3://{bucket}/{prefix}{p.name}\n" for p in parts))
        key = manifest_key(prefix, content_hash)
        manifest_sent = put_file(client, bucket, key, manifest, content_hash, tagging)
    return StagedPartition(
        bucket=bucket,
        prefix=prefix,
        manifest_key=key,
        content_hash=content_hash,
        parts=tuple(parts),
        part_keys=tuple(prefix + p.name for p in parts),
        parts_uploaded=sent,
        manifest_uploaded=manifest_sent,
    )
