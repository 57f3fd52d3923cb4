"""The AMC writer lock on a SQLite instance (a file lock in DAGSTER_HOME): one holder at a time
across processes, freed when its process is killed."""

from __future__ import annotations

from adu_pipeline.lib.instance import instance_yaml
from adu_pipeline.lib.writer_lock import lock_id
from adu_pipeline_tests.pipeline.writer_lock_holder import assert_one_holder_and_freed_by_kill


def test_one_process_at_a_time_holds_a_pool_and_kill_minus_9_frees_it(tmp_path):
    (tmp_path / "dagster.yaml").write_text(instance_yaml())
    assert_one_holder_and_freed_by_kill(str(tmp_path))
    assert list((tmp_path / "adu-locks").iterdir())  # the lock files live in DAGSTER_HOME


def test_lock_ids_are_stable_and_differ_per_pool():
    assert lock_id("amc.audiences") == lock_id("amc.audiences")
    assert lock_id("amc.audiences") != lock_id("amc.crm_customers.us")
    assert -(2**63) <= lock_id("amc.audiences") < 2**63
