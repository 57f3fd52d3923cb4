"""The privacy lifecycle over the real local stack: an opt-out file lands, the sensor runs the
opt-out list and the user deletions, the deletion sensor follows them to SUCCEEDED, no raw
opt-out value is stored anywhere but its landing file; the audience health sensor reports a
fresh, then (on the emulator's advanced clock) a stale audience; the preflight refuses a
segment too small for AMC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import dagster as dg
import httpx

from adu_pipeline.amc.bodies import parse_amc_timestamp
from adu_pipeline.lib import keys
from adu_pipeline.lib.audience_health import audience_health_sensor
from adu_pipeline.lib.deletion_sensor import DELETION_SENSOR
from adu_pipeline.lib.metadata import latest_metadata
from adu_pipeline.lib.optout_assets import OPTOUT_SENSOR
from adu_pipeline.lib.status_sensors import initial_cursor
from adu_pipeline.local.demo import write_demo_optouts
from adu_pipeline.local.driver import run_failure_reason
from adu_pipeline.settings import load_settings
from adu_pipeline_tests.pipeline.conftest import recent_day
from adu_pipeline_tests.pipeline.privacy import scan_files, scan_s3

EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
DAY = 86400


def build_audience(pipeline, rows=4000):
    pipeline.write_export(recent_day(1), rows, seed=21)
    driver = pipeline.driver()
    driver.cursors[DELETION_SENSOR] = initial_cursor(pipeline.instance, [])
    driver.tick("segment_files_sensor")
    [export] = driver.tick("landing_file_sensor").runs
    assert run_failure_reason(export) is None
    ticks = driver.until("amc_upload_status", lambda o: any(t.runs for t in o), timeout=60)
    [audience_run] = [r for t in ticks for r in t.runs]
    return driver, audience_run


def test_an_optout_file_becomes_succeeded_deletions_and_no_raw_value_is_kept(pipeline):
    optout_dir = pipeline.root / "optouts"
    pipeline.setenv(ADU_OPTOUT_DIR=str(optout_dir), ADU_AUDIENCE_MARGIN="0")
    driver, audience_run = build_audience(pipeline)
    assert run_failure_reason(audience_run) is None
    export = next(pipeline.landing.glob("crm_export_*.csv"))
    optout_file = optout_dir / "optouts_2026-06-02.csv"
    written = write_demo_optouts(export, optout_file, people=50)

    [run] = driver.tick(OPTOUT_SENSOR).runs
    assert run_failure_reason(run) is None
    assert driver.tick(OPTOUT_SENSOR).runs == []  # the same file is not run twice
    listed = latest_metadata(pipeline.instance, keys.OPTOUTS, None)
    assert listed["rows_in"] == written and listed["rows_rejected"] >= 4
    assert listed["identities_added"] == listed["list_size"] > 50
    sent = latest_metadata(pipeline.instance, keys.user_deletions("us"), None)
    assert sent["requests"] >= 1 and sent["identities_sent"] == listed["list_size"]
    assert sent["status"] == "PENDING"

    ticks = driver.until(
        DELETION_SENSOR, lambda o: sum(len(t.checks()) for t in o) >= sent["requests"], timeout=60
    )
    checks = [c for t in ticks for c in t.checks()]
    assert {c.metadata["request_id"].value for c in checks} == set(sent["request_ids"])
    assert all(c.passed and c.check_name == keys.DELETION_CHECK for c in checks)
    assert driver.tick(DELETION_SENSOR).checks() == []  # reported once

    # a re-run sends nothing new: the file's identities were sent to us already
    again = dg.materialize(
        [a for a in pipeline.defs.assets if getattr(a, "key", None) == keys.user_deletions("us")],
        instance=pipeline.instance,
        resources=dict(pipeline.defs.resources),
    )
    assert again.success
    assert latest_metadata(pipeline.instance, keys.user_deletions("us"), None)["requests"] == 0

    raw = set(EMAIL.findall(optout_file.read_text().lower()))
    assert len(raw) >= 40
    # the people come from the CRM export: both landing files hold them, nothing else may
    landing_files = {optout_file.resolve(), export.resolve()}
    hits = scan_files([pipeline.root, pipeline.emulator.state_dir], raw, exclude=landing_files)
    scanned = hits.pop("<files scanned>")
    assert scanned > 5 and hits == {}
    assert scan_s3(pipeline.s3_client, pipeline.bucket, raw) == {}


def emulator_now(pipeline) -> datetime:
    body = httpx.get(f"{pipeline.emulator.url}/_emulator/clock").json()
    return parse_amc_timestamp(body["now"], "now").replace(tzinfo=UTC)


def advance(pipeline, days: float) -> None:
    httpx.post(f"{pipeline.emulator.url}/_emulator/clock", json={"advanceSeconds": days * DAY})


def test_a_stale_audience_is_a_failed_fresh_check_with_the_reason(pipeline):
    pipeline.setenv(ADU_AUDIENCE_MARGIN="0")
    driver, audience_run = build_audience(pipeline)
    assert run_failure_reason(audience_run) is None
    driver.until("amc_audience_status", lambda o: any(t.checks() for t in o), timeout=60)
    project = pipeline.project
    sensor = audience_health_sensor(
        load_settings(), project.catalog, now=lambda: emulator_now(pipeline)
    )
    state: dict[str, str | None] = {"cursor": None}

    def tick() -> list[dg.AssetCheckEvaluation]:
        with dg.build_sensor_context(
            instance=pipeline.instance,
            cursor=state["cursor"],
            resources=dict(pipeline.defs.resources),
        ) as context:
            result = sensor(context)
        state["cursor"] = result.cursor
        return [e for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation)]

    [fresh] = tick()
    assert fresh.passed and fresh.partition == "loyal_customers"
    assert fresh.check_name == keys.FRESH_CHECK
    assert tick() == []  # reported only when the state changes

    # no line item: after 100 days Amazon (and the emulator) stop refreshing it
    advance(pipeline, 101)
    deadline = time.monotonic() + 30
    with pipeline.amc_client() as client:
        while True:
            [aud] = [a for a in client.iter_audiences() if a.name == "adu loyal customers"]
            refreshed = parse_amc_timestamp(aud.raw["lastRefreshedTime"], "t")
            if (refreshed - parse_amc_timestamp(aud.create_time, "t")).days >= 100:
                break
            assert time.monotonic() < deadline, "the emulator did not refresh the audience"
            time.sleep(0.2)
    advance(pipeline, 10)
    [stale] = tick()
    assert not stale.passed and stale.partition == "loyal_customers"
    assert "100 days" in stale.description and "not refreshed for 10" in stale.description
    assert tick() == []


def test_preflight_refuses_a_segment_under_the_minimum_plus_margin(pipeline):
    pipeline.setenv(ADU_AUDIENCE_MARGIN="100000")
    driver, audience_run = build_audience(pipeline)
    reason = run_failure_reason(audience_run)
    assert reason and "distinct users, under the 102000" in reason
    with pipeline.amc_client() as client:
        assert [a for a in client.iter_audiences() if a.name == "adu loyal customers"] == []
