"""The dataset definition as data: one AMC dataset, its columns, and where each comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adu_pipeline.errors import AduError
from adu_pipeline.normalization import PiiType

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

# AMC enums, spelled exactly as in the ADU OpenAPI document (AdvertiserDataUpload 3.0).
DATA_TYPES = ("STRING", "INTEGER", "LONG", "DECIMAL", "TIMESTAMP", "DATE")
COLUMN_TYPES = ("DIMENSION", "METRIC")
PERIODS = ("PT1H", "P1D", "P1M")
EXTERNAL_IDENTITY_TYPES = (
    "MAID", "LIVERAMP", "EXPERIAN", "IDFA", "KANTAR", "MERKLE", "NEUSTAR", "REALID", "SAMBATV",
)  # fmt: skip
CONSENT_TYPES = ("TCF", "GPP", "AMZN_USER_DATA", "AMZN_AD_STORAGE")
HASHED_PII_TYPES = tuple(t.value for t in PiiType)  # AMC's COUNTRY_CODE is not hashed by us
EVENT_TIME_TYPES = ("DATE", "TIMESTAMP")


class DefinitionError(AduError):
    """A dataset or segment file breaks one or more rules; every problem is listed at once."""

    def __init__(self, path: object, problems: list[str], kind: str = "dataset definition"):
        self.path = str(path)
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{self.path}: invalid {kind} ({count} {noun}): " + "; ".join(self.problems)
        )


@dataclass(frozen=True)
class ColumnDefinition:
    """One AMC column plus `source`, the CRM export column it is filled from."""

    name: str
    data_type: str
    column_type: str
    source: str | None
    description: str = ""
    nullable: bool = True
    hashed_pii: PiiType | None = None
    external_identity: str | None = None
    is_country_code: bool = False
    is_main_event_time: bool = False
    consent_type: str | None = None

    @property
    def is_identity(self) -> bool:
        """True for columns AMC uses to resolve users (hashed PII or an external id)."""
        return self.hashed_pii is not None or self.external_identity is not None


@dataclass(frozen=True)
class DatasetDefinition:
    """One AMC dataset: the single source of truth for schema, AMC body and export mapping."""

    id: str
    description: str
    period: str | None
    country_code: str | None
    columns: tuple[ColumnDefinition, ...]
    path: str | None = None

    @property
    def main_event_time(self) -> ColumnDefinition | None:
        return next((c for c in self.columns if c.is_main_event_time), None)

    @property
    def is_fact(self) -> bool:
        """FACT datasets (with a main event time) are partitioned by time in AMC."""
        return self.main_event_time is not None

    @property
    def country_column(self) -> ColumnDefinition | None:
        return next((c for c in self.columns if c.is_country_code), None)

    @property
    def pii_columns(self) -> tuple[ColumnDefinition, ...]:
        return tuple(c for c in self.columns if c.hashed_pii is not None)

    def column(self, name: str) -> ColumnDefinition:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def source_mapping(self) -> dict[str, str]:
        """Export column -> dataset column, for every column read from the export."""
        return {c.source: c.name for c in self.columns if c.source is not None}

    def create_body(self) -> dict[str, Any]:
        from adu_pipeline.dataset.amc_body import create_body

        return create_body(self)

    def pandera_schema(self, *, strict: bool = True, ordered: bool = True) -> pa.DataFrameSchema:
        from adu_pipeline.dataset.schema import build_schema

        return build_schema(self, strict=strict, ordered=ordered)

    def validate_output(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Validate a hashed frame; the result is value-free, ready for metadata and logs."""
        from adu_pipeline.dataset.schema import validate_frame

        return validate_frame(self, frame)

    def columns_for_metadata(self) -> list[dict[str, str]]:
        from adu_pipeline.dataset.schema import columns_for_metadata

        return columns_for_metadata(self)
