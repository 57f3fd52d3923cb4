"""Per-batch privacy checks of a dataset's rows: consent columns, external ids, required consent.

The hashing engine calls `RowChecks.from_definition(defn)` once and `checks.apply(...)` per
batch; a row with a reason is rejected (`<column>:<reason>`), never written with the bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.dataset import DatasetDefinition
from adu_pipeline.privacy.consent import ConsentReason, ValueCheck, check_consent, consent_missing
from adu_pipeline.privacy.external_ids import check_external_id

_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class RowCheckResult:
    """`values`: the checked columns to write (by dataset column name); `reasons`: per row null
    or `<column>:<reason>` of the first failing check; `reject`: rows to drop."""

    values: dict[str, pa.Array]
    reasons: pa.Array
    reject: pa.Array

    @property
    def rejected(self) -> int:
        return pc.sum(self.reject).as_py() or 0


@dataclass(frozen=True)
class RowChecks:
    consent: tuple[tuple[str, str], ...]  # (column, consentType)
    external: tuple[tuple[str, str], ...]  # (column, externalIdentity)
    required_for: frozenset[str]
    country_column: str | None
    default_country: str | None

    @classmethod
    def from_definition(cls, defn: DatasetDefinition) -> RowChecks:
        country = defn.country_column
        return cls(
            consent=tuple((c.name, str(c.consent_type)) for c in defn.consent_columns),
            external=tuple(
                (c.name, str(c.external_identity)) for c in defn.external_identity_columns
            ),
            required_for=defn.consent_required_countries,
            country_column=country.name if country is not None else None,
            default_country=defn.country_code,
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """Dataset columns `apply` needs (their source values, by dataset column name)."""
        return tuple(name for name, _ in (*self.consent, *self.external))

    @property
    def is_empty(self) -> bool:
        return not self.consent and not self.external

    def apply(
        self, columns: Mapping[str, pa.Array], countries: pa.Array | str | None = None
    ) -> RowCheckResult:
        """Check one batch. `columns`: the source values of `self.columns`; `countries`: the
        rows' ISO alpha-2 countries (the engine's country column output), else the default."""
        if countries is None:
            countries = self.default_country
        rows = len(next(iter(columns.values()))) if columns else _rows(countries)
        checks: list[tuple[str, ValueCheck]] = []
        for name, kind in self.consent:
            checks.append((name, check_consent(columns[name], kind)))
        for name, kind in self.external:
            checks.append((name, check_external_id(columns[name], kind)))
        reasons = pa.nulls(rows, pa.string())
        for name, check in checks:
            labelled = pc.binary_join_element_wise(f"{name}:", check.reasons, "")
            reasons = pc.coalesce(reasons, labelled)
        if self.required_for and self.consent:
            consent_values = [check.values for name, check in checks[: len(self.consent)]]
            missing = consent_missing(countries, consent_values, self.required_for, rows)
            label = f"{self.consent[0][0]}:{ConsentReason.MISSING}"
            reasons = pc.coalesce(reasons, pc.if_else(missing, pa.scalar(label), _NULL))
        values = {name: check.values for name, check in checks}
        return RowCheckResult(values=values, reasons=reasons, reject=pc.is_valid(reasons))


def _rows(countries: pa.Array | str | None) -> int:
    return 0 if countries is None or isinstance(countries, str) else len(countries)
