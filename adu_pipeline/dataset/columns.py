"""One AMC dataset column as data, with the rules a single column must follow."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictStr, field_validator, model_validator

from adu_pipeline.dataset.errors import FileModel, problem, raise_problems
from adu_pipeline.normalization import PiiType

# AMC enums, spelled exactly as in the ADU OpenAPI document (AdvertiserDataUpload 3.0).
DataType = Literal["STRING", "INTEGER", "LONG", "DECIMAL", "TIMESTAMP", "DATE"]
ColumnType = Literal["DIMENSION", "METRIC"]
ExternalIdentity = Literal[
    "MAID", "LIVERAMP", "EXPERIAN", "IDFA", "KANTAR", "MERKLE", "NEUSTAR", "REALID", "SAMBATV",
]  # fmt: skip
ConsentType = Literal["TCF", "GPP", "AMZN_USER_DATA", "AMZN_AD_STORAGE"]
EVENT_TIME_TYPES = ("DATE", "TIMESTAMP")
RESERVED_NAMES = ("user_id", "user_type", "user_id_type")  # columns AMC adds itself
MAX_DESCRIPTION = 255  # AMC's limit on UpdateDataSet / UpdateColumnInDataSet descriptions
COLUMN_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AMC_MANAGED = "AMC adds the resolved user id and user id type columns itself"


def check_description(value: Any) -> str:
    """None -> ''; AMC's length limit (shared by datasets and columns)."""
    if value is None:
        return ""
    if isinstance(value, str) and len(value) > MAX_DESCRIPTION:
        raise ValueError(f"has {len(value)} characters; AMC allows at most {MAX_DESCRIPTION}")
    return value


class ColumnDefinition(FileModel):
    """One AMC column plus `source`, the CRM export column it is filled from (ours, never sent).

    A main event time without a source is filled with the export date."""

    refused_keys = {
        "isMainUserId": f"not allowed in an upload definition ({_AMC_MANAGED})",
        "isMainUserIdType": f"not allowed in an upload definition ({_AMC_MANAGED})",
    }

    name: StrictStr
    data_type: DataType = Field(alias="dataType")
    column_type: ColumnType = Field(alias="columnType")
    source: StrictStr | None = None
    description: StrictStr = ""
    nullable: StrictBool = True
    hashed_pii: PiiType | None = Field(default=None, alias="hashedPii")
    external_identity: ExternalIdentity | None = Field(default=None, alias="externalIdentity")
    is_country_code: StrictBool = Field(default=False, alias="isCountryCode")
    is_main_event_time: StrictBool = Field(default=False, alias="isMainEventTime")
    consent_type: ConsentType | None = Field(default=None, alias="consentType")

    @property
    def is_identity(self) -> bool:
        """True for columns AMC uses to resolve users (hashed PII or an external id)."""
        return self.hashed_pii is not None or self.external_identity is not None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not COLUMN_NAME_PATTERN.match(value):
            raise ValueError("must start with a letter or '_' and hold only letters, digits, '_'")
        if value.lower() in RESERVED_NAMES:
            raise ValueError(f"'{value}' is reserved for the column AMC adds itself")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        return check_description(value)

    @field_validator("nullable", "is_country_code", "is_main_event_time", mode="before")
    @classmethod
    def _flag_default(cls, value: Any, info: Any) -> Any:
        """An empty YAML value (`nullable:`) means the default."""
        return cls.model_fields[info.field_name].default if value is None else value

    @field_validator("hashed_pii", mode="before")
    @classmethod
    def _no_hashed_country(cls, value: Any) -> Any:
        if value == "COUNTRY_CODE":
            raise ValueError(
                "COUNTRY_CODE is not supported (Amazon documents no normalization for it); "
                "mark a plain column with isCountryCode: true instead"
            )
        return value

    @model_validator(mode="after")
    def _column_rules(self) -> ColumnDefinition:
        raise_problems("column", column_problems(self))
        return self


def column_problems(column: ColumnDefinition) -> list[Any]:
    """Rules between one column's own keys."""
    found = []
    if column.source is None and not column.is_main_event_time:
        found.append(
            problem(
                ("source",),
                "required (the CRM export column it is read from); "
                "only the main event time may leave it out (filled with the "
                "export date)",
            )
        )
    if column.hashed_pii is not None and column.external_identity is not None:
        found.append(problem((), "hashedPii and externalIdentity are mutually exclusive"))
    if column.is_identity:
        if column.data_type != "STRING":
            found.append(
                problem(("dataType",), f"an identity column must be STRING, not {column.data_type}")
            )
        if column.column_type != "DIMENSION":
            found.append(
                problem(
                    ("columnType",),
                    f"an identity column must be DIMENSION, not {column.column_type}",
                )
            )
    if column.is_main_event_time and column.data_type not in EVENT_TIME_TYPES:
        found.append(
            problem(
                ("dataType",),
                f"the main event time must be DATE or TIMESTAMP, not {column.data_type}",
            )
        )
    if column.is_country_code:
        if column.data_type != "STRING":
            found.append(problem(("dataType",), "a country code column must be STRING"))
        if column.is_identity:
            found.append(problem((), "a country code column cannot also be an identity column"))
        if column.is_main_event_time:
            found.append(problem((), "a country code column cannot be the main event time"))
    if column.consent_type is not None and column.data_type != "STRING":
        found.append(problem(("dataType",), "a consent column must be STRING"))
    return found
