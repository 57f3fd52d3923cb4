"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server: an export run
submitted from the CLI waits in the QueuedRunCoordinator's queue, the daemon's queue loop
launches it in its own process, it uploads once; afterwards neither DAGSTER_HOME nor the
database holds a credential or an access token."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from adu_pipeline.dataset import load_instances
from adu_pipeline.lib import keys
from adu_pipeline.lib.resources import CREDENTIALS, amc_client_outside_run, resources_for
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.local.stack import LocalStack
from adu_pipeline.settings import load_settings
from adu_pipeline.staging.landing import landing_name
from adu_pipeline_tests.pipeline.conftest import keep_datasets, recent_day
from adu_pipeline_tests.production.secrets_scan import postgres_tables, scan_home, scan_rows

REPO = Path(__file__).resolve().parents[2]
DEPLOY_INSTANCE = REPO / "deploy" / "dagster.yaml"
JOB = "crm_customers_export_job"
ROWS = 300
RUN_TIMEOUT_SECONDS = 300
LEFTOVER_TIMEOUT_SECONDS = 30


@dataclass
class Production:
    home: Path
    db: str
    landing: Path
    stack: LocalStack
    credentials: dict[str, str]

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def secrets(self) -> dict[str, str]:
        """The credentials and every access token the emulator issued, by a name to report."""
        tokens = self.stack.emulator.app.store.all("SELECT access_token FROM access_tokens")
        issued = {f"access token {i}": row["access_token"] for i, row in enumerate(tokens)}
        return {**self.credentials, **issued}


@pytest.fixture
def production(tmp_path, monkeypatch, postgres_server) -> Any:
    """DAGSTER_HOME with deploy/dagster.yaml on a fresh database, the local stack started on
    credentials unique to this test, and only environment variables in between."""
    for name in list(os.environ):
        if name.startswith(("ADU_", "DAGSTER_")):
            monkeypatch.delenv(name)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
    db = postgres_server.create_database()
    keep_datasets(tmp_path / "datasets", {"crm_customers": ["us"]})
    (tmp_path / "segments").mkdir()
    (tmp_path / "landing").mkdir()
    shutil.copy(REPO / "data" / "instances.yaml", tmp_path / "instances.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USERNAME": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": db,
        "DAGSTER_COMPUTE_LOG_DIR": str(home / "compute_logs"),
        "ADU_DATASETS_DIR": str(tmp_path / "datasets"),
        "ADU_SEGMENTS_DIR": str(tmp_path / "segments"),
        "ADU_INSTANCES": str(tmp_path / "instances.yaml"),
        "ADU_LANDING_DIR": str(tmp_path / "landing"),
        "ADU_OUTPUT_DIR": str(tmp_path / "output"),
        "ADU_MIN_PROJECTED_AUDIENCE": "10",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    credentials = {name: f"{name.lower()}-{secrets.token_urlsafe(16)}" for name in CREDENTIALS}
    stack = LocalStack(tmp_path / "emulator", credentials=credentials, step_seconds=0.05).start()
    for name, value in stack.env().items():  # what `adu dev` hands its child processes
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)  # workspace.yaml's working directory
    yield Production(home, db, tmp_path / "landing", stack, credentials)
    _stop_leftover_processes(str(home))
    stack.stop()


def test_the_production_instance_is_postgres_with_a_run_queue_and_pools_of_one(production):
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    instance = production.instance()
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 30
        # the config only names variables: the password is nowhere in the instance's yaml
        assert production.home.joinpath("dagster.yaml").read_text().count("env: DAGSTER_PG_") == 5
    finally:
        instance.dispose()


def _submit_and_drain_queue(instance: dg.DagsterInstance, partition: str) -> dg.DagsterRun:
    """Submit the export run of `partition` as the UI or `dagster job launch` does (with the
    QueuedRunCoordinator that only queues it), then run the daemon's queue loop
    (QueuedRunCoordinatorDaemon) until the run, launched in its own process, has finished."""
    from dagster._cli.job import _create_run
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    with WorkspaceProcessContext(instance, WorkspaceFileTarget(["workspace.yaml"])) as context:
        request = context.create_request_context()
        location = request.get_code_location("adu_pipeline")
        (repository,) = location.get_repositories().values()
        queued = instance.submit_run(
            _create_run(
                instance=instance, code_location=location, remote_repo=repository,
                remote_job=repository.get_full_job(JOB), run_config={},
                tags={"dagster/partition": partition}, op_selection=None, run_id=None,
            ).run_id,
            request,
        )  # fmt: skip
        assert queued.status == dg.DagsterRunStatus.QUEUED  # nothing but the queue starts it
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while True:
            list(daemon.run_iteration(context))
            run = instance.get_run_by_id(queued.run_id)
            assert run is not None
            if run.is_finished:
                return run
            assert time.monotonic() < deadline, f"run still {run.status.value}"
            time.sleep(0.5)


def _stop_leftover_processes(marker: str) -> None:
    """Wait for the processes whose command line names this test's DAGSTER_HOME (the code
    server, run workers) to exit before PostgreSQL stops under them; kill any still there."""
    import psutil

    def ours() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if marker in " ".join(process.info["cmdline"] or ()):
                found.append(process)
        return found

    _, alive = psutil.wait_procs(ours(), timeout=LEFTOVER_TIMEOUT_SECONDS)
    for process in alive:
        process.kill()
    assert not alive, f"{len(alive)} Dagster processes did not exit after the test"


def _wait_for_upload(amc_resource: Any, instance_def: Any) -> Any:
    with amc_client_outside_run(amc_resource, instance_def) as client:
        (upload,) = client.list_uploads(dataset_id="crm_customers")
        deadline = time.monotonic() + 60
        while not upload.status.is_terminal:
            assert time.monotonic() < deadline, "the emulator did not finish the upload"
            time.sleep(0.2)
            upload = client.get_upload("crm_customers", upload.upload_id)
        return upload


def test_an_export_run_goes_through_the_queue_on_postgres_and_leaves_no_secret(
    production, postgres_server
):
    day = str(recent_day(2))
    write_sample_export(
        production.landing / landing_name("crm_export", recent_day(2), ".csv"),
        ROWS,
        seed=5,
        export_date=recent_day(2),
    )
    instance = production.instance()
    try:
        run = _submit_and_drain_queue(instance, day)
        assert run.status == dg.DagsterRunStatus.SUCCESS, run.status
        assert run.tags["dagster/partition"] == day
        record = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=keys.hashed("crm_customers"), asset_partitions=[day]),
            limit=1,
        ).records[0]
        meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
        assert meta["rows_in"] == ROWS
        assert meta["rows_in"] == (
            meta["rows_written"] + meta["rows_rejected"] + meta["duplicates_dropped"]
        )
        # every pool the run's AMC ops claimed exists on this instance with the default limit 1
        pools = instance.event_log_storage.get_concurrency_keys()
        assert pools, "the run claimed no pool slot"
        assert {instance.event_log_storage.get_concurrency_info(p).slot_count for p in pools} == {1}
    finally:
        instance.dispose()

    settings = load_settings()
    us = {i.key: i for i in load_instances(settings.instances_path)}["us"]
    upload = _wait_for_upload(resources_for(settings)["amc"], us)
    assert upload.status.is_success and upload.output_row_count == meta["rows_written"]

    values = production.secrets()
    assert len(values) > len(CREDENTIALS), "no access token was issued: nothing was checked"
    in_files, files = scan_home(production.home, values)
    in_rows, rows = scan_rows(postgres_tables(postgres_server, production.db), values)
    assert files > 0 and rows > 0
    assert in_files == {} and in_rows == {}, (in_files, in_rows)
