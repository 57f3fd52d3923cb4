"""Put one hashed partition into S3 as parts plus a manifest AMC reads.

Keys are content-addressed: the parts of a partition's content live under
`{partition prefix}{content hash16}/part-NNNNN{ext}` and its manifest is
`{partition prefix}manifest-{content hash16}.txt`, so a new delivery never overwrites the objects
an earlier upload (maybe still queued in AMC) reads. Every part is complete in S3 before the
manifest naming it is written, and a single PUT or a completed multipart upload is atomic, so a
crash at any point never leaves a manifest that names a partial or missing object. A staging
also cleans up after killed ones: multipart uploads under the partition with no activity for a
while are aborted and temp part folders of dead processes removed.

Objects are tagged `instanceId` with every instance that reads them (API.md 3.5: a
space-separated list, at most 25), request AES256 server-side encryption, and are skipped when S3
already holds the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError

from adu_pipeline.errors import InputError
from adu_pipeline.staging.parts import (
    Part,
    combined_hash,
    remove_stale_part_folders,
    temp_parts_dir,
    write_parts,
)

CONTENT_HASH_KEY = "content-sha256"
MAX_INSTANCES_PER_TAG = 25
STALE_MULTIPART_SECONDS = 600.0  # no part added for this long: its writer is gone


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
    multipart_aborted: int | None = 0  # None: not permitted to list multipart uploads
    temp_folders_removed: int = 0

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def size_bytes(self) -> int:
        return sum(p.size_bytes for p in self.parts)

    @property
    def summary(self) -> str:
        """One line for the run log: what was sent and why, what was cleaned up."""
        count, sent = len(self.parts), self.parts_uploaded
        text = f"{count} parts: {sent} sent (not in S3), {count - sent} already there; "
        text += f"manifest {self.manifest_key} " + (
            "sent" if self.manifest_uploaded else "already there"
        )
        if self.multipart_aborted is None:
            text += "; abandoned multipart uploads not checked (s3:ListBucketMultipartUploads)"
        elif self.multipart_aborted:
            text += f"; aborted {self.multipart_aborted} abandoned multipart uploads"
        if self.temp_folders_removed:
            text += f"; removed {self.temp_folders_removed} temp part folders of dead processes"
        return text


def partition_prefix(prefix: str, partition_key: str | None) -> str:
    """`{prefix}/export_date={date}/` for a FACT partition, `{prefix}/full/` for a DIMENSION."""
    folder = f"export_date={partition_key}" if partition_key else "full"
    return f"{prefix.strip('/')}/{folder}/"


def manifest_key(prefix: str, content_hash: str) -> str:
    return f"{prefix}manifest-{content_hash[:16]}.txt"


def content_folder(prefix: str, content_hash: str) -> str:
    """Where the parts of one content live: a new content never reuses an older one's keys."""
    return f"{prefix}{content_hash[:16]}/"


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


def abort_stale_multipart_uploads(
    client: Any, bucket: str, prefix: str, *, idle_seconds: float = STALE_MULTIPART_SECONDS
) -> int | None:
    """Abort multipart uploads under `prefix` with no part added for `idle_seconds` (a writer
    killed mid-part leaves one behind, billed and invisible); returns how many, or None when
    the credentials may not list them (the bucket's lifecycle rule is then the only clean-up)."""
    now = datetime.now(UTC)
    aborted = 0
    try:
        pages = list(
            client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("AccessDenied", "403"):
            return None
        raise
    for page in pages:
        for upload in page.get("Uploads", []):
            key, upload_id = upload["Key"], upload["UploadId"]
            parts = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])
            last = max([upload["Initiated"], *(p["LastModified"] for p in parts)])
            if (now - last).total_seconds() < idle_seconds:
                continue
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:  # finished or aborted by someone else meanwhile
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                continue
            aborted += 1
    return aborted


def stage_partition(
    client: Any,
    bucket: str,
    prefix: str,
    source: Path,
    *,
    file_format: str,
    max_part_bytes: int,
    instance_ids: list[str] | tuple[str, ...],
    stale_multipart_seconds: float = STALE_MULTIPART_SECONDS,
) -> StagedPartition:
    """Cut `source` (hashed parquet) into parts, upload the missing ones, then the manifest."""
    tagging = instance_tag(instance_ids)
    removed = remove_stale_part_folders()
    aborted = abort_stale_multipart_uploads(
        client, bucket, prefix, idle_seconds=stale_multipart_seconds
    )
    with temp_parts_dir() as tmp:
        parts = write_parts(
            source, Path(tmp), file_format=file_format, max_part_bytes=max_part_bytes
        )
        content_hash = combined_hash(parts)
        folder = content_folder(prefix, content_hash)
        part_keys = tuple(folder + p.name for p in parts)
        sent = sum(
            put_file(client, bucket, key, p.path, p.sha256, tagging)
            for key, p in zip(part_keys, parts, strict=True)
        )
        manifest = Path(tmp) / "manifest.txt"
        manifest.write_text("".join(f"s3://{bucket}/{key}\n" for key in part_keys))
        key = manifest_key(prefix, content_hash)
        manifest_sent = put_file(client, bucket, key, manifest, content_hash, tagging)
    return StagedPartition(
        bucket=bucket,
        prefix=prefix,
        manifest_key=key,
        content_hash=content_hash,
        parts=tuple(parts),
        part_keys=part_keys,
        parts_uploaded=sent,
        manifest_uploaded=manifest_sent,
        multipart_aborted=aborted,
        temp_folders_removed=removed,
    )
