"""`adu amc upload`, `upload-status` and `uploads list`: Advertiser Data Uploads from S3."""

from __future__ import annotations

from typing import Any

import click

from adu_pipeline.amc.bodies import upload_request
from adu_pipeline.amc.cli.common import (
    Connection,
    amc_command,
    exactly_one,
    note,
    poll_printer,
    wait_options,
)
from adu_pipeline.amc.models import Upload


@amc_command("upload", "start an upload from S3 (idempotent)")
@click.option("--dataset", required=True, help="dataSetId")
@click.option("--bucket", required=True, help="S3 bucket AMC reads from")
@click.option("--manifest-key", default=None, help="key of a manifest listing s3:// URIs")
@click.option("--key", default=None, help="key of a single file")
@click.option("--prefix", default=None, help="prefix of several files")
@click.option(
    "--format", "file_format", default="csv", type=click.Choice(["csv", "jsonl", "parquet"])
)
@click.option("--compression", default="gzip", type=click.Choice(["gzip", "none"]))
@click.option(
    "--strategy",
    default="full_replace",
    type=click.Choice(["additive", "full_replace", "overlap_replace", "overlap_keep"]),
)
@click.option("--country", default=None, help="upload-level ISO country code, e.g. US")
@click.option("--force", is_flag=True, help="start even if this source was uploaded")
@wait_options
def upload(
    conn: Connection,
    dataset: str,
    bucket: str,
    manifest_key: str | None,
    key: str | None,
    prefix: str | None,
    file_format: str,
    compression: str,
    strategy: str,
    country: str | None,
    force: bool,
    wait: bool,
    timeout: float,
    max_interval: float,
) -> int:
    exactly_one(manifest_key=manifest_key, key=key, prefix=prefix)
    body = upload_request(
        bucket,
        key=key,
        prefix=prefix,
        manifest_key=manifest_key,
        file_format=file_format,
        compression=compression,
        update_strategy=strategy,
        country_code=country,
    )
    with conn.client() as client:
        result = client.find_or_create_upload(dataset, body, force=force)
        found = result.upload
        if not result.created:
            note(
                f"an upload of this source already exists ({found.upload_id}, "
                f"{found.status_raw}); reusing it (--force starts another)"
            )
        if wait:
            found = client.wait_for_upload(
                dataset,
                found.upload_id,
                timeout=timeout,
                max_interval=max_interval,
                on_poll=poll_printer(upload_line),
            )
    data = {**upload_json(found), "action": "created" if result.created else "reused"}
    conn.emit(data, [upload_line(found)])
    return 1 if found.status.is_failure else 0


@amc_command("upload-status", "show (or wait for) an upload")
@click.option("--dataset", required=True)
@click.option("--upload", "upload_id", required=True)
@wait_options
def upload_status(
    conn: Connection, dataset: str, upload_id: str, wait: bool, timeout: float, max_interval: float
) -> int:
    with conn.client() as client:
        if wait:
            found = client.wait_for_upload(
                dataset,
                upload_id,
                timeout=timeout,
                max_interval=max_interval,
                on_poll=poll_printer(upload_line),
            )
        else:
            found = client.get_upload(dataset, upload_id)
    conn.emit(upload_json(found), [upload_line(found)])
    return 1 if found.status.is_failure else 0


@click.group("uploads", help="uploads in AMC")
def uploads() -> None:
    pass


@amc_command("list", "list uploads")
@click.option("--dataset", default=None, help="only uploads of this dataSetId")
@click.option("--status", default=None, help="only uploads in this status")
@click.option("--page-size", type=int, default=None)
def list_(conn: Connection, dataset: str | None, status: str | None, page_size: int | None) -> int:
    with conn.client() as client:
        found = client.list_uploads(dataset_id=dataset, status=status, page_size=page_size)
    conn.emit(
        {"uploads": [upload_json(u) for u in found]},
        [upload_line(u) for u in found] or ["no uploads"],
    )
    return 0


uploads.add_command(list_)


def upload_line(u: Upload) -> str:
    rows = f" rows={u.output_row_count}" if u.output_row_count is not None else ""
    msg = f"  message: {u.message}" if u.message else ""
    src = u.data_source
    where = (
        src.get("sourceManifestS3Key") or src.get("sourceFileS3Key") or src.get("sourceS3Prefix")
    )
    source = f" s3://{src.get('sourceS3Bucket')}/{where}" if where else ""
    return (
        f"upload {u.upload_id}  dataset={u.dataset_id}  status={u.status_raw}{rows}"
        f"  created={u.created_at or '-'}{source}{msg}"
    )


def upload_json(u: Upload) -> dict[str, Any]:
    return {**u.raw, "uploadId": u.upload_id, "dataSetId": u.dataset_id, "status": u.status_raw}


COMMANDS = (upload, upload_status, uploads)
