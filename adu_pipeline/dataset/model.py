"""The dataset definition as data: one AMC dataset, its columns, where each comes from, and how
the pipeline ships it (the `pipeline:` block, ours, never sent to AMC)."""

from __future__ import annotations

import codecs
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from adu_pipeline.dataset.amc_body import column_body
from adu_pipeline.dataset.columns import ColumnDefinition, check_description
from adu_pipeline.dataset.errors import FileModel, details_of, problem, raise_problems
from adu_pipeline.dataset.regions import REGIONS, expand_regions
from adu_pipeline.normalization import SUPPORTED_COUNTRIES

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

Period = Literal["PT1H", "P1D", "P1M"]
UpdateStrategy = Literal["ADDITIVE", "FULL_REPLACE", "OVERLAP_REPLACE", "OVERLAP_KEEP"]
FACT_ONLY_STRATEGIES = ("OVERLAP_REPLACE", "OVERLAP_KEEP")
DEFAULT_PERIOD = "P1D"  # AMC's default partition granularity for FACT datasets
MAX_COLUMNS = 100
ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
LANDING_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
INSTANCE_KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


class PipelineOptions(FileModel):
    """How the pipeline ships a dataset. `landing` defaults to the dataset id; an empty
    `instances` means the first instance of data/instances.yaml.

    `require_consent_for`: countries (ISO alpha-2) or regions (`EU`, `EEA`) whose rows must
    carry at least one consent value (a `consentType` column); a row of such a country with
    none is rejected (`consent_missing`). Empty: consent is checked when present, never
    required."""

    landing: StrictStr | None = None
    encoding: StrictStr = "utf-8"
    delimiter: StrictStr = ","
    instances: tuple[StrictStr, ...] = ()
    update_strategy: UpdateStrategy | None = None
    s3_prefix: StrictStr | None = None
    require_consent_for: tuple[StrictStr, ...] = ()

    @field_validator("landing")
    @classmethod
    def _landing(cls, value: str | None) -> str | None:
        if value is not None and not LANDING_PATTERN.match(value):
            raise ValueError("must hold only letters, digits, '_', '.' and '-' (a file stem)")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError("is not an encoding Python knows (e.g. utf-8, cp1252)") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("must be exactly one character")
        return value

    @field_validator("instances")
    @classmethod
    def _instances(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [k for k in value if not INSTANCE_KEY_PATTERN.match(k)]
        if bad:
            raise ValueError("instance keys are lowercase letters, digits and '_'")
        if len(set(value)) != len(value):
            raise ValueError("names an instance more than once")
        return value

    @field_validator("require_consent_for", mode="before")
    @classmethod
    def _require_consent_for(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if any(isinstance(v, bool) for v in value):  # YAML reads a bare NO as false
                raise ValueError("holds a boolean: quote country codes (e.g. 'NO')")
            bad = [
                v for v in value
                if isinstance(v, str) and v not in REGIONS and not COUNTRY_PATTERN.match(v)
            ]  # fmt: skip
            if "UK" in value:
                raise ValueError("'UK' is not ISO-3166: use 'GB' for the United Kingdom")
            if bad:
                raise ValueError(
                    "names ISO-3166 alpha-2 codes (e.g. GB) or the regions EU and EEA only"
                )
        return value

    @field_validator("s3_prefix")
    @classmethod
    def _s3_prefix(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip("/").strip() or any(c.isspace() for c in value)):
            raise ValueError("must be a non-empty S3 key prefix without spaces")
        return value


class DatasetDefinition(FileModel):
    """One AMC dataset: the single source of truth for schema, AMC body and export mapping."""

    id: StrictStr
    description: StrictStr = ""
    period: Period | None = None
    country_code: StrictStr | None = Field(default=None, alias="countryCode")
    columns: tuple[ColumnDefinition, ...]
    pipeline: PipelineOptions = PipelineOptions()
    _path: str | None = PrivateAttr(default=None)

    @property
    def path(self) -> str | None:
        """The file it was loaded from, if any."""
        return self._path

    @property
    def main_event_time(self) -> ColumnDefinition | None:
        return next((c for c in self.columns if c.is_main_event_time), None)

    @property
    def is_fact(self) -> bool:
        """FACT datasets (with a main event time) are partitioned by time in AMC."""
        return self.main_event_time is not None

    @property
    def effective_period(self) -> str | None:
        """The period AMC uses: the declared one, P1D for FACT datasets without one, else none."""
        return (self.period or DEFAULT_PERIOD) if self.is_fact else None

    @property
    def update_strategy(self) -> str:
        """The declared strategy, else OVERLAP_REPLACE (a date replaces its partition) for FACT
        datasets and FULL_REPLACE for DIMENSION lists."""
        if self.pipeline.update_strategy:
            return self.pipeline.update_strategy
        return "OVERLAP_REPLACE" if self.is_fact else "FULL_REPLACE"

    @property
    def consent_columns(self) -> tuple[ColumnDefinition, ...]:
        return tuple(c for c in self.columns if c.consent_type is not None)

    @property
    def external_identity_columns(self) -> tuple[ColumnDefinition, ...]:
        return tuple(c for c in self.columns if c.external_identity is not None)

    @property
    def consent_required_countries(self) -> frozenset[str]:
        """ISO codes whose rows must carry consent (`pipeline.require_consent_for` expanded)."""
        return expand_regions(self.pipeline.require_consent_for)

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
        """The CreateDataSet request body `{"dataSet": {...}}`, exactly per the ADU OpenAPI."""
        data_set: dict[str, Any] = {"dataSetId": self.id}
        if self.description:
            data_set["description"] = self.description
        if self.effective_period:
            data_set["period"] = self.effective_period
        if self.country_code:
            data_set["countryCode"] = self.country_code
        data_set["columns"] = [column_body(c) for c in self.columns]
        return {"dataSet": data_set}

    def pandera_schema(self, *, strict: bool = True, ordered: bool = True) -> pa.DataFrameSchema:
        from adu_pipeline.dataset.schema import build_schema  # pandera is slow to import

        return build_schema(self.id, self.columns, strict=strict, ordered=ordered)

    def validate_output(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Validate a hashed frame; the result is value-free, ready for metadata and logs."""
        from adu_pipeline.dataset.schema import validate_frame

        return validate_frame(self, frame)

    def columns_for_metadata(self) -> list[dict[str, str]]:
        from adu_pipeline.dataset.schema import columns_for_metadata

        return columns_for_metadata(self.columns)

    @model_validator(mode="before")
    @classmethod
    def _landing_defaults_to_id(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return data
        pipeline = data.get("pipeline")
        pipeline = {} if pipeline is None else pipeline
        if (
            isinstance(pipeline, dict)
            and pipeline.get("landing") is None
            and ID_PATTERN.match(data["id"])
        ):
            return {**data, "pipeline": {**pipeline, "landing": data["id"]}}
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if value == "list":
            raise ValueError("must not be 'list' (AMC reserves it for the list operation)")
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"{_short(value)} must match ^[a-z0-9_]+$ (lowercase letters, digits and '_')"
            )
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        return check_description(value)

    @field_validator("country_code", mode="before")
    @classmethod
    def _country_code(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML reads a bare NO as false
            raise ValueError("must be a string (quote it, e.g. countryCode: 'NO')")
        if isinstance(value, str) and not COUNTRY_PATTERN.match(value):
            raise ValueError(f"{_short(value)} must be an ISO-3166 alpha-2 code (^[A-Z]{{2}}$)")
        if value == "UK":
            raise ValueError("'UK' is not ISO-3166: use 'GB' for the United Kingdom")
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: tuple[ColumnDefinition, ...]) -> tuple[ColumnDefinition, ...]:
        if not value:
            raise ValueError("must be a non-empty list")
        if len(value) > MAX_COLUMNS:
            raise ValueError(f"has {len(value)} entries; AMC allows at most {MAX_COLUMNS}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _dataset_rules(cls, data: Any, handler: Any) -> DatasetDefinition:
        """Rules across columns. They also run, on the columns that are valid, when another
        key is wrong, so a file's problems are reported together."""
        try:
            defn = handler(data)
        except ValidationError as exc:
            extra = across_columns(_valid_columns(data))
            if not extra:
                raise
            raise_problems(cls.__name__, [*details_of(exc), *extra])
            raise
        columns = tuple(enumerate(defn.columns))
        raise_problems(cls.__name__, [*across_columns(columns), *_dataset_problems(defn)])
        return defn


def across_columns(columns: tuple[tuple[int, ColumnDefinition], ...]) -> list[Any]:
    """Uniqueness rules over (position, column): names, sources, consent types, one event time,
    one country column."""
    found = []
    for key in ("name", "source"):
        owners: dict[str, list[int]] = defaultdict(list)
        for index, column in columns:
            value = getattr(column, key)
            if value is not None:
                owners[value].append(index)
        for value, indexes in owners.items():
            for index in indexes[1:]:
                found.append(
                    problem(
                        ("columns", index, key),
                        f"{_short(value)} is also the {key} of columns[{indexes[0]}]",
                    )
                )
    for flag, label in (("is_main_event_time", "isMainEventTime"),
                        ("is_country_code", "isCountryCode")):  # fmt: skip
        flagged = [i for i, c in columns if getattr(c, flag)]
        for index in flagged[1:]:
            found.append(
                problem(
                    ("columns", index, label),
                    f"only one column may have {label}: true (columns[{flagged[0]}] has it)",
                )
            )
    consent: dict[str, list[int]] = defaultdict(list)
    for index, column in columns:
        if column.consent_type:
            consent[column.consent_type].append(index)
    for kind, indexes in consent.items():
        for index in indexes[1:]:
            found.append(
                problem(
                    ("columns", index, "consentType"),
                    f"{kind} is also used by "
                    f"columns[{indexes[0]}]; AMC allows each consent type once",
                )
            )
    return found


def _dataset_problems(defn: DatasetDefinition) -> list[Any]:
    """Rules between the dataset keys and its columns (only on a fully valid file)."""
    found = []
    event = defn.main_event_time
    if defn.period is not None and event is None:
        found.append(
            problem(
                ("period",),
                "only allowed for FACT datasets (a column with "
                "isMainEventTime: true); leave it out for a DIMENSION dataset",
            )
        )
    elif defn.period == "PT1H" and event is not None and event.data_type == "DATE":
        found.append(
            problem(
                ("period",),
                f"PT1H needs a TIMESTAMP main event time; column '{event.name}' is DATE",
            )
        )
    if defn.country_code is not None:
        if not any(c.is_identity for c in defn.columns):
            found.append(
                problem(
                    ("countryCode",),
                    "only allowed when the dataset has identity "
                    "columns (hashedPii or externalIdentity)",
                )
            )
        elif defn.pii_columns and defn.country_code not in SUPPORTED_COUNTRIES:
            found.append(
                problem(
                    ("countryCode",),
                    f"'{defn.country_code}' has no PII "
                    f"normalization rules here (supported: "
                    f"{', '.join(sorted(SUPPORTED_COUNTRIES))})",
                )
            )
    if defn.pipeline.require_consent_for:
        if not defn.consent_columns:
            found.append(
                problem(
                    ("pipeline", "require_consent_for"),
                    "needs at least one column with a consentType to require consent",
                )
            )
        if defn.country_column is None and defn.country_code is None:
            found.append(
                problem(
                    ("pipeline", "require_consent_for"),
                    "needs the row country: an isCountryCode column or a dataset countryCode",
                )
            )
    strategy = defn.pipeline.update_strategy
    if strategy in FACT_ONLY_STRATEGIES and not defn.is_fact:
        found.append(
            problem(
                ("pipeline", "update_strategy"),
                f"{strategy} is only valid for FACT datasets (a column with isMainEventTime: true)",
            )
        )
    return found


def _valid_columns(data: Any) -> tuple[tuple[int, ColumnDefinition], ...]:
    raw = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return ()
    valid = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, ColumnDefinition.model_validate(item)))
        except ValidationError:
            continue
    return tuple(valid)


def _short(value: str) -> str:
    return repr(value) if len(value) <= 40 else f"a {len(value)}-character value"
