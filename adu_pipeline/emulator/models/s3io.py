"""S3 as AMC reads it: the objects of a data source, streamed (never read whole), and the access
rules AMC applies to buckets outside the connected AWS account (instanceId tag, bucket policy).

Every S3 problem becomes `UploadFailed` with one line naming the object, never a value.
"""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from adu_pipeline.emulator.config import EmulatorConfig

MAX_BUCKETS = 100
READ_CHUNK = 1 << 20
TAG_KEY = "instanceId"
POLICY_ACTIONS = ("s3:GetObject", "s3:ListBucket")


class UploadFailed(Exception):
    """The upload ends FAILED with this message."""


def s3_client(config: EmulatorConfig, endpoint_url: str | None):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=config.s3_access_key_id,
        aws_secret_access_key=config.s3_secret_access_key,
        region_name=config.s3_region,
        config=BotoConfig(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60
        ),
    )


def s3_message(exc: ClientError, bucket: str, key: str) -> str:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("NoSuchBucket",):
        return f"No such file or directory 's3://{bucket}'"
    if code in ("NoSuchKey", "404", "NotFound"):
        return f"No such file or directory 's3://{bucket}/{key}'"
    if code in ("AccessDenied", "403"):
        return f"Access denied to 's3://{bucket}/{key}'"
    return f"Could not read 's3://{bucket}/{key}': {code or 'S3 error'}"


def _s3_call(what: str, bucket: str, key: str, call, **kwargs) -> Any:
    try:
        return call(**kwargs)
    except ClientError as exc:
        raise UploadFailed(s3_message(exc, bucket, key)) from None
    except BotoCoreError as exc:
        raise UploadFailed(f"Could not {what} s3://{bucket}/{key}: {type(exc).__name__}") from None


# --- streams ----------------------------------------------------------------------------------


class _BodyStream(io.RawIOBase):
    """A boto3 StreamingBody as a raw stream, so io.BufferedReader can peek and read in chunks."""

    def __init__(self, body, where: str):
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._body.read(len(buffer))
        except (BotoCoreError, OSError) as exc:
            raise UploadFailed(f"Could not read {self._where}: {type(exc).__name__}") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class RangeFile(io.RawIOBase):
    """A seekable, read-only view of one S3 object through ranged GETs (Parquet footers, ZIP
    directories): memory stays at the reader's buffer whatever the object's size."""

    def __init__(self, s3, bucket: str, key: str, size: int):
        self._s3, self._bucket, self._key = s3, bucket, key
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size or len(buffer) == 0:
            return 0
        end = min(self._size, self._pos + len(buffer)) - 1
        where = f"s3://{self._bucket}/{self._key}"
        reply = _s3_call(
            "read",
            self._bucket,
            self._key,
            self._s3.get_object,
            Bucket=self._bucket,
            Key=self._key,
            Range=f"bytes={self._pos}-{end}",
        )
        try:
            data = reply["Body"].read()
        except (BotoCoreError, OSError) as exc:
            raise UploadFailed(f"Could not read {where}: {type(exc).__name__}") from None
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def open_stream(s3, bucket: str, key: str) -> io.BufferedReader:
    """The object as a buffered, forward-only stream (peek() shows the first bytes)."""
    reply = _s3_call("read", bucket, key, s3.get_object, Bucket=bucket, Key=key)
    return io.BufferedReader(_BodyStream(reply["Body"], f"s3://{bucket}/{key}"), READ_CHUNK)


def open_seekable(s3, bucket: str, key: str) -> io.BufferedReader:
    """The object as a seekable buffered file over ranged GETs."""
    head = _s3_call("read", bucket, key, s3.head_object, Bucket=bucket, Key=key)
    return io.BufferedReader(RangeFile(s3, bucket, key, int(head["ContentLength"])), READ_CHUNK)


# --- sources ----------------------------------------------------------------------------------


def list_objects(s3, source: dict) -> list[tuple[str, str]]:
    bucket = source["sourceS3Bucket"]
    if source.get("sourceFileS3Key"):
        objects = [(bucket, source["sourceFileS3Key"])]
    elif source.get("sourceS3Prefix"):
        objects = _under_prefix(s3, bucket, source["sourceS3Prefix"])
    else:
        objects = _from_manifest(s3, bucket, source["sourceManifestS3Key"])
    for b, key in objects:
        check_name(b, key)
    if len({b for b, _ in objects}) > MAX_BUCKETS:
        raise UploadFailed(f"An upload may read from at most {MAX_BUCKETS} buckets.")
    return objects


def check_name(bucket: str, key: str) -> None:
    if key.rsplit("/", 1)[-1].startswith((".", "_")):
        raise UploadFailed(f"Object names must not start with '.' or '_': s3://{bucket}/{key}")


def _under_prefix(s3, bucket: str, prefix: str) -> list[tuple[str, str]]:
    keys: list[str] = []

    def collect() -> None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))

    _s3_call("list", bucket, prefix, collect)
    return [(bucket, k) for k in sorted(keys)]


def _from_manifest(s3, bucket: str, key: str) -> list[tuple[str, str]]:
    """One s3://bucket/key per line, read line by line (a manifest may be long)."""
    check_name(bucket, key)
    objects = []
    text = io.TextIOWrapper(open_stream(s3, bucket, key), encoding="utf-8", newline=None)
    try:
        for number, line in enumerate(text, start=1):
            line = line.strip()
            if not line:
                continue
            if not line.startswith("s3://") or "/" not in line[5:]:
                raise UploadFailed(
                    f"Manifest s3://{bucket}/{key} line {number} is not an s3://bucket/key URI."
                )
            b, _, k = line[5:].partition("/")
            objects.append((b, k))
    except UnicodeDecodeError:
        raise UploadFailed(f"Manifest s3://{bucket}/{key} is not UTF-8 text.") from None
    finally:
        text.close()
    return objects


# --- access rules (hostile option) -------------------------------------------------------------


def check_access(
    s3,
    objects: list[tuple[str, str]],
    instance_id: str,
    aws_account_id: str,
    *,
    tag: bool,
    policy: bool,
) -> None:
    """AMC outside the connected account: each object's bucket (or the object itself) must carry
    the `instanceId` tag naming the instance, and the bucket policy must let the instance's
    dataUploadAwsAccountId read it (API.md 3.5)."""
    tagged_buckets: set[str] = set()
    readable_buckets: set[str] = set()
    for bucket, key in objects:
        if tag and bucket not in tagged_buckets:
            if _tagged(s3, bucket, None, instance_id):
                tagged_buckets.add(bucket)
            elif not _tagged(s3, bucket, key, instance_id):
                raise UploadFailed(
                    f"Access denied to 's3://{bucket}/{key}': neither the bucket nor the object "
                    f"is tagged {TAG_KEY} with this AMC instance."
                )
        if policy and bucket not in readable_buckets:
            if not _policy_allows(s3, bucket, aws_account_id):
                raise UploadFailed(
                    f"Access denied to 's3://{bucket}': the bucket policy does not allow AMC's "
                    f"account {aws_account_id} to read it."
                )
            readable_buckets.add(bucket)


def _tagged(s3, bucket: str, key: str | None, instance_id: str) -> bool:
    try:
        if key is None:
            tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        else:
            tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchTagSet", "NoSuchTagSetError"):
            return False
        raise UploadFailed(s3_message(exc, bucket, key or "")) from None
    except BotoCoreError as exc:
        raise UploadFailed(f"Could not read the tags of s3://{bucket}: {type(exc).__name__}") from (
            None
        )
    return any(t["Key"] == TAG_KEY and instance_id in t["Value"].split() for t in tags)


def _policy_allows(s3, bucket: str, aws_account_id: str) -> bool:
    try:
        text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "NoSuchBucketPolicy":
            return False
        raise UploadFailed(s3_message(exc, bucket, "")) from None
    except BotoCoreError as exc:
        name = type(exc).__name__
        raise UploadFailed(f"Could not read the policy of s3://{bucket}: {name}") from None
    try:
        statements = json.loads(text).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    wanted = {"s3:GetObject", "s3:*", "s3:Get*", "*"}
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        if aws_account_id not in json.dumps(st.get("Principal", "")):
            continue
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if wanted & set(actions):
            return True
    return False
