"""kill -9 of a run in its own process (launched as the daemon launches it: DefaultRunLauncher
through the code server of workspace.yaml) during the AMC upload call and during the S3 write.

Killed alone, the worker is reported failed by its code server, but its pool slot stays claimed
forever; killed with its code server (the whole deployment), the run stays STARTED. The
run_worker_reaper sensor fails such a run and frees the slots; the rerun completes, no manifest
ever names a partial object and AMC gets no second upload."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from adu_pipeline.lib import keys
from adu_pipeline.staging.parts import TEMP_PREFIX
from adu_pipeline.staging.processes import process_alive
from adu_pipeline_tests.amc.conftest import LaggingProxy
from adu_pipeline_tests.pipeline.conftest import REPO, recent_day
from adu_pipeline_tests.staging.gated_s3 import gated_s3  # noqa: F401 - fixture
from adu_pipeline_tests.staging.test_s3_staging import assert_complete

DATASET = "crm_customers"
JOB = keys.export_job(DATASET)
PID_EVENT = re.compile(r"Started process for run \(pid: (\d+)\)")


class OwnProcessRuns:
    """Runs launched in their own process from workspace.yaml, as the daemon launches them."""

    def __init__(self, instance: dg.DagsterInstance, workspace) -> None:
        self.instance, self.workspace = instance, workspace

    def launch(self, partition: str) -> str:
        from dagster._cli.job import _create_run

        request = self.workspace.create_request_context()
        location = request.get_code_location("adu_pipeline")
        repo = next(iter(location.get_repositories().values()))
        run = _create_run(
            instance=self.instance, code_location=location, remote_repo=repo,
            remote_job=repo.get_full_job(JOB), run_config={},
            tags={"dagster/partition": partition}, op_selection=None, run_id=None,
        )  # fmt: skip
        self.instance.submit_run(run.run_id, request)
        return run.run_id

    def wait(self, run_id: str, timeout: float = 300) -> dg.DagsterRun:
        deadline = time.monotonic() + timeout
        while not (run := self.instance.get_run_by_id(run_id)).is_finished:
            assert time.monotonic() < deadline, f"run {run_id} did not finish ({run.status})"
            time.sleep(0.5)
        return run

    def until(self, what: str, condition, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)

    def worker_pid(self, run_id: str) -> int:
        """The pid in the launcher's 'Started process for run (pid: N)' event."""
        for record in self.instance.get_records_for_run(run_id).records:
            found = PID_EVENT.search(record.event_log_entry.message or "")
            if found:
                return int(found.group(1))
        raise AssertionError(f"run {run_id} reported no worker pid")

    def kill_worker(self, run_id: str, with_code_server: bool = False) -> int:
        pid = self.worker_pid(run_id)
        assert process_alive(pid)
        victims = [pid, parent_pid(pid)] if with_code_server else [pid]
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
        for victim in victims:
            self.until(f"pid {victim} to die", lambda v=victim: not process_alive(v), timeout=30)
        return pid

    def materialization(self, run_id: str, key: dg.AssetKey) -> dict:
        [record] = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key), limit=1
        ).records
        assert record.run_id == run_id
        return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@contextmanager
def own_process_runs(p, monkeypatch) -> Iterator[OwnProcessRuns]:
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    monkeypatch.chdir(REPO)
    instance = dg.DagsterInstance.local_temp(str(p.home))
    try:
        with WorkspaceProcessContext(instance, WorkspaceFileTarget(["workspace.yaml"])) as ctx:
            yield OwnProcessRuns(instance, ctx)
    finally:
        instance.dispose()


def reap(p, instance: dg.DagsterInstance) -> None:
    sensor = p.defs.resolve_sensor_def("run_worker_reaper")
    sensor.evaluate_tick(dg.build_sensor_context(instance=instance))


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return records[-1].event_log_entry.dagster_event.message or ""


def claimed_by(instance: dg.DagsterInstance, pool: str) -> list[str]:
    info = instance.event_log_storage.get_concurrency_info(pool)
    return [slot.run_id for slot in info.claimed_slots]


@pytest.fixture
def own_process_pipeline(pipeline_factory, tmp_path, monkeypatch):
    temp = tmp_path / "worker-tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # the run workers' temp part folders
    p = pipeline_factory(datasets={DATASET: ["us"]}, runs_in_own_processes=True)
    p.temp = temp
    return p


def test_a_run_killed_in_the_upload_call_holds_its_slot_until_reaped_then_no_second_upload(
    own_process_pipeline, monkeypatch
):
    p = own_process_pipeline
    upload_key = keys.upload(DATASET, "us")
    pool = p.defs.resolve_assets_def(upload_key).op.pool
    assert pool
    instance_id = p.project.catalog.instances["us"].instance_id
    proxy = LaggingProxy(p.emulator.url)  # AMC creates the upload; its answer never comes
    proxy.delay_reply("POST", f"/amc/advertiserData/{instance_id}/uploads/{DATASET}", 600)
    p.setenv(ADU_LOCAL_AMC_PORT=proxy.url.rsplit(":", 1)[1])
    day = recent_day(2).isoformat()
    p.write_export(recent_day(2), 400, seed=5)
    try:
        with own_process_runs(p, monkeypatch) as runs:
            instance = runs.instance
            instance.event_log_storage.set_concurrency_slots(pool, 1)
            killed = runs.launch(day)
            runs.until("the upload's create", lambda: ("POST", proxy_path(instance_id)) in
                       proxy.completed)  # fmt: skip
            assert claimed_by(instance, pool) == [killed]
            runs.kill_worker(killed)
            assert runs.wait(killed).status == dg.DagsterRunStatus.FAILURE  # its code server saw
            assert claimed_by(instance, pool) == [killed]  # ...but the slot is lost for good

            reap(p, instance)
            assert claimed_by(instance, pool) == []

            rerun = runs.launch(day)
            assert runs.wait(rerun).status == dg.DagsterRunStatus.SUCCESS
            upload = runs.materialization(rerun, upload_key)
            assert upload["started"] == 0  # found the upload the killed run had started
            reap(p, instance)  # a finished run is left alone
            assert instance.get_run_by_id(rerun).status == dg.DagsterRunStatus.SUCCESS
    finally:
        proxy.close()
    p.setenv(ADU_LOCAL_AMC_PORT=str(p.emulator.port))
    with p.amc_client() as client:
        [only] = client.list_uploads(dataset_id=DATASET)
    assert only.upload_id == upload["upload_id"]


def part_folders(p) -> list[Path]:
    """Staging's temp part folders in the workers' TMPDIR (other tools put files there too)."""
    return sorted(p.temp.glob(f"{TEMP_PREFIX}*"))


def proxy_path(instance_id: str) -> str:
    return f"/amc/advertiserData/{instance_id}/uploads/{DATASET}"


def test_a_run_killed_during_the_s3_write_leaves_no_manifest_and_the_rerun_completes(
    own_process_pipeline,
    monkeypatch,
    gated_s3,  # noqa: F811
):
    p = own_process_pipeline
    p.setenv(ADU_LOCAL_S3_PORT=gated_s3.endpoint_url.rsplit(":", 1)[1], ADU_MAX_PART_MB="0.02")
    day = recent_day(3)
    p.write_export(day, 1500, seed=6)
    prefix = f"adu/{DATASET}/export_date={day}/"
    gated_s3.hold(lambda method, path, _: method == "PUT" and path.endswith("/part-00001.csv.gz"))
    with own_process_runs(p, monkeypatch) as runs:
        killed = runs.launch(day.isoformat())
        runs.until("the second part's PUT", gated_s3.arrived.is_set)
        pid = runs.kill_worker(killed, with_code_server=True)
        gated_s3.release()
    assert [f.name.split("-")[2] for f in part_folders(p)] == [str(pid)]
    left = [k for k in p.s3_keys() if k.startswith(prefix)]
    assert left and all(k.endswith("/part-00000.csv.gz") for k in left)  # no manifest

    with own_process_runs(p, monkeypatch) as runs:
        instance = runs.instance
        time.sleep(1)
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED  # forever
        reap(p, instance)
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        assert f"run worker (pid {pid} " in failure_message(instance, killed)
        rerun = runs.launch(day.isoformat())
        assert runs.wait(rerun).status == dg.DagsterRunStatus.SUCCESS
        staged = runs.materialization(rerun, keys.s3_object(DATASET))
    assert staged["parts_uploaded"] == staged["part_count"] - 1
    assert_complete(p.s3_client, p.bucket, staged["manifest_key"])
    assert part_folders(p) == []  # the killed worker's part folder is gone
    with p.amc_client() as client:
        assert len(client.list_uploads(dataset_id=DATASET)) == 1
