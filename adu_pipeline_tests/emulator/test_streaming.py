"""Uploads are streamed: the emulator's Python heap stays far below the object's size.

moto runs in its own process here (its in-memory S3 would otherwise be counted by tracemalloc);
the emulator runs in this one, reads the object over HTTP and stages rows in SQLite.
"""

from __future__ import annotations

import bz2
import gc
import gzip
import io
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import boto3
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline.emulator.server import EmulatorServer
from adu_pipeline_tests.emulator.conftest import Api, upload_body
from adu_pipeline_tests.fixtures.stack import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_REFRESH_TOKEN,
)
from adu_pipeline_tests.fixtures.stack import _describe as describe

ROWS = 40_000
PAYLOAD = 1000  # characters per row: ~40 MB of CSV


@pytest.fixture(scope="module")
def moto_process():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _dataset() -> dict:
    return {
        "dataSetId": "big_list",
        "columns": [
            {"name": "k", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "n", "columnType": "METRIC", "dataType": "LONG"},
            {"name": "payload", "columnType": "DIMENSION", "dataType": "STRING"},
        ],
    }


def _rows(start: int, count: int) -> list[dict]:
    return [
        {"k": f"key{i:08d}", "n": i, "payload": (f"{i:08d}" * (PAYLOAD // 8 + 1))[:PAYLOAD]}
        for i in range(start, start + count)
    ]


def _csv() -> bytes:
    out = io.StringIO()
    out.write("k,n,payload\n")
    for start in range(0, ROWS, 5000):
        for r in _rows(start, 5000):
            out.write(f"{r['k']},{r['n']},{r['payload']}\n")
    return out.getvalue().encode()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    writer = None
    for start in range(0, ROWS, 5000):
        table = pa.Table.from_pylist(_rows(start, 5000))
        writer = writer or pq.ParquetWriter(buffer, table.schema)
        writer.write_table(table, row_group_size=5000)
    writer.close()
    return buffer.getvalue()


CASES = {
    "csv": (_csv, lambda b: b, {"csvDataFormat": {}}, "NONE"),
    "csv gzip": (_csv, lambda b: gzip.compress(b, 1), {"csvDataFormat": {}}, "GZIP"),
    "csv bzip": (_csv, lambda b: bz2.compress(b, 1), {"csvDataFormat": {}}, "BZIP"),
    "parquet": (_parquet, lambda b: b, {"parquetDataFormat": "PARQUET_DATA_FORMAT"}, "NONE"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_large_upload_ingests_in_bounded_memory(request, moto_process, tmp_path, case):
    make, compress, fmt, compression = CASES[case]
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_process,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    bucket = f"big-{case.replace(' ', '-')}"
    s3.create_bucket(Bucket=bucket)
    raw = make()
    raw_size = len(_csv()) if case == "parquet" else len(raw)  # the decoded size of the rows
    s3.put_object(Bucket=bucket, Key="big/object", Body=compress(raw))
    del raw
    gc.collect()
    server = EmulatorServer(
        "127.0.0.1",
        0,
        tmp_path / "state",
        moto_process,
        step_seconds=2.0,  # reading starts 2 steps after the upload is created
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        refresh_token=TEST_REFRESH_TOKEN,
    ).start()
    request.addfinalizer(server.stop)
    describe(server)
    api = Api(server)
    assert api.create_dataset(_dataset()).status_code == 200
    # warm up (imports, the S3 client's service model) so the peak shows only the upload
    s3.put_object(Bucket=bucket, Key="small/object", Body=b"k,n,payload\nk1,1,p\n")
    warm = upload_body(bucket, key="small/object", strategy="ADDITIVE")
    assert api.upload_and_wait("big_list", warm)["status"] == "SUCCESS"
    body = upload_body(bucket, key="big/object", fmt=fmt, compression=compression)
    upload_id = api.upload("big_list", body).json()["uploadId"]
    # Reading starts 2 steps (4 s) later. werkzeug drains each request's socket into a 10 MB
    # buffer just after answering, so let that pass and poll the state instead of HTTP.
    time.sleep(0.3)
    gc.collect()
    started = server.app.store.one("SELECT count(*) AS n FROM rows WHERE upload_id=?", (upload_id,))
    assert server.app.store.get_upload(upload_id)["status"] in ("SUBMITTED", "IN_PROGRESS")
    assert started["n"] == 0, "the upload was read before tracing began (a loaded machine?)"
    tracemalloc.start()
    try:
        deadline = time.monotonic() + 600
        while server.app.store.get_upload(upload_id)["status"] not in ("SUCCESS", "FAILED"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    upload = api.get_upload("big_list", upload_id)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"] == {"OutputRowCount": ROWS}
    print(f"{case}: {raw_size / 2**20:.1f} MiB decoded, Python peak {peak / 2**20:.1f} MiB")
    assert peak < raw_size / 4, f"peak {peak} for {raw_size} bytes"
    count = server.app.store.one("SELECT count(*) AS n FROM rows WHERE upload_id=?", (upload_id,))
    assert count["n"] == ROWS
