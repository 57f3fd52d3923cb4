"""A real pipeline per test: temp Dagster instance, temp project folders, definitions loaded the
way `dagster dev` loads them (load_from_defs_folder, settings from the environment), pointing at
the real local stack (moto's S3 server and the AMC emulator over HTTP, serving the instances of
the test's instances.yaml)."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from adu_pipeline.emulator.config import Credentials, EmulatorConfig, Hostile
from adu_pipeline.lib import keys
from adu_pipeline.lib.build import project_definitions
from adu_pipeline.lib.instance import instance_yaml
from adu_pipeline.lib.resources import amc_client_outside_run
from adu_pipeline.lib.status_sensors import initial_cursor
from adu_pipeline.local.conversions import write_conversions_export
from adu_pipeline.local.driver import SensorDriver
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.local.stack import instances_for_emulator
from adu_pipeline.settings import load_settings
from adu_pipeline.staging.landing import landing_name
from adu_pipeline_tests.fixtures.stack import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_REFRESH_TOKEN,
)

REPO = Path(__file__).resolve().parents[2]
REPO_DATA = REPO / "data"


@dataclass
class Pipeline:
    root: Path
    datasets: Path
    segments: Path
    instances_path: Path
    landing: Path
    output: Path
    home: Path
    instance: dg.DagsterInstance
    emulator: Any
    s3_client: Any
    bucket: str
    monkeypatch: pytest.MonkeyPatch

    @property
    def project(self):
        return project_definitions(load_settings())

    @property
    def defs(self) -> dg.Definitions:
        from adu_pipeline.definitions import defs

        return defs()

    def write_export(self, day: dt.date, rows: int, seed: int = 7, ext: str = ".csv") -> Path:
        path = self.landing / landing_name("crm_export", day, ext)
        write_sample_export(path, rows, seed=seed, export_date=day)
        return path

    def write_conversions(self, day: dt.date, rows: int, seed: int = 7) -> Path:
        path = self.landing / landing_name("offline_conversions", day)
        return write_conversions_export(path, rows, seed=seed, export_date=day)

    def setenv(self, **values: str) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)

    def driver(self) -> SensorDriver:
        driver = SensorDriver(self.defs, self.instance, quiet=True)
        uploads = [keys.upload(p.id, i.key) for p in self.project.plans for i in p.instances]
        driver.cursors["amc_upload_status"] = initial_cursor(self.instance, uploads)
        driver.cursors["amc_audience_status"] = initial_cursor(self.instance, [keys.AUDIENCE])
        return driver

    def amc_client(self, instance_key: str = "us"):
        instance = self.project.catalog.instances[instance_key]
        return amc_client_outside_run(self.defs.resources["amc"], instance)

    def s3_keys(self) -> list[str]:
        listing = self.s3_client.list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))


def keep_datasets(folder: Path, wanted: dict[str, list[str]]) -> None:
    """Copy the repo's dataset files named in `wanted`, sending each to the given instances."""
    folder.mkdir(parents=True, exist_ok=True)
    for dataset_id, instances in wanted.items():
        data = yaml.safe_load((REPO_DATA / "datasets" / f"{dataset_id}.yaml").read_text())
        data.setdefault("pipeline", {})["instances"] = instances
        (folder / f"{dataset_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def make_pipeline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator_factory: Any,
    s3_client: Any,
    s3_bucket: str,
    *,
    datasets: dict[str, list[str]],
    segments: tuple[str, ...],
    hostile: Hostile | None = None,
) -> Pipeline:
    instances_path = tmp_path / "instances.yaml"
    shutil.copy(REPO_DATA / "instances.yaml", instances_path)
    from adu_pipeline.dataset import load_instances

    config = EmulatorConfig.from_instances(
        instances_for_emulator(load_instances(instances_path)),
        credentials=TEST_CREDENTIALS,
        hostile=hostile or Hostile(),
    )
    emulator = emulator_factory.start(config=config)
    keep_datasets(tmp_path / "datasets", datasets)
    (tmp_path / "segments").mkdir()
    for name in segments:
        shutil.copy(REPO_DATA / "segments" / f"{name}.yaml", tmp_path / "segments")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml())  # what every process of the test opens
    instance = dg.DagsterInstance.local_temp(str(home))
    p = Pipeline(
        root=tmp_path,
        datasets=tmp_path / "datasets",
        segments=tmp_path / "segments",
        instances_path=instances_path,
        landing=tmp_path / "landing",
        output=tmp_path / "output",
        home=home,
        instance=instance,
        emulator=emulator,
        s3_client=s3_client,
        bucket=s3_bucket,
        monkeypatch=monkeypatch,
    )
    p.landing.mkdir()
    p.setenv(
        ADU_ENV="local",
        ADU_DATASETS_DIR=str(p.datasets),
        ADU_SEGMENTS_DIR=str(p.segments),
        ADU_INSTANCES=str(instances_path),
        ADU_LANDING_DIR=str(p.landing),
        ADU_OUTPUT_DIR=str(p.output),
        ADU_LOCAL_S3_PORT=s3_client.meta.endpoint_url.rsplit(":", 1)[1],
        ADU_LOCAL_AMC_PORT=str(emulator.port),
        ADU_S3_BUCKET=s3_bucket,
        ADU_MIN_PROJECTED_AUDIENCE="10",
        ADU_MIN_IDENTIFIER_SHARE="0.5",
        ADU_AUDIENCE_MARGIN="0",  # small test exports: preflight at AMC's own 2,000
        ADU_AMC_CLIENT_ID=emulator.client_id,
        ADU_AMC_CLIENT_SECRET=emulator.client_secret,
        ADU_AMC_REFRESH_TOKEN=emulator.refresh_token,
        DAGSTER_HOME=str(home),
    )
    return p


@pytest.fixture
def pipeline(tmp_path, monkeypatch, emulator_factory, s3_client, s3_bucket) -> Iterator[Pipeline]:
    """crm_customers to instance us only, and the loyal_customers segment (every matched user),
    so small exports pass AMC's 2,000 minimum."""
    p = make_pipeline(
        tmp_path,
        monkeypatch,
        emulator_factory,
        s3_client,
        s3_bucket,
        datasets={"crm_customers": ["us"]},
        segments=("loyal_customers",),
    )
    yield p
    p.instance.dispose()


@pytest.fixture
def pipeline_factory(tmp_path, monkeypatch, emulator_factory, s3_client, s3_bucket):
    """make_pipeline with other datasets and segments; `runs_in_own_processes` writes a
    dagster.yaml whose runs launch at once in their own process (no daemon in a test)."""
    made: list[Pipeline] = []

    def make(*, datasets, segments=(), runs_in_own_processes=False, hostile=None) -> Pipeline:
        p = make_pipeline(
            tmp_path, monkeypatch, emulator_factory, s3_client, s3_bucket,
            datasets=datasets, segments=segments, hostile=hostile,
        )  # fmt: skip
        if runs_in_own_processes:
            p.instance.dispose()
            (p.home / "dagster.yaml").write_text(instance_yaml(IMMEDIATE_RUNS))
        made.append(p)
        return p

    yield make
    for p in made:
        p.instance.dispose()


TEST_CREDENTIALS = Credentials(
    client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, refresh_token=TEST_REFRESH_TOKEN
)
IMMEDIATE_RUNS = {
    "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "DefaultRunCoordinator"}
}


def recent_day(days_ago: int = 1) -> dt.date:
    """Inside the segments' relative 30-day window."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)


def metadata_values(event: Any) -> dict[str, Any]:
    return {k: v.value for k, v in event.metadata.items()}


def materializations(result: dg.ExecuteInProcessResult, key: str) -> list[dict[str, Any]]:
    asset_key = dg.AssetKey.from_user_string(key)
    return [
        metadata_values(e.materialization)
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == asset_key
    ]


def break_a_part(p: Pipeline, partition: str) -> None:
    """Someone overwrites a staged part in S3 with a row AMC must refuse (a raw value in a PII
    column), so the upload AMC runs next ends FAILED with a message naming the column."""
    [key] = [k for k in p.s3_keys() if "/part-" in k and f"={partition}/" in k]
    body = gzip.decompress(p.s3_client.get_object(Bucket=p.bucket, Key=key)["Body"].read())
    header, first, *rest = body.decode().splitlines()
    column = [name.strip('"') for name in header.split(",")].index("email")
    cells = first.split(",")
    cells[column] = '"not-a-hash"'
    broken = "\n".join([header, ",".join(cells), *rest]) + "\n"
    p.s3_client.put_object(Bucket=p.bucket, Key=key, Body=gzip.compress(broken.encode()))
