"""Everything the project declares, loaded and cross-checked at once: datasets, segments and the
AMC instances they name. One DefinitionError lists every problem of every file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adu_pipeline.dataset.errors import DefinitionError
from adu_pipeline.dataset.instances import InstanceDefinition, load_instances
from adu_pipeline.dataset.loader import load_definition
from adu_pipeline.dataset.model import DatasetDefinition
from adu_pipeline.dataset.segments import (
    Segment,
    audience_name_clashes,
    load_segment,
    segment_files,
)
from adu_pipeline.dataset.sql_check import sql_problems

KIND = "project definitions"


@dataclass(frozen=True)
class Catalog:
    """Datasets by id, segments by key, instances by key (file order: the first is the default)."""

    datasets: dict[str, DatasetDefinition]
    segments: dict[str, Segment]
    instances: dict[str, InstanceDefinition]

    @property
    def default_instance(self) -> str:
        return next(iter(self.instances))

    def dataset_instances(self, dataset_id: str) -> tuple[str, ...]:
        """The instances a dataset is uploaded to (default: the first instance)."""
        return self.datasets[dataset_id].pipeline.instances or (self.default_instance,)

    def segment_instance(self, key: str) -> str:
        return self.segment_instance_of(self.segments[key])

    def segment_datasets(self, key: str) -> tuple[str, ...]:
        return self.segment_datasets_of(self.segments[key])

    def segment_instance_of(self, segment: Segment) -> str:
        """The instance a segment runs in, also for one not in `segments` (read later)."""
        return segment.instance or self.default_instance

    def segment_datasets_of(self, segment: Segment) -> tuple[str, ...]:
        """The catalog's datasets the segment's SQL reads, in catalog order."""
        return segment.datasets_read(self.datasets)

    def check_segment(self, segment: Segment) -> list[str]:
        """What stops this segment from running in its instance (empty when nothing does)."""
        instance_key = self.segment_instance_of(segment)
        instance = self.instances.get(instance_key)
        if instance is None:
            return [f"instance: '{instance_key}' is not in the instances file ({self._known()})"]
        problems = []
        linked = instance.dsp_advertisers
        if linked and segment.advertiser_id not in linked:
            problems.append(
                f"advertiser_id: {segment.advertiser_id} is not a DSP advertiser linked to "
                f"instance {instance_key} (linked: {', '.join(linked)})"
            )
        read = self.segment_datasets_of(segment)
        if not read:
            problems.append(f"sql: reads none of the datasets {', '.join(self.datasets)}")
        for dataset_id in read:
            if instance_key not in self.dataset_instances(dataset_id):
                problems.append(
                    f"sql: reads {dataset_id}, which is not uploaded to instance {instance_key} "
                    f"(it goes to {', '.join(self.dataset_instances(dataset_id))})"
                )
        if read and not problems:
            problems += sql_problems(segment.sql, {d: self.datasets[d] for d in read})
        return problems

    def _known(self) -> str:
        return "known: " + ", ".join(self.instances)


def load_catalog(
    datasets_dir: str | Path, segments_dir: str | Path | None, instances_path: str | Path
) -> Catalog:
    """Load and cross-check the whole project. No segments folder (or None) means no segments;
    a missing instances file or datasets folder is an error."""
    problems: list[str] = []
    instances = _instances(Path(instances_path), problems)
    datasets = _datasets(Path(datasets_dir), problems)
    catalog = Catalog(datasets, {}, instances)
    for defn in datasets.values():
        unknown = [k for k in defn.pipeline.instances if k not in instances]
        if unknown and instances:
            problems.append(
                f"{_label(defn.path)}: pipeline.instances: {', '.join(unknown)} not in the "
                f"instances file ({catalog._known()})"
            )
    segments = _segments(Path(segments_dir) if segments_dir else None, problems)
    if instances and datasets:
        for segment in segments.values():
            problems += [f"{_label(segment.path)}: {p}" for p in catalog.check_segment(segment)]
        clashes = audience_name_clashes(segments.values(), catalog.segment_instance_of)
        problems += [f"{_label(segment.path)}: {message}" for segment, message in clashes]
    if problems:
        raise DefinitionError(Path(datasets_dir).parent, problems, KIND)
    return Catalog(datasets, segments, instances)


def _instances(path: Path, problems: list[str]) -> dict[str, InstanceDefinition]:
    try:
        return {i.key: i for i in load_instances(path)}
    except DefinitionError as exc:
        problems += [f"{path}: {p}" for p in exc.problems]
        return {}


def _datasets(folder: Path, problems: list[str]) -> dict[str, DatasetDefinition]:
    if not folder.is_dir():
        problems.append(f"{folder}: dataset folder not found")
        return {}
    datasets: dict[str, DatasetDefinition] = {}
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    for path in files:
        try:
            defn = load_definition(path)
        except DefinitionError as exc:
            problems += [f"{_label(path)}: {p}" for p in exc.problems]
            continue
        if defn.id in datasets:
            problems.append(
                f"{_label(path)}: id: '{defn.id}' is also the id of "
                f"{_label(datasets[defn.id].path)}"
            )
            continue
        datasets[defn.id] = defn
    if not files:
        problems.append(f"{folder}: no dataset definitions (*.yaml)")
    return datasets


def _segments(folder: Path | None, problems: list[str]) -> dict[str, Segment]:
    if folder is None or not folder.is_dir():
        return {}
    segments: dict[str, Segment] = {}
    for path in segment_files(folder):
        try:
            segment = load_segment(path)
        except DefinitionError as exc:
            problems += [f"{_label(path)}: {p}" for p in exc.problems]
            continue
        if segment.key in segments:
            problems.append(f"{_label(path)}: another file has the segment key {segment.key}")
            continue
        segments[segment.key] = segment
    return segments


def _label(path: str | Path | None) -> str:
    """'data/segments/a.yaml' -> 'segments/a.yaml': short, and still says which folder."""
    if path is None:
        return "<definition>"
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name
