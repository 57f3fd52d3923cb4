"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server: an export run
submitted from the CLI waits in the QueuedRunCoordinator's queue, the daemon's queue loop
launches it in its own process, it uploads once; afterwards neither DAGSTER_HOME nor the
database holds a credential or an access token."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from adu_pipeline.lib import keys
from adu_pipeline.lib.resources import CREDENTIALS
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.staging.landing import landing_name
from adu_pipeline_tests.pipeline.conftest import recent_day
from adu_pipeline_tests.pipeline.writer_lock_holder import assert_one_holder_and_freed_by_kill
from adu_pipeline_tests.production.conftest import StackProject
from adu_pipeline_tests.production.secrets_scan import postgres_tables, scan_home, scan_rows

REPO = Path(__file__).resolve().parents[2]
DEPLOY_INSTANCE = REPO / "deploy" / "dagster.yaml"
JOB = "crm_customers_export_job"
pytestmark = pytest.mark.xdist_group("postgres")  # one PostgreSQL server under `pytest -n`
ROWS = 300
RUN_TIMEOUT_SECONDS = 300


@dataclass
class Production:
    project: StackProject
    db: str

    @property
    def home(self) -> Path:
        return self.project.home

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))


@pytest.fixture
def production(stack_project, monkeypatch, postgres_server) -> Production:
    """The local stack's project with deploy/dagster.yaml as its instance, on a fresh database."""
    shutil.copy(DEPLOY_INSTANCE, stack_project.home / "dagster.yaml")
    db = postgres_server.create_database()
    env = {
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USERNAME": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": db,
        "DAGSTER_COMPUTE_LOG_DIR": str(stack_project.home / "compute_logs"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Production(stack_project, db)


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


def test_an_export_run_goes_through_the_queue_on_postgres_and_leaves_no_secret(
    production, postgres_server
):
    day = str(recent_day(2))
    write_sample_export(
        production.project.landing / landing_name("crm_export", recent_day(2), ".csv"),
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

    upload = production.project.finished_upload()
    assert upload.status.is_success and upload.output_row_count == meta["rows_written"]

    values = production.project.secrets()
    assert len(values) > len(CREDENTIALS), "no access token was issued: nothing was checked"
    in_files, files = scan_home(production.home, values)
    in_rows, rows = scan_rows(postgres_tables(postgres_server, production.db), values)
    assert files > 0 and rows > 0
    assert in_files == {} and in_rows == {}, (in_files, in_rows)


def test_the_amc_writer_lock_on_postgres_admits_one_process_and_dies_with_it(production):
    """On PostgreSQL the lock is a session advisory lock: held across processes, and freed when
    a killed run's connection closes."""
    assert_one_holder_and_freed_by_kill(str(production.home))
