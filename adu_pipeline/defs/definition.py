"""The dataset definition and segments, loaded once per process for definitions metadata."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg

from adu_pipeline.dataset import DatasetDefinition, Segment, load_definition, load_segments
from adu_pipeline.defs import project

OWNERS = ["team:marketing-data"]


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> DatasetDefinition:
    return load_definition(path)


def definition_at(path: Path) -> DatasetDefinition:
    """Cached per file version, so an edited definition is picked up by the next run."""
    return _load(str(path), path.stat().st_mtime_ns if path.exists() else 0)


def default_definition() -> DatasetDefinition:
    return definition_at(project.dataset_path())


def segments_at(folder: Path) -> dict[str, Segment]:
    return {s.key: s for s in load_segments(folder)} if folder.is_dir() else {}


def column_schema(defn: DatasetDefinition) -> dg.TableSchema:
    """The output layout as Dagster's column schema (shown on the asset page)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c["name"],
                type=c["type"],
                description=c.get("description") or None,
            )
            for c in defn.columns_for_metadata()
        ]
    )
