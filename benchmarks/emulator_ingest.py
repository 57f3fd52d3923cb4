"""The AMC emulator alone: one crm_customers upload (gzip CSV part, as the pipeline sends it)
ingested and one audience built, through the batch path and through the row path, side by side.

    .venv/bin/python benchmarks/emulator_ingest.py --rows 200000 [--row-path] [--profile]

Writes a synthetic export (adu_pipeline.local.sample_data, unique ids), hashes it and cuts the
gzip CSV part locally (not timed), puts it in moto's S3 (in this process, as LocalStack does),
then for each path starts a fresh emulator and times CreateUpload -> SUCCESS and the
loyal_customers audience -> SUCCEEDED over HTTP. `--row-path` adds the row path (slow: ~15k
rows/s); `--profile` prints the worker thread's top functions (cProfile) for the batch path.
Prints the table; exits 1 if the two paths store different rows.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx

from adu_pipeline.dataset.loader import load_definition
from adu_pipeline.dataset.segments import load_segment
from adu_pipeline.emulator.config import Credentials, EmulatorConfig, Timing
from adu_pipeline.emulator.models import jobs
from adu_pipeline.emulator.server import EmulatorServer
from adu_pipeline.hashing import HashPlan, hash_file
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.staging.parts import write_parts

PROJECT = Path(__file__).resolve().parents[1]
DATASET = PROJECT / "data" / "datasets" / "crm_customers.yaml"
SEGMENT = PROJECT / "data" / "segments" / "loyal_customers.yaml"
CLIENT = Credentials(client_id="bench", client_secret="bench", refresh_token="bench-refresh")
ADU = "application/vnd.amcadvertiserdataset.v1+json"
UPLOAD = "application/vnd.amcadvertiserdataupload.v1+json"
AUDIENCE = "application/vnd.amcquerybasedaudience.v1+json"


class Api:
    def __init__(self, server: EmulatorServer):
        self.http = httpx.Client(base_url=server.url, timeout=60)
        token = self.http.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": CLIENT.refresh_token,
                "client_id": CLIENT.client_id,
                "client_secret": CLIENT.client_secret,
            },
        ).json()["access_token"]
        instance = server.app.config.instances[0]
        account = server.app.config.account_of(instance.instance_id)
        self.instance = instance.instance_id
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Amazon-Advertising-API-ClientId": CLIENT.client_id,
            "Amazon-Advertising-API-AdvertiserId": account.account_id,
            "Amazon-Advertising-API-MarketplaceId": account.marketplace_id,
            "Amazon-Marketing-Cloud-Audience-InstanceId": instance.instance_id,
        }

    def post(self, path: str, body: dict, media: str) -> dict:
        resp = self.http.post(
            path, content=json.dumps(body), headers={**self.headers, "Content-Type": media}
        )
        resp.raise_for_status()
        return resp.json()

    def until(self, path: str, key: str, done: tuple[str, ...]) -> dict:
        while True:
            item = self.http.get(path, headers=self.headers).json()
            item = item.get(key, item)
            if item["status"] in done:
                return item
            time.sleep(0.1)


def run(path: str, state: Path, s3_url: str, bucket: str, key: str, profile: bool) -> dict:
    defn, segment = load_definition(DATASET), load_segment(SEGMENT)
    config = EmulatorConfig(
        credentials=CLIENT, timing=Timing(step_seconds=0.2), batch_ingest=path == "batch"
    )
    profiler = cProfile.Profile() if profile else None
    original = jobs.Worker._ingest
    if profiler is not None:
        jobs.Worker._ingest = lambda self, row: profiler.runcall(original, self, row)
    server = EmulatorServer("127.0.0.1", 0, state, s3_url, config=config).start()
    try:
        api = Api(server)
        adu = f"/amc/advertiserData/{api.instance}"
        api.post(f"{adu}/dataSets", defn.create_body(), ADU)
        started = time.monotonic()
        body = {
            "dataSource": {"sourceS3Bucket": bucket, "sourceFileS3Key": key},
            "fileFormat": {"csvDataFormat": {"fieldDelimiter": ","}},
            "compressionFormat": "GZIP",
            "updateStrategy": "OVERLAP_REPLACE",
        }
        upload_id = api.post(f"{adu}/uploads/{defn.id}", body, UPLOAD)["uploadId"]
        upload = api.until(f"{adu}/uploads/{defn.id}/{upload_id}", "upload", ("SUCCESS", "FAILED"))
        ingest = time.monotonic() - started
        if upload["status"] != "SUCCESS":
            sys.exit(f"{path} path: upload {upload['status']}: {upload.get('message')}")
        started = time.monotonic()
        created = api.post(
            "/amc/audiences/query", segment.audience_body(dt.datetime.now(dt.UTC)), AUDIENCE
        )
        audience_id = created["audienceExecutionId"]
        audience = api.until(
            f"/amc/audiences/query/{audience_id}", "audience", ("SUCCEEDED", "FAILED")
        )
        seconds = time.monotonic() - started
        digest = hashlib.sha256()
        for row in server.app.store.all(
            "SELECT partition, data, identities FROM rows ORDER BY id"
        ):  # parsed, so the JSON spelling of each path does not count
            digest.update(json.dumps([row[0], json.loads(row[1]), json.loads(row[2])]).encode())
    finally:
        server.stop()
        jobs.Worker._ingest = original
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
        stats.print_stats(15)
        stats.print_callers("execute")
        print(out.getvalue())
    return {
        "path": path,
        "rows": upload["metrics"]["OutputRowCount"],
        "ingest": ingest,
        "audience": seconds,
        "size": audience.get("audienceCount"),
        "status": audience["status"],
        "digest": digest.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--row-path", action="store_true", help="also time the row path")
    parser.add_argument("--profile", action="store_true", help="cProfile the batch path")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    defn = load_definition(DATASET)
    export_date = dt.datetime.now(dt.UTC).date()
    with tempfile.TemporaryDirectory(prefix="adu-emu-bench-") as tmp:
        tmp_path = Path(tmp)
        landing = tmp_path / f"crm_export_{export_date}.csv"
        write_sample_export(landing, args.rows, args.seed, export_date, unique_ids=True)
        hashed = tmp_path / "hashed.parquet"
        hash_file(landing, hashed, HashPlan.from_definition(defn), export_date=export_date,
                  drop_duplicates=True)  # fmt: skip
        [part] = write_parts(hashed, tmp_path, file_format="csv_gz", max_part_bytes=2 << 30)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        try:
            host, port = moto.get_host_and_port()
            s3_url = f"http://{host}:{port}"
            s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
            s3.create_bucket(Bucket="bench")
            s3.upload_file(str(part.path), "bench", "crm/part-00000.csv.gz")
            print(f"{part.rows:,} rows, part {part.size_bytes / 1e6:,.0f} MB gzip CSV")
            paths = ["batch", "row"] if args.row_path else ["batch"]
            results = [
                run(
                    p,
                    tmp_path / f"state-{p}",
                    s3_url,
                    "bench",
                    "crm/part-00000.csv.gz",
                    args.profile and p == "batch",
                )  # fmt: skip
                for p in paths
            ]
        finally:
            moto.stop()
    print(f"\n{'path':<8}{'rows':>10}{'ingest s':>10}{'rows/s':>10}{'audience s':>12}  audience")
    for r in results:
        print(f"{r['path']:<8}{r['rows']:>10,}{r['ingest']:>10.1f}{r['rows'] / r['ingest']:>10,.0f}"
              f"{r['audience']:>12.1f}  {r['status']}, size {r['size']:,}")  # fmt: skip
    if len({r["digest"] for r in results}) > 1:
        sys.exit("the two paths stored different rows")
    if len(results) > 1:
        print("both paths stored the same rows (partition, values, identities)")


if __name__ == "__main__":
    main()
