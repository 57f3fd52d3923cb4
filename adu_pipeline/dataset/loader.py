"""Load a dataset definition YAML and check it against AMC's rules, reporting every violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adu_pipeline.dataset.model import DatasetDefinition
from adu_pipeline.dataset.yaml_io import read_yaml_mapping, validate

KIND = "dataset definition"


def load_definition(path: str | Path) -> DatasetDefinition:
    """Read and validate one dataset YAML file; raises DefinitionError listing every problem."""
    return parse_definition(read_yaml_mapping(path, KIND), path=str(path))


def parse_definition(data: dict[str, Any], path: str = "<definition>") -> DatasetDefinition:
    """Validate an already-parsed mapping (same rules and messages as load_definition)."""
    defn = validate(DatasetDefinition, data, path, KIND)
    defn._path = path
    return defn
