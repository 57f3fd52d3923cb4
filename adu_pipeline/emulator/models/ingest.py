"""Upload processing: read the objects from S3, check every row against the dataset, resolve ids.

Like AMC, one bad row or column fails the whole upload; the message names the object, the row
(1-based data row, header excluded) and the column, never the value.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import boto3
import pyarrow.parquet as pq
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.matching import IdentityColumns, resolve

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT_TEXT = re.compile(r"^[+-]?\d+$")
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1), "LONG": (-(2**63), 2**63 - 1)}
MAX_BUCKETS = 100
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


class UploadFailed(Exception):
    """The upload ends FAILED with this message."""


@dataclass(frozen=True)
class IngestResult:
    rows: list[tuple[str, dict]]  # (partition, stored row)
    rows_read: int
    rows_matched: int


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


def ingest(config: EmulatorConfig, s3, dataset: dict, request: dict) -> IngestResult:
    """Read and check every object of the upload; return the rows ready to store."""
    objects = list_objects(s3, request["dataSource"])
    if not objects:
        raise UploadFailed("No objects found for the data source.")
    checker = RowChecker(dataset, request.get("countryCode"), config)
    # a CSV "header" may really be a data row, so unknown CSV header names are never echoed
    checker.echo_unknown_names = "csvDataFormat" not in request["fileFormat"]
    out: list[tuple[str, dict]] = []
    for bucket, key in objects:
        data = read_object(s3, bucket, key)
        data = decompress(data, request["compressionFormat"], request["fileFormat"], bucket, key)
        for number, record in records(data, request["fileFormat"], bucket, key):
            out.append(checker.check(record, f"s3://{bucket}/{key} row {number}"))
    return IngestResult(out, len(out), checker.matched)


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
        name = key.rsplit("/", 1)[-1]
        if name.startswith((".", "_")):
            raise UploadFailed(f"Object names must not start with '.' or '_': s3://{b}/{key}")
    if len({b for b, _ in objects}) > MAX_BUCKETS:
        raise UploadFailed(f"An upload may read from at most {MAX_BUCKETS} buckets.")
    return objects


def _under_prefix(s3, bucket: str, prefix: str) -> list[tuple[str, str]]:
    keys = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    except ClientError as exc:
        raise UploadFailed(_s3_message(exc, bucket, prefix)) from None
    except BotoCoreError as exc:
        raise UploadFailed(f"Could not list s3://{bucket}/{prefix}: {type(exc).__name__}") from None
    return [(bucket, k) for k in sorted(keys)]


def _from_manifest(s3, bucket: str, key: str) -> list[tuple[str, str]]:
    name = key.rsplit("/", 1)[-1]
    if name.startswith((".", "_")):
        raise UploadFailed(f"Object names must not start with '.' or '_': s3://{bucket}/{key}")
    text = read_object(s3, bucket, key)
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise UploadFailed(f"Manifest s3://{bucket}/{key} is not UTF-8 text.") from None
    objects = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("s3://") or "/" not in line[5:]:
            raise UploadFailed(
                f"Manifest s3://{bucket}/{key} line {number} is not an s3://bucket/key URI."
            )
        b, _, k = line[5:].partition("/")
        objects.append((b, k))
    return objects


def read_object(s3, bucket: str, key: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise UploadFailed(_s3_message(exc, bucket, key)) from None
    except BotoCoreError as exc:
        raise UploadFailed(f"Could not read s3://{bucket}/{key}: {type(exc).__name__}") from None


def _s3_message(exc: ClientError, bucket: str, key: str) -> str:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("NoSuchBucket",):
        return f"No such file or directory 's3://{bucket}'"
    if code in ("NoSuchKey", "404", "NotFound"):
        return f"No such file or directory 's3://{bucket}/{key}'"
    if code in ("AccessDenied", "403"):
        return f"Access denied to 's3://{bucket}/{key}'"
    return f"Could not read 's3://{bucket}/{key}': {code or 'S3 error'}"


def decompress(data: bytes, compression: str, file_format: dict, bucket: str, key: str) -> bytes:
    is_gzip = data[:2] == GZIP_MAGIC
    if "parquetDataFormat" in file_format and not is_gzip:
        return data  # parquet compresses internally; either declared value is accepted
    if compression == "GZIP":
        if not is_gzip:
            raise UploadFailed(
                f"s3://{bucket}/{key} is not GZIP-compressed (compressionFormat GZIP)."
            )
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise UploadFailed(f"s3://{bucket}/{key} is a corrupt GZIP file.") from None
    if is_gzip:
        raise UploadFailed(f"s3://{bucket}/{key} is GZIP-compressed but compressionFormat is NONE.")
    return data


# --- parsing ----------------------------------------------------------------------------------


def records(data: bytes, file_format: dict, bucket: str, key: str) -> Iterator[tuple[int, dict]]:
    where = f"s3://{bucket}/{key}"
    if "parquetDataFormat" in file_format:
        yield from _parquet_records(data, where)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadFailed(f"{where} is not UTF-8 text.") from None
    if "jsonDataFormat" in file_format:
        yield from _json_records(text, where)
    else:
        yield from _csv_records(text, file_format.get("csvDataFormat") or {}, where)


def _csv_records(text: str, options: dict, where: str) -> Iterator[tuple[int, dict]]:
    lines: Any = io.StringIO(text, newline="")
    comment = options.get("commentCharacter")
    if comment:
        lines = (line for line in text.splitlines(keepends=True) if not line.startswith(comment))
    reader = csv.reader(
        lines,
        delimiter=options.get("fieldDelimiter", ","),
        quotechar=options.get("quoteCharacter", '"'),
        escapechar=options.get("quoteEscapeCharacter", "\\"),
        doublequote=True,
        strict=True,
    )
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for number, fields in enumerate(reader, start=1):
            if not fields:
                continue
            if len(fields) != len(header):
                raise UploadFailed(
                    f"{where} row {number}: expected {len(header)} fields, found {len(fields)}."
                )
            yield number, {h: (v if v != "" else None) for h, v in zip(header, fields, strict=True)}
    except csv.Error as exc:
        raise UploadFailed(f"{where} row {reader.line_num}: malformed CSV ({exc}).") from None


def _json_records(text: str, where: str) -> Iterator[tuple[int, dict]]:
    number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise UploadFailed(f"{where} row {number}: not a valid JSON object.") from None
        if not isinstance(record, dict):
            raise UploadFailed(f"{where} row {number}: each line must be one JSON object.")
        yield number, record


def _parquet_records(data: bytes, where: str) -> Iterator[tuple[int, dict]]:
    if data[:4] != PARQUET_MAGIC:
        raise UploadFailed(f"{where} is not a Parquet file.")
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        number = 0
        for batch in parquet.iter_batches(batch_size=10_000):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except UploadFailed:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise UploadFailed(
            f"{where} could not be read as Parquet ({type(exc).__name__})."
        ) from None


# --- checking ---------------------------------------------------------------------------------


class RowChecker:
    """Converts one parsed record into a stored row, or fails the upload naming row and column."""

    def __init__(self, dataset: dict, upload_country: str | None, config: EmulatorConfig):
        columns = dataset["columns"]
        self.config = config
        self.user_id_col = next((c["name"] for c in columns if c.get("isMainUserId")), None)
        self.user_type_col = next((c["name"] for c in columns if c.get("isMainUserIdType")), None)
        self.reserved = {n for n in (self.user_id_col, self.user_type_col) if n}
        self.columns = [c for c in columns if c["name"] not in self.reserved]
        self.by_name = {c["name"]: c for c in self.columns}
        self.identity_names = [c["name"] for c in self.columns if rules.is_identity(c)]
        self.identity = IdentityColumns.of(self.columns)
        self.country_col = next((c["name"] for c in self.columns if c.get("isCountryCode")), None)
        self.default_country = upload_country or dataset.get("countryCode")
        event = rules.main_event_time(self.columns)
        self.event_col = event["name"] if event else None
        self.period = dataset.get("period") or "P1D"
        self.matched = 0
        self.echo_unknown_names = True

    def check(self, record: dict, where: str) -> tuple[str, dict]:
        for name in record:
            if name in self.reserved:
                raise UploadFailed(
                    f"{where} column {name}: the resolved user id columns must not be uploaded."
                )
            if name not in self.by_name:
                if self.echo_unknown_names and SAFE_NAME.match(name):
                    raise UploadFailed(f"{where} column {name}: not a column of the data set.")
                position = list(record).index(name) + 1
                raise UploadFailed(
                    f"{where}: field {position} of the header is not a column of the data set "
                    f"(expected: {', '.join(self.by_name)})."
                )
        row = {}
        for name, column in self.by_name.items():
            row[name] = convert(record.get(name), column, f"{where} column {name}")
        has_country = bool(self.default_country) or bool(self.country_col and row[self.country_col])
        if self.config.require_country_for_matching is False:
            has_country = True
        if self.user_id_col:
            user_id, user_type = resolve(row, self.identity, self.config.match_shares, has_country)
            row[self.user_id_col] = user_id
            if self.user_type_col:
                row[self.user_type_col] = user_type
            self.matched += user_id is not None
        for name in self.identity_names:
            row[name] = None  # AMC keeps only the resolved user id, never the identifiers
        return self.partition(row), row

    def partition(self, row: dict) -> str:
        if not self.event_col:
            return ""
        value = row[self.event_col]
        if self.period == "PT1H":
            return value[:13] if "T" in value else value + "T00"
        return value[:7] if self.period == "P1M" else value[:10]


def convert(value: Any, column: dict, where: str) -> Any:
    """One value to its stored form (str, int, decimal text, ISO time text) or fail."""
    if value is None or (isinstance(value, str) and value == "" and column["dataType"] != "STRING"):
        if column.get("isMainEventTime"):
            raise UploadFailed(f"{where}: the main event time must not be null.")
        if not column.get("nullable", True):
            raise UploadFailed(f"{where}: null in a non-nullable column.")
        return None
    data_type = column["dataType"]
    if data_type == "STRING":
        out = _string(value, where)
        if rules.hashed_pii_type(column) and not SHA256_HEX.match(out):
            raise UploadFailed(
                f"{where}: hashed PII must be a SHA-256 hex digest (64 lowercase hex characters)."
            )
        if column.get("isCountryCode") and not re.fullmatch(r"[A-Z]{2}", out):
            raise UploadFailed(f"{where}: country code must be an ISO 3166 alpha-2 code.")
        return out
    if data_type in INT_RANGE:
        return _integer(value, data_type, where)
    if data_type == "DECIMAL":
        return _decimal(value, where)
    if data_type == "TIMESTAMP":
        return _timestamp(value, where)
    return _date(value, where)


def _string(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise UploadFailed(f"{where}: expected a STRING value.")
    return value if isinstance(value, str) else str(value)


def _integer(value: Any, data_type: str, where: str) -> int:
    if isinstance(value, bool):
        raise UploadFailed(f"{where}: expected an {data_type} value.")
    if isinstance(value, str) and INT_TEXT.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise UploadFailed(f"{where}: expected an {data_type} value.")
    low, high = INT_RANGE[data_type]
    if not low <= value <= high:
        raise UploadFailed(f"{where}: value out of range for {data_type}.")
    return value


def _decimal(value: Any, where: str) -> str:
    if isinstance(value, bool):
        raise UploadFailed(f"{where}: expected a DECIMAL value.")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise UploadFailed(f"{where}: expected a DECIMAL value.") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 16:
        raise UploadFailed(f"{where}: DECIMAL value out of range.")
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _timestamp(value: Any, where: str) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and TIMESTAMP_TEXT.match(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UploadFailed(f"{where}: not a valid TIMESTAMP.") from None
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise UploadFailed(f"{where}: TIMESTAMP must be yyyy-MM-ddTHH:mm:ssZ.")


def _date(value: Any, where: str) -> str:
    if isinstance(value, datetime):
        raise UploadFailed(f"{where}: DATE must be yyyy-MM-dd, not a timestamp.")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and DATE_TEXT.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise UploadFailed(f"{where}: not a valid DATE.") from None
    raise UploadFailed(f"{where}: DATE must be yyyy-MM-dd.")
