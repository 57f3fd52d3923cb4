"""The project's datasets, instances and segments as the Dagster layer sees them.

Datasets and instances shape the asset graph, so a bad dataset or instances file stops the code
location from loading, with one line per problem. Segments come and go while Dagster runs: they
are read at each sensor tick and run, and a bad segment file is reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adu_pipeline.dataset import DefinitionError, load_catalog, load_segment
from adu_pipeline.dataset.segments import audience_name_clashes, segment_files
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.settings import Settings


def project_catalog(settings: Settings) -> Any:
    """Datasets and instances, validated together (segments are read separately)."""
    return load_catalog(settings.datasets_dir, None, settings.instances_path)


def dataset_plans(settings: Settings, catalog: Any | None = None) -> list[DatasetPlan]:
    catalog = catalog or project_catalog(settings)
    return [
        DatasetPlan(
            defn,
            settings,
            tuple(catalog.instances[k] for k in catalog.dataset_instances(dataset_id)),
        )
        for dataset_id, defn in catalog.datasets.items()
    ]


@dataclass
class SegmentScan:
    """The segment files now: those that load and fit the catalog, and what is wrong with the
    others."""

    segments: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def problems_by_key(self) -> set[str]:
        """Keys (file stems) of the files that did not load or fit."""
        return {name.rsplit(".", 1)[0] for name in self.problems}

    def problem_lines(self) -> list[str]:
        return [f"{name}: {p}" for name, problems in self.problems.items() for p in problems]


def scan_segments(settings: Settings, catalog: Any) -> SegmentScan:
    scan = SegmentScan()
    folder = settings.segments_dir
    loaded = []
    for path in segment_files(folder) if folder.is_dir() else []:
        try:
            loaded.append(load_segment(path))
        except DefinitionError as exc:
            scan.problems[path.name] = list(exc.problems)
    problems = {s.key: list(catalog.check_segment(s)) for s in loaded}
    for segment, message in audience_name_clashes(loaded, catalog.segment_instance_of):
        problems[segment.key].append(message)
    for segment in loaded:
        if problems[segment.key]:
            scan.problems[Path(segment.path or segment.key).name] = problems[segment.key]
        else:
            scan.segments.setdefault(segment.key, segment)
    return scan
