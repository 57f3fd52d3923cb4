"""A real pipeline per test: temp Dagster instance, temp landing/output folders, resources
pointing at the real local stack (moto's S3 server and the AMC emulator over HTTP)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from adu_pipeline.definitions import build_definitions
from adu_pipeline.defs.driver import SensorDriver
from adu_pipeline.defs.environments import local_resources
from adu_pipeline.defs.landing import landing_name
from adu_pipeline.defs.project import project_dir
from adu_pipeline.defs.sensors import AMC_AUDIENCE, AMC_UPLOAD, initial_cursor
from adu_pipeline.sample_data import write_sample_export

REPO_DATA = project_dir() / "data"


@dataclass
class Pipeline:
    root: Path
    landing: Path
    output: Path
    segments: Path
    home: Path
    instance: dg.DagsterInstance
    resources: dict[str, Any]
    defs: dg.Definitions
    emulator: Any
    s3_client: Any
    bucket: str

    def write_export(self, day: dt.date, rows: int, seed: int = 7, ext: str = ".csv") -> Path:
        path = self.landing / landing_name(day, ext)
        write_sample_export(path, rows, seed=seed, export_date=day)
        return path

    def driver(self) -> SensorDriver:
        driver = SensorDriver(self.defs, self.instance, quiet=True)
        driver.cursors["amc_upload_status"] = initial_cursor(self.instance, AMC_UPLOAD)
        driver.cursors["amc_audience_status"] = initial_cursor(self.instance, AMC_AUDIENCE)
        return driver

    def amc_client(self):
        return self.resources["amc"].client(budget_seconds=20)

    def s3_keys(self) -> list[str]:
        listing = self.s3_client.list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))

    def rebuild(self, **settings: Any) -> None:
        """New resources (e.g. other thresholds) on the same stack and instance."""
        self.resources = make_resources(self, **settings)
        self.defs = build_definitions(self.resources)


def make_resources(p: Pipeline, **settings: Any) -> dict[str, Any]:
    values = {
        "landing_dir": str(p.landing),
        "output_dir": str(p.output),
        "segments_dir": str(p.segments),
        "min_projected_audience": 10,
        "min_identifier_share": 0.5,
    }
    values.update(settings)
    return local_resources(
        p.s3_client.meta.endpoint_url,
        p.emulator.url,
        bucket=p.bucket,
        environ={},
        amc_credentials={
            "client_id": p.emulator.client_id,
            "client_secret": p.emulator.client_secret,
            "refresh_token": p.emulator.refresh_token,
        },
        **values,
    )


@pytest.fixture
def pipeline(tmp_path: Path, emulator, s3_client, s3_bucket) -> Iterator[Pipeline]:
    """Only the loyal_customers segment (every matched user), so small exports pass 2,000."""
    segments = tmp_path / "segments"
    segments.mkdir()
    shutil.copy(REPO_DATA / "segments" / "loyal_customers.yaml", segments)
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home), overrides={"telemetry": {"enabled": False}})
    p = Pipeline(
        root=tmp_path,
        landing=tmp_path / "landing",
        output=tmp_path / "output",
        segments=segments,
        home=home,
        instance=instance,
        resources={},
        defs=None,  # type: ignore[arg-type]
        emulator=emulator,
        s3_client=s3_client,
        bucket=s3_bucket,
    )
    p.landing.mkdir()
    p.rebuild()
    yield p
    instance.dispose()


def recent_day(days_ago: int = 1) -> dt.date:
    """Inside the segments' relative 30-day window."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)


def metadata_values(event: Any) -> dict[str, Any]:
    return {k: v.value for k, v in event.metadata.items()}


def materializations(result: dg.ExecuteInProcessResult, key: str) -> list[dict[str, Any]]:
    return [
        metadata_values(e.materialization)
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == dg.AssetKey(key)
    ]
