"""What the engine writes: one entry per output column, from CLI arguments or a definition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from adu_pipeline.errors import InputError
from adu_pipeline.normalization import SUPPORTED_COUNTRIES, PiiType, canonical_country

if TYPE_CHECKING:
    from adu_pipeline.dataset import DatasetDefinition

CAST_TYPES = ("STRING", "INTEGER", "LONG", "DECIMAL", "DATE", "TIMESTAMP")


class ColumnKind(StrEnum):
    """How an output column is produced from its source column."""

    PASSTHROUGH = "passthrough"  # copied unchanged, whatever its type
    PII = "pii"  # normalized and SHA-256 hashed (64 lowercase hex or null)
    COUNTRY = "country"  # the row's country, normalized to ISO alpha-2 (UK -> GB)
    CAST = "cast"  # converted to an AMC dataType (STRING, INTEGER, LONG, DECIMAL, DATE, TIMESTAMP)
    EXPORT_DATE = "export_date"  # filled with the export date (the main event time)


@dataclass(frozen=True)
class OutputColumn:
    """One column of the output and where its values come from."""

    name: str
    source: str | None
    kind: ColumnKind
    pii_type: PiiType | None = None
    data_type: str = "STRING"
    nullable: bool = True


@dataclass(frozen=True)
class HashPlan:
    """The output columns, plus how each row's country is found.

    `columns` is the full output unless `passthrough_rest` is set (CLI --pii mode): then every
    input column is written in input order and `columns` only says which of them to transform.
    Row country precedence: `country_column` > `default_country` (upload / --country / dataset).
    """

    columns: tuple[OutputColumn, ...]
    passthrough_rest: bool = False
    country_column: str | None = None
    default_country: str | None = None
    label: str = field(default="", compare=False)

    @classmethod
    def from_pii_args(
        cls,
        pii: Mapping[str, PiiType | str],
        country: str | None,
        country_column: str | None = None,
    ) -> HashPlan:
        """CLI mode: PII columns keep their names and hold the hash; the rest passes through."""
        if not pii:
            raise InputError("nothing to hash: give at least one --pii COLUMN=TYPE")
        if country is None and country_column is None:
            raise InputError("no country: give --country CC and/or --country-column COLUMN")
        columns = tuple(
            OutputColumn(name=name, source=name, kind=ColumnKind.PII, pii_type=parse_pii_type(t))
            for name, t in pii.items()
        )
        return cls(
            columns=columns,
            passthrough_rest=True,
            country_column=country_column,
            default_country=parse_country(country) if country is not None else None,
            label="pii",
        )

    @classmethod
    def from_definition(
        cls, defn: DatasetDefinition, country_override: str | None = None
    ) -> HashPlan:
        """Dataset mode: exactly the definition's columns, renamed from their source columns."""
        columns = tuple(_column_from_definition(col) for col in defn.columns)
        country_col = next((c for c in defn.columns if c.is_country_code), None)
        default = country_override if country_override is not None else defn.country_code
        return cls(
            columns=columns,
            passthrough_rest=False,
            country_column=country_col.source if country_col is not None else None,
            default_country=parse_country(default) if default is not None else None,
            label=f"dataset {defn.id}",
        )

    def resolve(self, input_columns: Sequence[str]) -> tuple[OutputColumn, ...]:
        """The concrete output columns for an input; raises InputError for a missing column."""
        available = set(input_columns)
        needed = [c.source for c in self.columns if c.source is not None]
        if self.country_column is not None:
            needed.append(self.country_column)
        for name in needed:
            if name not in available:
                raise InputError(f"input has no column {name!r} (needed by the {self._what()})")
            if list(input_columns).count(name) > 1:
                raise InputError(f"input has more than one column named {name!r}")
        if not self.passthrough_rest:
            return self.columns
        by_source = {c.source: c for c in self.columns}
        return tuple(
            by_source.get(name) or OutputColumn(name=name, source=name, kind=ColumnKind.PASSTHROUGH)
            for name in input_columns
        )

    def needed_columns(self) -> list[str] | None:
        """Input columns to read (None: all of them)."""
        if self.passthrough_rest:
            return None
        names = [c.source for c in self.columns if c.source is not None]
        if self.country_column is not None:
            names.append(self.country_column)
        return list(dict.fromkeys(names))

    @property
    def needs_export_date(self) -> bool:
        return any(c.kind is ColumnKind.EXPORT_DATE for c in self.columns)

    def _what(self) -> str:
        return self.label if self.label.startswith("dataset") else "--pii/--country-column options"


def parse_pii_type(value: PiiType | str) -> PiiType:
    """'email' or 'EMAIL' -> PiiType.EMAIL; anything else is an InputError naming the choices."""
    if isinstance(value, PiiType):
        return value
    try:
        return PiiType(value.strip().upper())
    except ValueError:
        choices = ", ".join(t.value for t in PiiType)
        raise InputError(f"unknown PII type {value!r}; use one of {choices}") from None


def parse_country(value: str) -> str:
    """' uk' -> 'GB'; unknown or unsupported codes are an InputError."""
    code = canonical_country(value)
    supported = ", ".join(sorted(SUPPORTED_COUNTRIES))
    if code is None:
        raise InputError(f"unknown country {value!r}; use an ISO alpha-2 code ({supported})")
    if code not in SUPPORTED_COUNTRIES:
        raise InputError(f"country {code} is not supported; supported: {supported}")
    return code


def _column_from_definition(col) -> OutputColumn:
    if col.source is None:
        if not col.is_main_event_time:
            raise InputError(f"dataset column {col.name!r} has no source column")
        return OutputColumn(
            name=col.name, source=None, kind=ColumnKind.EXPORT_DATE, data_type=col.data_type,
            nullable=False,
        )  # fmt: skip
    if col.hashed_pii is not None:
        kind = ColumnKind.PII
    elif col.is_country_code:
        kind = ColumnKind.COUNTRY
    else:
        kind = ColumnKind.CAST
    if kind is ColumnKind.CAST and col.data_type not in CAST_TYPES:
        raise InputError(f"dataset column {col.name!r} has unsupported dataType {col.data_type!r}")
    return OutputColumn(
        name=col.name,
        source=col.source,
        kind=kind,
        pii_type=PiiType(col.hashed_pii) if col.hashed_pii is not None else None,
        data_type=col.data_type,
        nullable=col.nullable,
    )
