"""One landing file through the local stack to a SUCCEEDED audience, wall time per stage.

    .venv/bin/python benchmarks/end_to_end.py --rows 1000000

Starts a LocalStack (real moto S3 server + our AMC emulator, loopback, temp state), writes a
synthetic CRM export of N rows (adu_pipeline.local.sample_data, unique ids), then runs the
stages the assets run, with the same library calls (no Dagster, so that each stage's time is
its own):
  hash      hash_file with the crm_customers definition (normalize, hash, casts, dedup) -> parquet
  S3        stage_partition: gzip CSV parts + manifest uploaded to moto
  AMC       ensure_dataset + find_or_create_upload, then GetUpload until SUCCESS
            (the emulator reads the parts from S3 and ingests the rows)
  audience  ensure_audience of the loyal_customers segment, then GetAudience until SUCCEEDED
Prints the stage table (wall seconds, rows/s) and the total; exits 1 if a stage fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from adu_pipeline.amc import AmcClient, AmcConfig
from adu_pipeline.amc.bodies import upload_request
from adu_pipeline.dataset import load_instances
from adu_pipeline.dataset.loader import load_definition
from adu_pipeline.dataset.segments import load_segment
from adu_pipeline.hashing import HashPlan, hash_file
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.local.stack import LOCAL_AMC_CREDENTIALS, LocalStack
from adu_pipeline.staging.s3 import partition_prefix, stage_partition

PROJECT = Path(__file__).resolve().parents[1]
DATASET = PROJECT / "data" / "datasets" / "crm_customers.yaml"
SEGMENT = PROJECT / "data" / "segments" / "loyal_customers.yaml"
INSTANCES = PROJECT / "data" / "instances.yaml"
POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 1800


def _client(stack: LocalStack, instance) -> AmcClient:
    creds = LOCAL_AMC_CREDENTIALS
    return AmcClient(
        AmcConfig(
            client_id=creds["ADU_AMC_CLIENT_ID"],
            client_secret=creds["ADU_AMC_CLIENT_SECRET"],
            refresh_token=creds["ADU_AMC_REFRESH_TOKEN"],
            region=instance.region,
            base_url=stack.amc_url,
            token_url=f"{stack.amc_url}/auth/o2/token",
            advertiser_id=instance.account_id,
            marketplace_id=instance.marketplace_id,
            instance_id=instance.instance_id,
        )
    )


def _until(what: str, fetch, done) -> object:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        item = fetch()
        if item.status.is_terminal:
            if not done(item):
                sys.exit(f"{what} ended {item.status_raw}: {item.raw}")
            return item
        if time.monotonic() > deadline:
            sys.exit(f"{what} still {item.status_raw} after {TIMEOUT_SECONDS}s")
        time.sleep(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--step-seconds", type=float, default=0.2, help="emulator job step")
    args = parser.parse_args()
    defn = load_definition(DATASET)
    segment = load_segment(SEGMENT)
    export_date = dt.datetime.now(dt.UTC).date()
    stages: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory(prefix="adu-e2e-") as tmp:
        tmp_path = Path(tmp)
        landing = tmp_path / f"crm_export_{export_date}.csv"
        t0 = time.monotonic()
        write_sample_export(landing, args.rows, args.seed, export_date, unique_ids=True)
        size = landing.stat().st_size
        print(f"landing file: {args.rows:,} rows, {size / 1e6:,.0f} MB "
              f"({time.monotonic() - t0:.1f}s to write, not a stage)")  # fmt: skip
        instances = {i.key: i for i in load_instances(INSTANCES)}
        instance = instances[segment.instance or next(iter(instances))]
        prefix = partition_prefix(
            (defn.pipeline.s3_prefix or f"adu/{defn.id}").strip("/"), str(export_date)
        )
        with LocalStack(tmp_path / "emulator", step_seconds=args.step_seconds) as stack:
            started = time.monotonic()
            hashed = tmp_path / "hashed.parquet"
            summary = hash_file(
                landing, hashed, HashPlan.from_definition(defn), export_date=export_date,
                drop_duplicates=True,
            )  # fmt: skip
            stages.append(("hash", time.monotonic() - started, f"{summary.rows_out:,} rows out"))

            started = time.monotonic()
            staged = stage_partition(
                stack.s3_client(), stack.bucket,
                prefix,
                hashed, file_format="csv_gz", max_part_bytes=500 << 20,
                instance_ids=[instance.instance_id],
            )  # fmt: skip
            part_bytes = sum(p.path.stat().st_size for p in staged.parts if p.path.exists())
            detail = f"{len(staged.parts)} part(s)" + (
                f", {part_bytes / 1e6:,.0f} MB" if part_bytes else ""
            )
            stages.append(("S3", time.monotonic() - started, detail))

            with _client(stack, instance) as client:
                started = time.monotonic()
                client.ensure_dataset(defn.create_body())
                body = upload_request(
                    stack.bucket, manifest_key=staged.manifest_key, file_format="csv",
                    compression="GZIP", update_strategy=defn.update_strategy,
                )  # fmt: skip
                upload = client.find_or_create_upload(defn.id, body).upload
                upload = _until(
                    "upload",
                    lambda: client.get_upload(defn.id, upload.upload_id),
                    lambda u: u.status.is_success,
                )
                stages.append(("AMC ingest", time.monotonic() - started,
                               f"OutputRowCount {upload.output_row_count:,}"))  # fmt: skip

                started = time.monotonic()
                audience = client.ensure_audience(
                    segment.audience_body(dt.datetime.now(dt.UTC))
                ).audience
                audience = _until(
                    "audience",
                    lambda: client.get_audience(audience.audience_id),
                    lambda a: a.status.is_success,
                )
                detail = f"{audience.status_raw}, size {audience.audience_count}"
                stages.append(("audience", time.monotonic() - started, detail))

    total = sum(s for _, s, _ in stages)
    print(f"\n{'stage':<12}{'wall s':>8}{'rows/s':>12}  detail")
    for name, seconds, detail in stages:
        print(f"{name:<12}{seconds:>8.1f}{args.rows / seconds:>12,.0f}  {detail}")
    print(f"{'total':<12}{total:>8.1f}{args.rows / total:>12,.0f}  (target <= 120 s at 1M rows)")


if __name__ == "__main__":
    main()
