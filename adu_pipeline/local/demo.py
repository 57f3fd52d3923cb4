"""`adu demo`: the whole product offline, end to end, through Dagster with a real instance.

Generates a messy synthetic CRM export and an offline-conversions export, starts moto's S3 server
and the AMC emulator (serving every instance of data/instances.yaml) on free loopback ports, lets
the sensors request the runs (every dataset, every instance, every segment), drives the status
sensors until AMC reports terminal states, reads the results back and prints a summary.
Exits 0 only if every upload reached SUCCESS and every segment audience SUCCEEDED.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from adu_pipeline.errors import AduError, InputError
from adu_pipeline.lib.instance import instance_yaml

DEMO_ROWS = 20_000
DEMO_CONVERSION_ROWS = 8_000
DEMO_SEED = 2026
EMULATOR_STEP_SECONDS = 0.2
SENSOR_TIMEOUT_SECONDS = 120.0
# the header of the dagster.yaml earlier versions wrote (pools limit 2): replaced, never edited
OLD_GENERATED_HEADER = "# Written by `adu demo` / `adu dev` when missing; edit freely."
WRITTEN_BY_DEMO = ".adu-demo-files.json"  # in the landing folder: the files the demo may replace


def dagster_home() -> Path:
    """DAGSTER_HOME when set, else data/.dagster in the project (gitignored)."""
    from adu_pipeline.settings import load_settings

    home = load_settings().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text().startswith(OLD_GENERATED_HEADER):
        config.write_text(instance_yaml())
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


def write_demo_exports(
    landing: Path, export_date: dt.date, rows: int, conversion_rows: int, seed: int
) -> list[Path]:
    """The two exports of the date. A file the demo did not write is never replaced."""
    from adu_pipeline.local.conversions import write_conversions_export
    from adu_pipeline.local.sample_data import write_sample_export
    from adu_pipeline.staging.landing import landing_name, scan_landing

    landing.mkdir(parents=True, exist_ok=True)
    ledger_path = landing / WRITTEN_BY_DEMO
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
    targets = {
        "crm_export": landing / landing_name("crm_export", export_date),
        "offline_conversions": landing / landing_name("offline_conversions", export_date),
    }
    for stem in targets:
        for existing in scan_landing(landing, stem):
            if existing.export_date != export_date:
                continue
            if ledger.get(existing.path.name) != existing.fingerprint:
                raise InputError(
                    f"{existing.path.name} is in {landing} and was not written by adu demo: "
                    "move it away or run the demo for another date (--date)"
                )
            existing.path.unlink()
    write_sample_export(targets["crm_export"], rows, seed=seed, export_date=export_date)
    write_conversions_export(
        targets["offline_conversions"], conversion_rows, seed=seed, export_date=export_date
    )
    for f in scan_landing(landing):
        if f.path in targets.values():
            ledger[f.path.name] = f.fingerprint
    ledger_path.write_text(json.dumps(ledger, indent=1, sort_keys=True))
    return list(targets.values())


OPTOUT_PEOPLE = 50  # people of the demo's own export who ask to be forgotten
MALFORMED_OPTOUTS = (  # (email, phone, hashed_email, country): each a counted reject
    ("not-an-email", "", "", "US"),
    ("", "12", "", "US"),
    ("", "", "xyz", ""),
    ("", "", "", ""),
)


def write_demo_optouts(export: Path, path: Path, people: int = OPTOUT_PEOPLE) -> int:
    """An opt-out file of `people` rows of the export (email, phone, country; spread over the
    file) plus a few malformed rows; returns the rows written. Synthetic data only."""
    import csv

    import pyarrow.csv as pacsv

    columns = ("Email", "Phone Number", "Country/Region")
    table = pacsv.read_csv(
        export,
        convert_options=pacsv.ConvertOptions(
            include_columns=list(columns), column_types=dict.fromkeys(columns, "string")
        ),
    )
    step = max(1, table.num_rows // max(people, 1))
    chosen = table.take(list(range(0, table.num_rows, step))[:people]).to_pylist()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "phone", "hashed_email", "country"])
        for row in chosen:
            writer.writerow(
                [row["Email"] or "", row["Phone Number"] or "", "", row[columns[2]] or ""]
            )
        writer.writerows(MALFORMED_OPTOUTS)
    tmp.replace(path)
    return len(chosen) + len(MALFORMED_OPTOUTS)


def run_demo(
    rows: int = DEMO_ROWS,
    export_date: dt.date | None = None,
    seed: int = DEMO_SEED,
    conversion_rows: int = DEMO_CONVERSION_ROWS,
) -> dict[str, Any]:
    """Run everything; returns the figures printed, raises AduError with the reason on failure."""
    import dagster as dg

    from adu_pipeline.lib import cursor, keys
    from adu_pipeline.lib.build import project_definitions
    from adu_pipeline.lib.catalog import project_catalog, scan_segments
    from adu_pipeline.lib.resources import amc_client_outside_run
    from adu_pipeline.lib.status_sensors import initial_cursor
    from adu_pipeline.local.driver import SensorDriver, run_failure_reason
    from adu_pipeline.local.stack import LocalStack, local_dir
    from adu_pipeline.settings import load_settings
    from adu_pipeline.staging.landing import scan_landing

    export_date = export_date or dt.datetime.now(dt.UTC).date()
    partition = export_date.isoformat()
    steps = Step(7)
    settings = load_settings()
    catalog = project_catalog(settings)  # a bad dataset or instances file stops us here
    skipped = scan_segments(settings, catalog).problem_lines()
    if skipped:
        raise InputError("segment files the demo cannot use: " + "; ".join(skipped))
    summary: dict[str, Any] = {"export_date": partition}

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
        steps.done(since)
        # Only now that the demo can run does it touch the landing folder (its own files only).
        since = steps.start(
            f"generating synthetic exports for {partition} ({rows:,} CRM rows, "
            f"{conversion_rows:,} offline conversions)"
        )
        written = write_demo_exports(settings.landing_dir, export_date, rows, conversion_rows, seed)
        for path in written:
            steps.detail(str(path.relative_to(settings.project_dir)))
        home = dagster_home()
        os.environ.update({**stack.env(), "DAGSTER_HOME": str(home)})
        settings = load_settings()
        project = project_definitions(settings)
        from adu_pipeline.definitions import defs as load_defs

        defs = load_defs()
        instance = dg.DagsterInstance.get()
        catalog = project.catalog
        uploads = [keys.upload(p.id, i.key) for p in project.plans for i in p.instances]
        steps.detail(
            f"{len(project.plans)} datasets, {len(catalog.instances)} instances "
            f"({', '.join(catalog.instances)}), {len(uploads)} uploads per export date"
        )
        steps.detail(f"DAGSTER_HOME {home}")
        steps.done(since)

        driver = SensorDriver(defs, instance, quiet=True)
        others = {}
        for plan in project.plans:
            files = scan_landing(settings.landing_dir, plan.defn.pipeline.landing)
            others[plan.id] = {f.path.name: f.fingerprint for f in files if f.path not in written}
        driver.cursors["landing_file_sensor"] = cursor.dump(others)
        driver.cursors["amc_upload_status"] = initial_cursor(instance, uploads)
        driver.cursors["amc_audience_status"] = initial_cursor(instance, [keys.AUDIENCE])

        since = steps.start(f"landing sensor -> export runs for {partition}")
        driver.tick("segment_files_sensor")
        outcome = driver.tick("landing_file_sensor")
        if not outcome.runs:
            raise AduError(f"the landing sensor requested no run ({outcome.skip_message})")
        for result in outcome.runs:
            reason = run_failure_reason(result)
            if reason:
                raise AduError(f"export run {result.job_def.name} failed: {reason}")
        summary["datasets"] = _dataset_figures(instance, project, partition)
        for figures in summary["datasets"]:
            steps.detail(
                f"{figures['dataset']}: {figures['rows_in']:,} rows in, "
                f"{figures['rows_written']:,} written, {figures['rows_rejected']:,} rejected, "
                f"{figures['duplicates_dropped']:,} duplicates dropped -> "
                f"{len(figures['uploads'])} upload(s)"
            )
        steps.done(since)

        expected_uploads = sum(len(f["uploads"]) for f in summary["datasets"])
        since = steps.start(
            f"amc_upload_status sensor until AMC finishes {expected_uploads} uploads"
        )
        ticks = driver.until(
            "amc_upload_status",
            lambda o: sum(len(t.checks()) for t in o) >= expected_uploads,
            timeout=SENSOR_TIMEOUT_SECONDS,
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
        if audience_runs:
            driver.until(
                "amc_audience_status",
                lambda o: sum(len(t.checks()) for t in o) >= len(audience_runs),
                timeout=SENSOR_TIMEOUT_SECONDS,
            )
        steps.done(since)

        since = steps.start("opt-outs: list, user deletions until SUCCEEDED, export again")
        summary["privacy"] = _privacy_step(driver, instance, project, settings, written[0])
        steps.detail(_privacy_line(summary["privacy"]))
        steps.done(since)

        since = steps.start("reading the results back from the emulator")
        amc = defs.resources["amc"]
        for figures in summary["datasets"]:
            for up in figures["uploads"]:
                with amc_client_outside_run(amc, catalog.instances[up["instance"]]) as client:
                    upload = client.get_upload(figures["dataset"], up["upload_id"])
                up.update(
                    status=upload.status_raw,
                    output_rows=upload.output_row_count,
                    ok=upload.status.is_success,
                    message=upload.message,
                )
        summary["audiences"] = _audience_figures(amc, catalog, scan_segments(settings, catalog))
        steps.done(since)
    finally:
        stack.stop()

    _print_summary(summary, time.monotonic() - steps.started)
    for figures in summary["datasets"]:
        for up in figures["uploads"]:
            if not up["ok"]:
                raise AduError(
                    f"upload of {figures['dataset']} to {up['instance']} {up['status']}: "
                    f"{up['message']}"
                )
    if not summary["audiences"]:
        raise AduError("no audience was created: check data/segments/*.yaml")
    failed = [a for a in summary["audiences"] if not a["ok"]]
    if failed:
        first = failed[0]
        raise AduError(f"audience '{first['name']}' {first['status']}: {first['reason']}")
    return summary


def _privacy_step(driver: Any, instance: Any, project: Any, settings: Any, export: Path):
    """The demo's opt-out file (people of its own export + malformed rows) through the
    optout_file_sensor run, the deletion sensor until every request is SUCCEEDED, and the CRM
    export run again so the upload leaves those people out. Counts only."""
    import dagster as dg

    from adu_pipeline.lib import keys
    from adu_pipeline.lib.deletion_sensor import DELETION_SENSOR
    from adu_pipeline.lib.metadata import latest_metadata
    from adu_pipeline.lib.optout_assets import OPTOUT_SENSOR, receiving_instances
    from adu_pipeline.lib.status_sensors import initial_cursor
    from adu_pipeline.local.driver import run_failure_reason
    from adu_pipeline.staging.landing import landing_name

    date = dt.date.fromisoformat(export.name.rsplit("_", 1)[1].split(".")[0])
    path = settings.optout_dir / landing_name("optouts", date)
    rows = write_demo_optouts(export, path)
    targets = receiving_instances(project.catalog, project.plans)
    deletion_keys = [keys.user_deletions(i.key) for i in targets]
    driver.cursors[DELETION_SENSOR] = initial_cursor(instance, deletion_keys)
    for result in driver.tick(OPTOUT_SENSOR).runs:
        reason = run_failure_reason(result)
        if reason:
            raise AduError(f"opt-out run failed: {reason}")
    listed = latest_metadata(instance, keys.OPTOUTS, None) or {}
    sent = [latest_metadata(instance, k, None) or {} for k in deletion_keys]
    requests = sum(int(m.get("requests") or 0) for m in sent)
    checks = []
    if requests:
        ticks = driver.until(
            DELETION_SENSOR,
            lambda o: sum(len(t.checks()) for t in o) >= requests,
            timeout=SENSOR_TIMEOUT_SECONDS,
        )
        checks = [c for t in ticks for c in t.checks()]
    failed = [c for c in checks if not c.passed]
    if failed:
        raise AduError(f"user deletion failed: {failed[0].description}")
    rerun = {}
    for plan in project.plans:
        if plan.defn.pipeline.landing != "crm_export":
            continue
        key = date.isoformat() if plan.partitioned else None
        result = driver.execute(dg.RunRequest(job_name=keys.export_job(plan.id), partition_key=key))
        reason = run_failure_reason(result)
        if reason:
            raise AduError(f"export run after the opt-outs failed: {reason}")
        hashed = latest_metadata(instance, keys.hashed(plan.id), key) or {}
        rerun[plan.id] = {
            "rows_written": int(hashed.get("rows_written") or 0),
            "opted_out": int(hashed.get("rejects/opted_out") or 0),
        }
    return {
        "file": path.name,
        "rows": rows,
        "accepted": int(listed.get("rows_accepted") or 0),
        "rejected": int(listed.get("rows_rejected") or 0),
        "identities": int(listed.get("list_size") or 0),
        "instances": len(targets),
        "requests": requests,
        "succeeded": sum(c.passed for c in checks),
        "rerun": rerun,
    }


def _privacy_line(p: dict[str, Any]) -> str:
    reruns = ", ".join(
        f"{d}: {r['rows_written']:,} written, {r['opted_out']:,} opted out"
        for d, r in p["rerun"].items()
    )
    return (
        f"{p['file']}: {p['rows']} rows, {p['accepted']} accepted, {p['rejected']} rejected, "
        f"{p['identities']} hashed identities; {p['requests']} deletion request(s) to "
        f"{p['instances']} instance(s), {p['succeeded']} SUCCEEDED; again: {reruns}"
    )


def _dataset_figures(instance: Any, project: Any, partition: str) -> list[dict[str, Any]]:
    from adu_pipeline.lib import keys
    from adu_pipeline.lib.metadata import latest_metadata

    figures = []
    for plan in project.plans:
        key = partition if plan.partitioned else None
        hashed = latest_metadata(instance, keys.hashed(plan.id), key) or {}
        uploads = []
        for inst in plan.instances:
            meta = latest_metadata(instance, keys.upload(plan.id, inst.key), key) or {}
            if meta.get("upload_id"):
                uploads.append(
                    {
                        "instance": inst.key,
                        "upload_id": meta["upload_id"],
                        "started": bool(meta.get("started")),
                        "strategy": meta.get("update_strategy"),
                    }
                )
        figures.append(
            {
                "dataset": plan.id,
                "kind": "FACT, daily" if plan.partitioned else "DIMENSION, full list",
                **{
                    k: int(hashed.get(k) or 0)
                    for k in ("rows_in", "rows_written", "rows_rejected", "duplicates_dropped")
                },
                "uploads": uploads,
            }
        )
    return figures


def _audience_figures(amc: Any, catalog: Any, scan: Any) -> list[dict[str, Any]]:
    from adu_pipeline.amc import JobStatus
    from adu_pipeline.lib.resources import amc_client_outside_run

    audiences = []
    for key, segment in sorted(scan.segments.items()):
        instance_key = catalog.segment_instance_of(segment)
        with amc_client_outside_run(amc, catalog.instances[instance_key]) as client:
            audience = client.find_audience(segment.name, advertiser_id=segment.advertiser_id)
        if audience is None:
            continue
        audiences.append(
            {
                "segment": key,
                "instance": instance_key,
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
    return audiences


def _print_summary(summary: dict[str, Any], seconds: float) -> None:
    lines = ["", f"adu demo summary (export date {summary['export_date']}, {seconds:.1f} s)"]
    for figures in summary["datasets"]:
        lines += [
            f"  dataset {figures['dataset']} ({figures['kind']})",
            f"    rows in {figures['rows_in']:,}, written {figures['rows_written']:,}, "
            f"rejected {figures['rows_rejected']:,}, duplicates dropped "
            f"{figures['duplicates_dropped']:,}",
        ]
        for up in figures["uploads"]:
            lines.append(
                f"    upload to {up['instance']:<4} {up['status']:<9} OutputRowCount "
                f"{up['output_rows']}  ({up['strategy']}, upload {up['upload_id']}"
                + (")" if up["started"] else ", reused: same content already in AMC)")
            )
    for audience in summary.get("audiences", []):
        status = audience["status"] + (
            f" ({audience['reason']})" if not audience["ok"] and audience["reason"] else ""
        )
        lines += [
            f"  audience {audience['name']} ({audience['segment']}, "
            f"instance {audience['instance']})",
            f"    status {status}, size {audience['size']}, DSP audience id "
            f"{audience['dsp_audience_id']} (DSP advertiser {audience['advertiser_id']})",
        ]
    if summary.get("privacy"):
        lines.append(f"  opt-outs {_privacy_line(summary['privacy'])}")
    lines.append("  see the runs, checks and plots in the UI: adu dev")
    print("\n".join(lines), flush=True)


def _handler(args: argparse.Namespace) -> int:
    export_date = dt.date.fromisoformat(args.date) if args.date else None
    try:
        run_demo(rows=args.rows, export_date=export_date, seed=args.seed)
    except TimeoutError as exc:
        raise AduError(f"demo timed out: {exc}") from None
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole pipeline offline: CRM export to SUCCEEDED AMC audiences"
    )
    parser.add_argument("--rows", type=int, default=DEMO_ROWS, help="rows in the CRM export")
    parser.add_argument("--date", help="export date YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="random seed of the exports")
    parser.set_defaults(func=_handler)
