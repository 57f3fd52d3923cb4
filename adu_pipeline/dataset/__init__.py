"""Dataset definition (one AMC dataset as YAML) and segment (one audience as YAML) libraries.

No Dagster here: the Dagster layer wraps these (column schema metadata, checks, assets).
"""

from adu_pipeline.dataset.amc_body import add_column_body, column_body, create_body
from adu_pipeline.dataset.diff import DatasetDiff, definition_diff
from adu_pipeline.dataset.loader import load_definition, parse_definition
from adu_pipeline.dataset.model import ColumnDefinition, DatasetDefinition, DefinitionError
from adu_pipeline.dataset.segments import (
    Segment,
    TimeWindow,
    load_segment,
    load_segments,
    segment_diff,
)

__all__ = [
    "ColumnDefinition",
    "DatasetDefinition",
    "DatasetDiff",
    "DefinitionError",
    "Segment",
    "TimeWindow",
    "add_column_body",
    "column_body",
    "create_body",
    "definition_diff",
    "load_definition",
    "load_segment",
    "load_segments",
    "parse_definition",
    "segment_diff",
]


def __getattr__(name: str):
    """Schema helpers import pandera (slow); load them only when asked for."""
    if name in ("summarize_failures", "merge_summaries", "arrow_to_frame", "validate_frame"):
        from adu_pipeline.dataset import schema

        return getattr(schema, name)
    raise AttributeError(name)
