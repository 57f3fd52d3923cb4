"""Re-delivery over the real local stack: what AMC holds for a date is always the content of the
last file that landed for it. Landing A, B, then A again re-uploads A (the newest upload of the
date carries B); B landing while A's upload is still queued leaves A's upload loading A's rows
(content-addressed parts: B never overwrites them)."""

from __future__ import annotations

import time
from dataclasses import replace

from adu_pipeline.emulator.models.state import LIVE_ROWS
from adu_pipeline_tests.pipeline.conftest import make_pipeline, materializations, recent_day
from adu_pipeline_tests.pipeline.test_assets import run_export

S3 = "crm_customers/s3_object"
UPLOAD = "crm_customers/us/amc_upload"
DATASET = "crm_customers"


class PausableClock:
    """The emulator's clock; while paused, its jobs do not advance (an upload stays queued)."""

    def __init__(self) -> None:
        self.paused_at: float | None = None

    def __call__(self) -> float:
        return self.paused_at if self.paused_at is not None else time.time()

    def pause(self) -> None:
        self.paused_at = time.time()

    def advance(self, seconds: float) -> None:
        assert self.paused_at is not None
        self.paused_at += seconds

    def resume(self) -> None:
        self.paused_at = None


class ClockedEmulators:
    """emulator_factory whose emulators run on `clock`."""

    def __init__(self, factory, clock: PausableClock) -> None:
        self.factory, self.clock = factory, clock

    def start(self, **kwargs):
        config = kwargs.pop("config")
        config = replace(config, timing=replace(config.timing, clock=self.clock))
        return self.factory.start(config=config, **kwargs)


def deliver(p, day, rows: int, seed: int) -> dict:
    """Land a file for `day`, run the export job; the s3_object and upload metadata."""
    p.write_export(day, rows, seed=seed)
    result = run_export(p, day.isoformat())
    [staged] = materializations(result, S3)
    [upload] = materializations(result, UPLOAD)
    return {**staged, **upload, "s3_manifest_key": staged["manifest_key"]}


def rows_by_upload(p) -> dict[str, int]:
    instance_id = p.project.catalog.instances["us"].instance_id
    rows = p.emulator.app.store.all(
        "SELECT upload_id, count(*) AS n FROM rows WHERE instance_id=? AND data_set_id=?"
        f" AND {LIVE_ROWS} GROUP BY upload_id",
        (instance_id, DATASET),
    )
    return {r["upload_id"]: r["n"] for r in rows}


def wait_done(p, *upload_ids: str) -> dict[str, object]:
    with p.amc_client() as client:
        return {
            u: client.wait_for_upload(DATASET, u, timeout=120, max_interval=0.2) for u in upload_ids
        }


def test_a_then_b_then_a_for_one_date_leaves_as_rows_in_amc(pipeline):
    day = recent_day(3)
    a = deliver(pipeline, day, 300, seed=1)
    wait_done(pipeline, a["upload_id"])
    b = deliver(pipeline, day, 200, seed=2)
    wait_done(pipeline, b["upload_id"])
    assert rows_by_upload(pipeline) == {b["upload_id"]: b["rows"]}

    again = deliver(pipeline, day, 300, seed=1)
    assert again["manifest_key"] == a["manifest_key"]  # the same content, the same keys
    assert again["parts_uploaded"] == 0  # A's parts are still there, untouched by B
    assert again["started"] == 1 and again["upload_id"] not in (a["upload_id"], b["upload_id"])
    done = wait_done(pipeline, again["upload_id"])[again["upload_id"]]
    assert done.status_raw == "SUCCESS" and done.output_row_count == a["rows"]
    assert rows_by_upload(pipeline) == {again["upload_id"]: a["rows"]}

    repeat = deliver(pipeline, day, 300, seed=1)  # AMC holds A now: nothing to start
    assert repeat["started"] == 0 and repeat["upload_id"] == again["upload_id"]
    with pipeline.amc_client() as client:
        assert len(client.list_uploads(dataset_id=DATASET)) == 3


def test_b_landing_while_as_upload_is_queued_leaves_each_upload_its_own_rows(
    tmp_path, monkeypatch, emulator_factory, s3_client, s3_bucket
):
    clock = PausableClock()
    p = make_pipeline(
        tmp_path, monkeypatch, ClockedEmulators(emulator_factory, clock), s3_client, s3_bucket,
        datasets={DATASET: ["us"]}, segments=(),
    )  # fmt: skip
    try:
        day = recent_day(2)
        clock.pause()
        a = deliver(p, day, 300, seed=1)
        clock.advance(1.0)  # A is due first (AMC works in order); still not read from S3
        b = deliver(p, day, 200, seed=2)
        with p.amc_client() as client:
            queued = client.get_upload(DATASET, a["upload_id"])
        assert not queued.status.is_terminal  # A is still queued when B lands
        assert b["started"] == 1 and b["upload_id"] != a["upload_id"]
        assert set(a["part_keys"]).isdisjoint(b["part_keys"])
        clock.resume()
        done = wait_done(p, a["upload_id"], b["upload_id"])
        assert done[a["upload_id"]].status_raw == "SUCCESS"
        assert done[a["upload_id"]].output_row_count == a["rows"]
        assert done[b["upload_id"]].output_row_count == b["rows"]
        assert a["rows"] != b["rows"]
        assert rows_by_upload(p) == {b["upload_id"]: b["rows"]}  # B landed last: AMC holds B
    finally:
        p.instance.dispose()
