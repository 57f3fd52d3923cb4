"""Where the project's files live: paths resolve against ADU_PROJECT_DIR or the source checkout."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def project_dir() -> Path:
    """The folder holding data/ (the checkout root unless ADU_PROJECT_DIR says otherwise)."""
    configured = os.environ.get("ADU_PROJECT_DIR", "").strip()
    return Path(configured).resolve() if configured else PACKAGE_DIR.parent


def resolve(path: str | os.PathLike[str]) -> Path:
    """An absolute path; relative ones are taken from the project folder, not the cwd."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else project_dir() / candidate


def env_path(name: str, default: str) -> Path:
    return resolve(os.environ.get(name, "").strip() or default)


def dataset_path() -> Path:
    return env_path("ADU_DATASET", "data/datasets/crm_customers.yaml")


def segments_dir() -> Path:
    return env_path("ADU_SEGMENTS_DIR", "data/segments")


def landing_dir() -> Path:
    return env_path("ADU_LANDING_DIR", "data/landing")


def output_dir() -> Path:
    return env_path("ADU_OUTPUT_DIR", "data/output")


def default_dagster_home() -> Path:
    return resolve(os.environ.get("DAGSTER_HOME", "").strip() or "data/.dagster")
