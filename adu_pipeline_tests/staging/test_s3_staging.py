"""stage_partition against moto's real S3 server: content-addressed keys (a new delivery never
overwrites the objects an earlier upload reads), a manifest only after its parts (a writer killed
with kill -9 mid-write leaves no manifest naming a missing or partial object), and the clean-up
of what killed writers leave: abandoned multipart uploads and temp part folders."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from adu_pipeline.staging.parts import TEMP_PREFIX, remove_stale_part_folders
from adu_pipeline.staging.processes import process_alive
from adu_pipeline.staging.s3 import CONTENT_HASH_KEY, abort_stale_multipart_uploads, stage_partition
from adu_pipeline_tests.staging.gated_s3 import gated_s3  # noqa: F401 - fixture

PREFIX = "adu/crm/export_date=2026-11-30/"
MAX_PART_BYTES = 20_000


def hashed_source(path: Path, rows: int, seed: int) -> Path:
    """A parquet like the hashed output: hex columns, so the gzip parts do not shrink much."""
    values = [hashlib.sha256(f"{seed}-{i}".encode()).hexdigest() for i in range(rows)]
    pq.write_table(pa.table({"email": values, "phone": values[::-1]}), path)
    return path


def stage(client, bucket: str, source: Path, **kw):
    return stage_partition(
        client, bucket, PREFIX, source, file_format="csv_gz", max_part_bytes=MAX_PART_BYTES,
        instance_ids=["amcabc123"], **kw,
    )  # fmt: skip


def manifest_entries(client, bucket: str, key: str) -> list[str]:
    text = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [line.split(f"s3://{bucket}/", 1)[1] for line in text.splitlines()]


def assert_complete(client, bucket: str, manifest_key: str) -> None:
    """Every object a manifest names is there, whole (its bytes hash to its recorded hash)."""
    for key in manifest_entries(client, bucket, manifest_key):
        data = client.get_object(Bucket=bucket, Key=key)
        body = data["Body"].read()
        assert hashlib.sha256(body).hexdigest() == data["Metadata"][CONTENT_HASH_KEY], key


def test_each_content_has_its_own_keys_and_a_redelivery_sends_nothing(
    tmp_path, s3_client, s3_bucket
):
    a = stage(s3_client, s3_bucket, hashed_source(tmp_path / "a.parquet", 900, seed=1))
    a_bytes = {k: s3_client.get_object(Bucket=s3_bucket, Key=k)["Body"].read() for k in a.part_keys}
    b = stage(s3_client, s3_bucket, hashed_source(tmp_path / "b.parquet", 700, seed=2))
    assert len(a.parts) >= 2 and a.parts_uploaded == len(a.parts)
    assert a.manifest_key != b.manifest_key and not set(a.part_keys) & set(b.part_keys)
    assert all(k.startswith(f"{PREFIX}{a.content_hash[:16]}/part-") for k in a.part_keys)
    assert manifest_entries(s3_client, s3_bucket, a.manifest_key) == list(a.part_keys)
    for key, data in a_bytes.items():  # B did not touch what an upload of A reads
        assert s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == data
    again = stage(s3_client, s3_bucket, tmp_path / "a.parquet")
    assert again.manifest_key == a.manifest_key
    assert again.parts_uploaded == 0 and not again.manifest_uploaded
    assert "0 sent (not in S3)" in again.summary


STAGE_SCRIPT = """
import json, sys
from pathlib import Path
import boto3
from adu_pipeline.staging.s3 import stage_partition
a = json.loads(sys.argv[1])
client = boto3.client("s3", endpoint_url=a["endpoint"], aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")
stage_partition(client, a["bucket"], a["prefix"], Path(a["source"]), file_format="csv_gz",
                max_part_bytes=a["max"], instance_ids=["amcabc123"])
"""


def test_a_writer_killed_mid_write_leaves_no_manifest_and_the_rerun_completes(
    tmp_path,
    monkeypatch,
    s3_client,
    s3_bucket,
    gated_s3,  # noqa: F811
):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = hashed_source(tmp_path / "a.parquet", 1200, seed=3)
    gated_s3.hold(
        lambda method, path, query: method == "PUT" and path.endswith("/part-00001.csv.gz")
    )
    args = {"endpoint": gated_s3.endpoint_url, "bucket": s3_bucket, "prefix": PREFIX,
            "source": str(source), "max": MAX_PART_BYTES}  # fmt: skip
    writer = subprocess.Popen(
        [sys.executable, "-c", STAGE_SCRIPT, json.dumps(args)],
        env={**os.environ, "TMPDIR": str(temp)},
    )
    try:
        assert gated_s3.arrived.wait(120), "the writer never reached its second part"
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(30)
    finally:
        if writer.poll() is None:
            writer.kill()
        gated_s3.release()
    left = sorted(k["Key"] for k in s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", []))
    assert left and all("/part-00000" in k for k in left)  # one whole part, no manifest
    assert [p.name.startswith(f"{TEMP_PREFIX}{writer.pid}-") for p in temp.iterdir()] == [True]

    rerun = stage(s3_client, s3_bucket, source)
    assert rerun.temp_folders_removed == 1 and list(temp.iterdir()) == []
    assert rerun.parts_uploaded == len(rerun.parts) - 1 and rerun.manifest_uploaded
    assert_complete(s3_client, s3_bucket, rerun.manifest_key)


def test_abandoned_multipart_uploads_are_aborted_live_ones_kept(tmp_path, s3_client, s3_bucket):
    key = f"{PREFIX}0123456789abcdef/part-00000.csv.gz"
    other = "adu/crm/export_date=2026-11-29/0123456789abcdef/part-00000.csv.gz"
    for k in (key, other):
        started = s3_client.create_multipart_upload(Bucket=s3_bucket, Key=k)
        s3_client.upload_part(
            Bucket=s3_bucket, Key=k, UploadId=started["UploadId"], PartNumber=1, Body=b"x" * 1024
        )
    assert abort_stale_multipart_uploads(s3_client, s3_bucket, PREFIX) == 0  # active just now
    staged = stage(
        s3_client, s3_bucket, hashed_source(tmp_path / "a.parquet", 100, 4),
        stale_multipart_seconds=0,
    )  # fmt: skip
    assert staged.multipart_aborted == 1 and "aborted 1 abandoned multipart" in staged.summary
    left = s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == [other]  # another partition's writer is not ours to stop


def test_part_folders_of_live_processes_are_kept(tmp_path):
    mine = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-abc"
    mine.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    gone = tmp_path / f"{TEMP_PREFIX}{child.pid}-def"
    gone.mkdir()
    (gone / "part-00000.csv.gz").write_bytes(b"partial")
    unrelated = tmp_path / "adu-parts-notapid"
    unrelated.mkdir()
    assert remove_stale_part_folders(tmp_path) == 1
    assert mine.exists() and not gone.exists() and unrelated.exists()


def test_process_alive_tells_a_reused_pid_from_its_first_owner():
    me = os.getpid()
    assert process_alive(me) and process_alive(me, recorded_at=2e9)
    if Path("/proc").is_dir():
        assert not process_alive(me, recorded_at=1.0)  # started after that moment: another one
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        time.sleep(0.5)  # not reaped yet: a zombie already counts as gone
        assert not process_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid)
