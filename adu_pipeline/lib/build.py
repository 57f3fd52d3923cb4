"""Build every definition once per configuration, so the defs/ modules share the same job and
asset objects (a sensor targets the very job its dataset defines)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dagster as dg

from adu_pipeline.lib.audience_assets import audience_asset, audience_job, audience_status_check
from adu_pipeline.lib.catalog import dataset_plans, project_catalog
from adu_pipeline.lib.dataset_defs import dataset_definitions
from adu_pipeline.lib.landing_sensor import landing_sensor
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.lib.segments_sensor import segments_sensor
from adu_pipeline.lib.status_sensors import audience_status_sensor, upload_status_sensor
from adu_pipeline.settings import Settings, load_settings


@dataclass(frozen=True)
class ProjectDefinitions:
    catalog: Any
    plans: tuple[DatasetPlan, ...]
    datasets: dg.Definitions
    landing: dg.Definitions
    uploads: dg.Definitions
    audiences: dg.Definitions


def project_definitions(settings: Settings | None = None) -> ProjectDefinitions:
    settings = settings or load_settings()
    return _build(settings, _files_version(settings))


def _files_version(settings: Settings) -> tuple[Any, ...]:
    """Rebuild when a dataset or instances file changes (code location reload)."""
    paths = sorted(settings.datasets_dir.glob("*.y*ml")) if settings.datasets_dir.is_dir() else []
    paths.append(settings.instances_path)
    return tuple((str(p), p.stat().st_mtime_ns if p.exists() else 0) for p in paths)


@lru_cache(maxsize=8)
def _build(settings: Settings, _version: tuple[Any, ...]) -> ProjectDefinitions:
    catalog = project_catalog(settings)
    plans = tuple(dataset_plans(settings, catalog))
    per_dataset = [dataset_definitions(plan) for plan in plans]
    jobs = [job for defs in per_dataset for job in (defs.jobs or [])]
    return ProjectDefinitions(
        catalog=catalog,
        plans=plans,
        datasets=dg.Definitions.merge(*per_dataset),
        landing=dg.Definitions(sensors=[landing_sensor(settings, list(plans), jobs)]),
        uploads=dg.Definitions(
            sensors=[upload_status_sensor(settings, catalog, list(plans), audience_job)]
        ),
        audiences=dg.Definitions(
            assets=[audience_asset(settings, catalog, list(plans))],
            asset_checks=[audience_status_check(catalog)],
            jobs=[audience_job],
            sensors=[
                segments_sensor(settings, catalog, audience_job),
                audience_status_sensor(catalog),
            ],
        ),
    )
