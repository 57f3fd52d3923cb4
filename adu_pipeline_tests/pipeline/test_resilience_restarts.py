"""Restarts of the local stack while work is in flight: the AMC emulator restarting while the
status sensor polls (the sensor resumes from its cursor and reports the upload), and moto's S3
server restarting with every object lost while an upload is queued (that upload fails in AMC;
the next run stages the same content again and starts a new upload)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from adu_pipeline_tests.fixtures.stack import EmulatorFactory, make_s3_client
from adu_pipeline_tests.pipeline.conftest import REPO, make_pipeline, recent_day
from adu_pipeline_tests.pipeline.test_resilience_redelivery import (
    DATASET,
    ClockedEmulators,
    PausableClock,
    deliver,
    rows_by_upload,
    wait_done,
)


def test_the_upload_status_sensor_resumes_after_an_emulator_restart(
    tmp_path, monkeypatch, emulator_factory, s3_client, s3_bucket
):
    clock = PausableClock()
    p = make_pipeline(
        tmp_path, monkeypatch, ClockedEmulators(emulator_factory, clock), s3_client, s3_bucket,
        datasets={DATASET: ["us"]}, segments=(),
    )  # fmt: skip
    try:
        driver = p.driver()
        clock.pause()
        a = deliver(p, recent_day(2), 300, seed=1)
        assert driver.tick("amc_upload_status").checks() == []  # still queued in AMC
        emulator = p.emulator
        emulator.stop()
        down = driver.tick("amc_upload_status")  # AMC unreachable: nothing reported or lost
        assert down.checks() == [] and down.runs == []
        clock.resume()
        emulator_factory.start(
            state_dir=emulator.state_dir, port=emulator.port, config=emulator.config
        )
        ticks = driver.until("amc_upload_status", lambda o: bool(o[-1].checks()), timeout=120)
        [check] = ticks[-1].checks()
        assert check.passed, check.description
        assert check.metadata["upload_id"].value == a["upload_id"]
        assert check.metadata["OutputRowCount"].value == a["rows"]
    finally:
        p.instance.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoProcess:
    """moto's S3 server in its own process, so a restart really loses every object."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(REPO / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert self.process.poll() is None, "moto_server exited"
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


@pytest.fixture
def moto_process() -> Iterator[MotoProcess]:
    moto = MotoProcess(free_port())
    moto.start()
    yield moto
    moto.stop()


def test_objects_lost_in_a_moto_restart_are_staged_again_and_uploaded_again(
    tmp_path, monkeypatch, moto_process
):
    s3 = make_s3_client(moto_process.endpoint_url)
    bucket = "adu-restart-test"
    s3.create_bucket(Bucket=bucket)
    emulators = EmulatorFactory(moto_process.endpoint_url, tmp_path / "emulators")
    clock = PausableClock()
    p = make_pipeline(
        tmp_path, monkeypatch, ClockedEmulators(emulators, clock), s3, bucket,
        datasets={DATASET: ["us"]}, segments=(),
    )  # fmt: skip
    try:
        day = recent_day(2)
        clock.pause()
        a = deliver(p, day, 300, seed=1)
        moto_process.stop()  # every object and the bucket are gone
        moto_process.start()
        clock.resume()
        lost = wait_done(p, a["upload_id"])[a["upload_id"]]
        assert lost.status_raw == "FAILED" and lost.message

        again = deliver(p, day, 300, seed=1)
        assert again["manifest_key"] == a["manifest_key"]  # the same content, the same keys
        assert again["parts_uploaded"] == again["part_count"] and again["manifest_uploaded"] == 1
        assert again["started"] == 1 and again["upload_id"] != a["upload_id"]
        done = wait_done(p, again["upload_id"])[again["upload_id"]]
        assert done.status_raw == "SUCCESS" and done.output_row_count == a["rows"]
        assert rows_by_upload(p) == {again["upload_id"]: a["rows"]}
    finally:
        p.instance.dispose()
        emulators.stop_all()
