"""Two runs at once of the same partition (a double click, a sensor and a manual run, a backfill
over the schedule) start exactly one upload; two of the same segment create one audience; two
opt-out runs send each opted-out identity to AMC once.

Each run is a separate (spawned) process on the same Dagster instance (SQLite in DAGSTER_HOME),
started together at a barrier, as the daemon or the UI would launch them.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import time

import dagster as dg
import pytest

from adu_pipeline.definitions import defs
from adu_pipeline.lib import keys, optout_assets
from adu_pipeline.lib.run_reaper import assign_stranded_steps
from adu_pipeline.local.demo import write_demo_optouts
from adu_pipeline_tests.pipeline.conftest import recent_day
from adu_pipeline_tests.pipeline.test_assets import materialize

TRIALS = 3  # per test; `pytest --count`-style repeats are run by hand (see the closing notes)
# spawn, not fork: a forked child of a process that already ran DuckDB can crash in DuckDB
PROCESSES = multiprocessing.get_context("spawn")


def _run_in_child(home: str, job_name: str, partition: str | None, barrier, results) -> None:
    """One run in its own process: its own instance connection, started at the barrier."""
    instance = dg.DagsterInstance.local_temp(home)
    try:
        job = defs().resolve_job_def(job_name)
        barrier.wait(timeout=60)
        result = job.execute_in_process(
            instance=instance, partition_key=partition, raise_on_error=False
        )
        results.put((partition, result.success, _failure(result)))
    except BaseException as exc:  # the parent must hear of it, not wait for a result
        results.put((partition, False, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        instance.dispose()


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            return event.step_failure_data.error.message
    return ""


def run_twice_at_once(
    pipeline, job_name: str, partition: str | None
) -> list[tuple[str | None, bool, str]]:
    pipeline.instance.dispose()  # the children open their own connections
    barrier, results = PROCESSES.Barrier(2), PROCESSES.Queue()
    children = [
        PROCESSES.Process(
            target=_run_in_child, args=(str(pipeline.home), job_name, partition, barrier, results)
        )
        for _ in range(2)
    ]
    for child in children:
        child.start()
    outcomes = []
    deadline = time.monotonic() + 300
    with dg.DagsterInstance.local_temp(str(pipeline.home)) as instance:
        while len(outcomes) < len(children):
            assert time.monotonic() < deadline, f"runs still going after 300 s: {outcomes}"
            try:
                outcomes.append(results.get(timeout=1))
            except queue.Empty:
                assign_stranded_steps(instance)  # what the daemon's reaper sensor does
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    return outcomes


@pytest.fixture(autouse=True)
def _no_fork_warnings(monkeypatch):
    monkeypatch.setenv("PYTHONWARNINGS", "ignore::DeprecationWarning")
    assert os.name == "posix"


def test_two_runs_of_one_partition_at_once_start_exactly_one_upload(pipeline):
    for trial in range(TRIALS):
        day = recent_day(trial + 1)
        pipeline.write_export(day, 400, seed=trial)
        outcomes = run_twice_at_once(pipeline, keys.export_job("crm_customers"), day.isoformat())
        assert all(ok for _, ok, _ in outcomes), outcomes
        with pipeline.amc_client() as client:
            uploads = [
                u
                for u in client.list_uploads(dataset_id="crm_customers")
                if f"export_date={day.isoformat()}/" in u.data_source["sourceManifestS3Key"]
            ]
        assert len(uploads) == 1, f"trial {trial}: {len(uploads)} uploads"
    with pipeline.amc_client() as client:
        assert len(client.list_uploads(dataset_id="crm_customers")) == TRIALS


def test_two_runs_of_one_segment_at_once_create_exactly_one_audience(pipeline_factory):
    pipeline = pipeline_factory(
        datasets={"crm_customers": ["us"]}, segments=("loyal_customers", "gold_customers")
    )
    pipeline.setenv(ADU_PREFLIGHT_MINUTES="0")  # the lock, not the preflight: gold is small
    day = recent_day()
    pipeline.write_export(day, 2500, seed=9)
    assert materialize(
        pipeline,
        ["crm_customers/hashed", "crm_customers/s3_object", "crm_customers/us/amc_dataset",
         "crm_customers/us/amc_upload"],
        day.isoformat(),
    ).success  # fmt: skip
    segments = ["loyal_customers", "gold_customers", "loyal_customers"][:TRIALS]
    pipeline.instance.add_dynamic_partitions(keys.SEGMENT_PARTITIONS, sorted(set(segments)))
    for segment in segments:  # the third trial: a segment whose audience already exists
        outcomes = run_twice_at_once(pipeline, keys.AUDIENCE_JOB, segment)
        assert all(ok for _, ok, _ in outcomes), outcomes
        with pipeline.amc_client() as client:
            names = [a.name for a in client.list_audiences()]
        assert sorted(set(names)) == sorted(names), names  # never twice
    assert len(names) == 2


def test_two_optout_runs_at_once_send_each_identity_once(pipeline):
    """Probabilistic (the window is the moment between the first run's send and its stored
    result); the test below pins that moment deterministically."""
    optout_dir = pipeline.root / "optouts"
    pipeline.setenv(ADU_OPTOUT_DIR=str(optout_dir))
    sent_before = 0
    for trial in range(TRIALS):  # each trial lands a new file, of other people
        export = pipeline.write_export(recent_day(trial + 1), 600, seed=4 + trial)
        write_demo_optouts(export, optout_dir / f"optouts_2026-06-0{trial + 1}.csv", people=20)
        outcomes = run_twice_at_once(pipeline, keys.OPTOUT_JOB, None)
        assert all(ok for _, ok, _ in outcomes), outcomes
        sent = pipeline.emulator.app.store.all(
            "SELECT instance_id, identities FROM user_deletions ORDER BY seq"
        )
        per_instance = [
            (row["instance_id"], json.dumps(i, sort_keys=True))
            for row in sent
            for i in json.loads(row["identities"])
        ]
        this_trial = per_instance[sent_before:]  # files may share people: compare within one
        assert this_trial, f"trial {trial}: nothing new was sent"
        assert len(this_trial) == len(set(this_trial)), f"trial {trial}: sent twice"
        sent_before = len(per_instance)


def test_the_deletion_receipt_is_stored_before_the_writer_lock_is_released(pipeline, monkeypatch):
    """The deterministic half of the test above: the real lock, watched as it is released."""
    optout_dir = pipeline.root / "optouts"
    pipeline.setenv(ADU_OPTOUT_DIR=str(optout_dir))
    export = pipeline.write_export(recent_day(), 300, seed=5)
    write_demo_optouts(export, optout_dir / "optouts_2026-06-01.csv", people=10)
    seen_at_release: list[set[str]] = []
    real_lock = optout_assets.amc_writer

    @contextlib.contextmanager
    def watched(context, pool, **kwargs):
        with real_lock(context, pool, **kwargs):
            yield
            seen_at_release.append(optout_assets.sent_files(context.instance, context.asset_key))

    monkeypatch.setattr(optout_assets, "amc_writer", watched)
    wanted = {keys.OPTOUTS, keys.user_deletions("us")}
    assets = [a for a in pipeline.defs.assets if getattr(a, "key", None) in wanted]
    result = dg.materialize(
        assets, instance=pipeline.instance, resources=dict(pipeline.defs.resources)
    )
    assert result.success
    assert len(seen_at_release) == 1 and len(seen_at_release[0]) == 1, seen_at_release


def test_a_pool_that_lets_two_runs_in_is_refused_before_any_amc_call(pipeline):
    """Exactly-once rests on the pool limit; an instance without it fails with the fix."""
    day = recent_day()
    pipeline.write_export(day, 300)
    pipeline.instance.event_log_storage.set_concurrency_slots(
        keys.amc_pool("crm_customers", "us"), 2
    )
    result = materialize(
        pipeline,
        ["crm_customers/hashed", "crm_customers/s3_object", "crm_customers/us/amc_dataset"],
        day.isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    message = _failure(result)
    assert "lets 2 runs write to AMC at once" in message and "default_limit: 1" in message
    with pipeline.amc_client() as client:
        assert client.list_datasets() == []
