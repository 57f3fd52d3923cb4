"""Dataset definitions (one AMC dataset as YAML), segments (one audience as YAML), the AMC
instances they name, and the catalog that loads and cross-checks them together.

No Dagster here: the Dagster layer wraps these (column schema metadata, checks, assets).
"""

from adu_pipeline.dataset.amc_body import column_body
from adu_pipeline.dataset.catalog import Catalog, load_catalog
from adu_pipeline.dataset.columns import ColumnDefinition
from adu_pipeline.dataset.errors import DefinitionError
from adu_pipeline.dataset.instances import InstanceDefinition, load_instances
from adu_pipeline.dataset.loader import load_definition, parse_definition
from adu_pipeline.dataset.model import DatasetDefinition, PipelineOptions
from adu_pipeline.dataset.segments import Segment, TimeWindow, load_segment, load_segments

__all__ = [
    "Catalog",
    "ColumnDefinition",
    "DatasetDefinition",
    "DefinitionError",
    "InstanceDefinition",
    "PipelineOptions",
    "Segment",
    "TimeWindow",
    "column_body",
    "load_catalog",
    "load_definition",
    "load_instances",
    "load_segment",
    "load_segments",
    "parse_definition",
]


def __getattr__(name: str):
    """Schema helpers import pandera (slow); load them only when asked for."""
    if name in ("summarize_failures", "merge_summaries", "arrow_to_frame", "validate_frame"):
        from adu_pipeline.dataset import schema

        return getattr(schema, name)
    raise AttributeError(name)
