"""Every setting of the pipeline, read from the environment in one place.

Definitions (which assets, partitions and schedules exist) and runs (paths, S3 layout, thresholds)
read the same `Settings`, so a process never sees two configurations. Values are parsed once per
distinct environment; a bad value is an `InputError` naming the variable. No Dagster here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from adu_pipeline.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
ENVIRONMENTS = ("local", "prod")
FILE_FORMATS = ("csv_gz", "parquet")
DEFAULT_S3_PORT = 9573
DEFAULT_AMC_PORT = 9574
LOCAL_BUCKET = "adu-local"
LOCAL_HOST = "127.0.0.1"
LOCAL_REGION = "us-east-1"
LOCAL_AWS_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto's


@dataclass(frozen=True)
class Settings:
    """Paths are absolute; relative values are taken from the project folder, not the cwd."""

    env: str = "local"
    project_dir: Path = PACKAGE_DIR.parent
    datasets_dir: Path = PACKAGE_DIR.parent / "data/datasets"
    segments_dir: Path = PACKAGE_DIR.parent / "data/segments"
    instances_path: Path = PACKAGE_DIR.parent / "data/instances.yaml"
    landing_dir: Path = PACKAGE_DIR.parent / "data/landing"
    output_dir: Path = PACKAGE_DIR.parent / "data/output"
    optout_dir: Path = PACKAGE_DIR.parent / "data/optouts"
    dagster_home: Path = PACKAGE_DIR.parent / "data/.dagster"
    partition_start: str = "2026-01-01"
    schedule_cron: str = "0 6 * * *"
    s3_bucket: str = LOCAL_BUCKET
    s3_prefix: str = "adu"
    s3_region: str | None = None
    file_format: str = "csv_gz"
    max_part_bytes: int = 500 * 1024 * 1024
    min_identifier_share: float = 0.5
    min_projected_audience: int = 2000
    audience_margin: int = 500  # users above AMC's 2,000 minimum a new audience must count
    preflight_minutes: float = 30.0  # longest wait for the preflight count; 0 = no preflight
    expected_match_rate: float = 0.5
    local_s3_port: int = DEFAULT_S3_PORT
    local_amc_port: int = DEFAULT_AMC_PORT

    @property
    def is_local(self) -> bool:
        return self.env == "local"

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.project_dir / candidate


# variable -> (field, kind); kinds: path, str, int, float, mb
VARIABLES: dict[str, tuple[str, str]] = {
    "ADU_DATASETS_DIR": ("datasets_dir", "path"),
    "ADU_SEGMENTS_DIR": ("segments_dir", "path"),
    "ADU_INSTANCES": ("instances_path", "path"),
    "ADU_LANDING_DIR": ("landing_dir", "path"),
    "ADU_OUTPUT_DIR": ("output_dir", "path"),
    "ADU_OPTOUT_DIR": ("optout_dir", "path"),
    "DAGSTER_HOME": ("dagster_home", "path"),
    "ADU_PARTITION_START": ("partition_start", "date"),
    "ADU_SCHEDULE_CRON": ("schedule_cron", "str"),
    "ADU_S3_BUCKET": ("s3_bucket", "str"),
    "ADU_S3_PREFIX": ("s3_prefix", "str"),
    "ADU_S3_REGION": ("s3_region", "str"),
    "ADU_FILE_FORMAT": ("file_format", "str"),
    "ADU_MAX_PART_MB": ("max_part_bytes", "mb"),
    "ADU_MIN_IDENTIFIER_SHARE": ("min_identifier_share", "float"),
    "ADU_MIN_PROJECTED_AUDIENCE": ("min_projected_audience", "int"),
    "ADU_AUDIENCE_MARGIN": ("audience_margin", "int"),
    "ADU_PREFLIGHT_MINUTES": ("preflight_minutes", "float"),
    "ADU_EXPECTED_MATCH_RATE": ("expected_match_rate", "float"),
    "ADU_LOCAL_S3_PORT": ("local_s3_port", "int"),
    "ADU_LOCAL_AMC_PORT": ("local_amc_port", "int"),
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings for `environ` (default: this process's environment)."""
    source = os.environ if environ is None else environ
    relevant = tuple(
        sorted(
            (k, v)
            for k, v in source.items()
            if k in VARIABLES or k in ("ADU_ENV", "ADU_PROJECT_DIR")
        )
    )
    return _parse(relevant)


@lru_cache(maxsize=16)
def _parse(items: tuple[tuple[str, str], ...]) -> Settings:
    source = dict(items)
    env = source.get("ADU_ENV", "").strip().lower() or "local"
    if env not in ENVIRONMENTS:
        raise InputError(f"ADU_ENV must be local or prod, not {env!r}")
    configured = source.get("ADU_PROJECT_DIR", "").strip()
    project = Path(configured).expanduser().resolve() if configured else PACKAGE_DIR.parent
    defaults = {f.name: f.default for f in fields(Settings)}
    values: dict[str, object] = {"env": env, "project_dir": project}
    for name, field_name in (
        ("datasets_dir", "data/datasets"),
        ("segments_dir", "data/segments"),
        ("instances_path", "data/instances.yaml"),
        ("landing_dir", "data/landing"),
        ("output_dir", "data/output"),
        ("optout_dir", "data/optouts"),
        ("dagster_home", "data/.dagster"),
    ):
        values[name] = project / field_name
    for variable, (field_name, kind) in VARIABLES.items():
        raw = source.get(variable, "").strip()
        if raw:
            values[field_name] = _convert(variable, raw, kind, project)
    if env == "prod" and not source.get("ADU_S3_BUCKET", "").strip():
        raise InputError("ADU_ENV=prod needs ADU_S3_BUCKET (the bucket AMC reads): set it")
    settings = Settings(**{**defaults, **values})
    if settings.file_format not in FILE_FORMATS:
        raise InputError(f"ADU_FILE_FORMAT must be one of {', '.join(FILE_FORMATS)}")
    for name in ("min_identifier_share", "expected_match_rate"):
        if not 0.0 <= getattr(settings, name) <= 1.0:
            raise InputError(f"{_variable(name)} must be between 0 and 1")
    if len(settings.schedule_cron.split()) != 5:
        raise InputError("ADU_SCHEDULE_CRON must be a cron string of 5 fields, like '0 6 * * *'")
    if settings.preflight_minutes < 0:
        raise InputError("ADU_PREFLIGHT_MINUTES must be 0 (no preflight) or a number of minutes")
    if settings.audience_margin < 0:
        raise InputError("ADU_AUDIENCE_MARGIN must be 0 or a positive number of users")
    if settings.max_part_bytes <= 0:
        raise InputError("ADU_MAX_PART_MB must be a positive number of megabytes")
    return settings


def _convert(variable: str, raw: str, kind: str, project: Path) -> object:
    try:
        if kind == "path":
            path = Path(raw).expanduser()
            return path if path.is_absolute() else project / path
        if kind == "int":
            return int(raw)
        if kind == "mb":  # decimals allowed (tests cut tiny parts)
            return int(float(raw) * 1024 * 1024)
        if kind == "float":
            return float(raw)
        if kind == "date":
            from datetime import date

            return date.fromisoformat(raw).isoformat()
    except (ValueError, OverflowError):
        expected = {"int": "a whole number", "mb": "a number", "float": "a number"}
        raise InputError(
            f"{variable} must be {expected.get(kind, 'a date like 2026-01-01')}"
        ) from None
    return raw


def _variable(field_name: str) -> str:
    return next(v for v, (f, _) in VARIABLES.items() if f == field_name)
