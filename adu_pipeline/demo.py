"""`adu demo`: the whole product offline, end to end, through Dagster with a real instance.

Generates a messy synthetic CRM export, starts moto's S3 server and the AMC emulator on free
loopback ports, lets the landing sensor request the export date's run, drives the status sensors
until AMC reports terminal states, reads the results back from the emulator, prints a summary.
Exits 0 only if the upload reached SUCCESS and every segment audience SUCCEEDED.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

from adu_pipeline.errors import AduError, InputError

DEMO_ROWS = 20_000
DEMO_SEED = 2026
EMULATOR_STEP_SECONDS = 0.2
SENSOR_TIMEOUT_SECONDS = 90.0
INSTANCE_YAML = """\
# Written by `adu demo` / `adu dev` when missing; edit freely.
telemetry:
  enabled: false
concurrency:
  pools:
    # every AMC call (assets with pool="amc_api") shares this many slots across all runs
    default_limit: 2
"""


def dagster_home() -> Path:
    """DAGSTER_HOME when set, else data/.dagster in the project (gitignored)."""
    from adu_pipeline.defs.project import default_dagster_home

    home = default_dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return home


class Step:
    """Prints one numbered line per stage with its duration."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0
        self.started = time.monotonic()

    def start(self, label: str) -> float:
        self.number += 1
        print(f"[{self.number}/{self.total}] {label} ...", flush=True)
        return time.monotonic()

    @staticmethod
    def detail(text: str) -> None:
        print(f"      {text}", flush=True)

    @staticmethod
    def done(since: float) -> None:
        print(f"      done in {time.monotonic() - since:.1f} s", flush=True)


def run_demo(
    rows: int = DEMO_ROWS, export_date: dt.date | None = None, seed: int = DEMO_SEED
) -> dict[str, Any]:
    """Run everything; returns the figures printed, raises AduError with the reason on failure."""
    import dagster as dg

    from adu_pipeline.amc import JobStatus
    from adu_pipeline.definitions import build_definitions
    from adu_pipeline.defs import project
    from adu_pipeline.defs.assets.amc_upload import latest_metadata
    from adu_pipeline.defs.driver import SensorDriver, run_failure_reason
    from adu_pipeline.defs.landing import landing_name, scan_landing
    from adu_pipeline.defs.sensors import AMC_AUDIENCE, AMC_UPLOAD, initial_cursor
    from adu_pipeline.local_stack import LocalStack, local_dir
    from adu_pipeline.sample_data import write_sample_export

    export_date = export_date or dt.datetime.now(dt.UTC).date()
    partition = export_date.isoformat()
    steps = Step(6)
    summary: dict[str, Any] = {"export_date": partition}

    since = steps.start(f"generating a messy synthetic CRM export ({rows:,} rows)")
    landing = project.landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    for old in scan_landing(landing):  # one file per date: replace an earlier demo's file
        if old.partition_key == partition:
            old.path.unlink()
    path = landing / landing_name(export_date, ".csv")
    info = write_sample_export(path, rows, seed=seed, export_date=export_date)
    steps.detail(
        f"{path.relative_to(project.project_dir())}  ({info.duplicate_rows} duplicate rows)"
    )
    steps.done(since)

    since = steps.start("starting the local stack (moto S3 + AMC emulator, loopback)")
    # The emulator state is the one `adu local up` / `adu dev` use, so the UI later finds the
    # demo's uploads and audiences; `adu local reset` starts from scratch.
    try:
        stack = LocalStack(local_dir() / "emulator", step_seconds=EMULATOR_STEP_SECONDS).start()
    except InputError:
        raise InputError(
            "adu demo uses the same AMC emulator state as adu dev / adu local up, and one of "
            "them is running: stop it first (the UI of the next adu dev shows the demo's runs)"
        ) from None
    try:
        steps.detail(f"S3 {stack.s3_endpoint_url}   AMC {stack.amc_url}")
        home = dagster_home()
        os.environ["DAGSTER_HOME"] = str(home)
        defs = build_definitions(stack.resources())
        instance = dg.DagsterInstance.get()
        steps.detail(f"DAGSTER_HOME {home}")
        steps.done(since)

        driver = SensorDriver(defs, instance, quiet=True)
        others = {f.path.name: f.fingerprint for f in scan_landing(landing) if f.path != path}
        driver.cursors["landing_file_sensor"] = _json(others)
        driver.cursors["amc_upload_status"] = initial_cursor(instance, AMC_UPLOAD)
        driver.cursors["amc_audience_status"] = initial_cursor(instance, AMC_AUDIENCE)

        since = steps.start(f"landing sensor -> adu_export_job for {partition}")
        outcome = driver.tick("landing_file_sensor")
        if not outcome.runs:
            raise AduError(f"the landing sensor requested no run ({outcome.skip_message})")
        for result in outcome.runs:
            reason = run_failure_reason(result)
            if reason:
                raise AduError(f"export run failed: {reason}")
        hashed = latest_metadata(instance, dg.AssetKey("hashed_customers"), partition) or {}
        s3 = latest_metadata(instance, dg.AssetKey("adu_s3_object"), partition) or {}
        upload_meta = latest_metadata(instance, AMC_UPLOAD, partition) or {}
        summary.update(
            rows_in=hashed.get("rows_in"),
            rows_written=hashed.get("rows_written"),
            rows_rejected=hashed.get("rows_rejected"),
            duplicates_dropped=hashed.get("duplicates_dropped"),
            identifier_share=hashed.get("identifier_share"),
            s3_parts=s3.get("part_keys") or [],
            manifest=f"s3://{s3.get('s3_bucket')}/{s3.get('manifest_key')}",
            upload_id=upload_meta.get("upload_id"),
        )
        steps.detail(
            f"hashed: {summary['rows_in']:,} rows in, {summary['rows_written']:,} written, "
            f"{summary['rows_rejected']:,} rejected, {summary['duplicates_dropped']:,} "
            f"duplicates dropped; {summary['identifier_share']:.1%} carry an identifier"
        )
        steps.detail(f"S3: {len(summary['s3_parts'])} part(s) + manifest {summary['manifest']}")
        steps.detail(
            f"upload {summary['upload_id']} "
            + ("started" if upload_meta.get("started") else "reused (same content already in AMC)")
            + f" ({upload_meta.get('update_strategy')})"
        )
        steps.done(since)

        since = steps.start("amc_upload_status sensor until AMC finishes the upload")
        ticks = driver.until(
            "amc_upload_status", lambda o: bool(o[-1].checks()), timeout=SENSOR_TIMEOUT_SECONDS
        )
        audience_runs = [r for t in ticks for r in t.runs]
        for result in audience_runs:
            reason = run_failure_reason(result)
            if reason:
                raise AduError(f"audience run failed: {reason}")
        steps.detail(
            f"{len(audience_runs)} audience run(s) requested (segments without a live audience)"
        )
        steps.done(since)

        since = steps.start("amc_audience_status sensor until the audiences are built")
        expected = len(audience_runs)
        if expected:
            driver.until(
                "amc_audience_status",
                lambda o: sum(len(t.checks()) for t in o) >= expected,
                timeout=SENSOR_TIMEOUT_SECONDS,
            )
        steps.done(since)

        since = steps.start("reading the results back from the emulator")
        amc = defs.resources["amc"]
        with amc.client(budget_seconds=20) as client:
            upload = client.get_upload(str(upload_meta.get("dataset_id")), summary["upload_id"])
            summary.update(upload_status=upload.status_raw, output_rows=upload.output_row_count)
            audiences = []
            for key, segment in sorted(_segments(defs).items()):
                audience = client.find_audience(segment.name, advertiser_id=segment.advertiser_id)
                if audience is None:
                    continue
                audiences.append(
                    {
                        "segment": key,
                        "name": audience.name,
                        "audience_id": audience.audience_id,
                        "status": audience.status_raw,
                        "size": audience.audience_count,
                        "dsp_audience_id": audience.dsp_audience_id,
                        "advertiser_id": audience.advertiser_id,
                        "reason": audience.status_reason,
                        "ok": audience.status is JobStatus.SUCCEEDED,
                    }
                )
        summary["audiences"] = audiences
        steps.done(since)
    finally:
        stack.stop()

    _print_summary(summary, time.monotonic() - steps.started)
    if upload.status is not JobStatus.SUCCEEDED:
        raise AduError(f"upload {summary['upload_id']} {upload.status_raw}: {upload.message}")
    if not audiences:
        raise AduError("no audience was created: check data/segments/*.yaml")
    failed = [a for a in audiences if not a["ok"]]
    if failed:
        first = failed[0]
        raise AduError(f"audience '{first['name']}' {first['status']}: {first['reason']}")
    return summary


def _segments(defs: Any) -> dict[str, Any]:
    from adu_pipeline.defs.definition import segments_at

    settings = defs.resources["settings"]
    return segments_at(settings.path(settings.segments_dir))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _print_summary(summary: dict[str, Any], seconds: float) -> None:
    parts = summary.get("s3_parts") or []
    lines = [
        "",
        f"adu demo summary (export date {summary['export_date']}, {seconds:.1f} s)",
        f"  rows in            {summary['rows_in']:,}",
        f"  rows written       {summary['rows_written']:,}",
        f"  rows rejected      {summary['rows_rejected']:,}",
        f"  duplicates dropped {summary['duplicates_dropped']:,}",
        f"  S3 parts           {len(parts)}: {parts[0] if parts else '-'}"
        + (f" ... {parts[-1].rsplit('/', 1)[-1]}" if len(parts) > 1 else ""),
        f"  S3 manifest        {summary['manifest']}",
        f"  upload id          {summary['upload_id']}",
        f"  upload status      {summary.get('upload_status')}",
        f"  OutputRowCount     {summary.get('output_rows')}",
    ]
    for audience in summary.get("audiences", []):
        lines += [
            f"  audience           {audience['name']} ({audience['segment']})",
            f"    audience id      {audience['audience_id']}",
            f"    status           {audience['status']}"
            + (f" ({audience['reason']})" if not audience["ok"] and audience["reason"] else ""),
            f"    size             {audience['size']}",
            f"    DSP audience id  {audience['dsp_audience_id']}"
            f" (DSP advertiser {audience['advertiser_id']})",
        ]
    lines.append("  see the runs, checks and plots in the UI: adu dev")
    print("\n".join(lines), flush=True)


def _handler(args: argparse.Namespace) -> int:
    export_date = dt.date.fromisoformat(args.date) if args.date else None
    try:
        run_demo(rows=args.rows, export_date=export_date, seed=args.seed)
    except AduError:
        raise
    except TimeoutError as exc:
        raise AduError(f"demo timed out: {exc}") from None
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole pipeline offline: CRM export to a SUCCEEDED AMC audience"
    )
    parser.add_argument("--rows", type=int, default=DEMO_ROWS, help="rows in the synthetic export")
    parser.add_argument("--date", help="export date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="random seed of the export")
    parser.set_defaults(func=_handler)
