"""Compare a definition with the dataset AMC holds (GetDataSet), field by field.

AMC lets an existing dataset grow by nullable columns (AddColumnToDataSet) and change descriptions
(UpdateDataSet / UpdateColumnInDataSet); anything else would need a new dataset, so it is reported
as a difference for a human to resolve. Nothing here ever suggests deleting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adu_pipeline.dataset.amc_body import column_body, effective_period
from adu_pipeline.dataset.loader import RESERVED_NAMES
from adu_pipeline.dataset.model import ColumnDefinition, DatasetDefinition

# Column fields compared, with the default AMC applies when a field is absent.
COLUMN_FIELDS: dict[str, Any] = {
    "dataType": None,
    "columnType": None,
    "nullable": True,
    "hashedPii": None,
    "externalIdentity": None,
    "isMainEventTime": False,
    "isCountryCode": False,
    "consentType": None,
}


@dataclass(frozen=True)
class DatasetDiff:
    """What separates the definition from AMC's dataset."""

    addable_columns: tuple[ColumnDefinition, ...] = ()  # new nullable columns: AddColumnToDataSet
    differences: tuple[str, ...] = ()  # anything else: stop and show these
    description_changes: tuple[str, ...] = ()  # harmless: UpdateDataSet / UpdateColumnInDataSet

    @property
    def is_compatible(self) -> bool:
        """True when AMC's dataset can be brought to the definition without loss."""
        return not self.differences

    @property
    def is_identical(self) -> bool:
        return not (self.addable_columns or self.differences or self.description_changes)

    def format(self) -> str:
        lines = [f"- {d}" for d in self.differences]
        lines += [f"- column '{c.name}' can be added (new, nullable)" for c in self.addable_columns]
        lines += [f"- {d}" for d in self.description_changes]
        return "\n".join(lines) if lines else "no differences"


def definition_diff(defn: DatasetDefinition, amc_dataset_json: dict[str, Any]) -> DatasetDiff:
    """Diff the definition against GetDataSet's response (`{"dataSet": {...}}` or the inner one)."""
    amc = amc_dataset_json.get("dataSet", amc_dataset_json)
    differences: list[str] = []
    descriptions: list[str] = []
    _dataset_fields(defn, amc, differences, descriptions)

    amc_columns = {c.get("name"): c for c in amc.get("columns") or [] if not _amc_managed(c, defn)}
    ours = {c.name: c for c in defn.columns}
    addable = []
    for name, column in ours.items():
        if name not in amc_columns:
            reason = _why_not_addable(column)
            if reason:
                differences.append(f"column '{name}' is new but cannot be added: {reason}")
            else:
                addable.append(column)
            continue
        differences += _column_differences(column, amc_columns[name])
        amc_description = amc_columns[name].get("description") or ""
        if amc_description != column.description:
            descriptions.append(f"column '{name}': description differs")
    for name in amc_columns:
        if name not in ours:
            differences.append(
                f"column '{name}' exists in AMC but not in the definition "
                "(columns are never deleted; add it back to the definition)"
            )
    return DatasetDiff(tuple(addable), tuple(differences), tuple(descriptions))


def _dataset_fields(defn, amc, differences: list[str], descriptions: list[str]) -> None:
    if amc.get("dataSetId") not in (None, defn.id):
        differences.append(
            f"dataSetId is {amc.get('dataSetId')} in AMC, {defn.id} in the definition"
        )
    if defn.is_fact:
        amc_period = amc.get("period") or "P1D"
        if amc_period != effective_period(defn):
            differences.append(
                f"period is {amc_period} in AMC, {effective_period(defn)} in the definition"
            )
    if (amc.get("countryCode") or None) != defn.country_code:
        differences.append(
            f"countryCode is {amc.get('countryCode') or 'not set'} in AMC, "
            f"{defn.country_code or 'not set'} in the definition"
        )
    if (amc.get("description") or "") != defn.description:
        descriptions.append("dataset description differs")


def _amc_managed(column: dict[str, Any], defn: DatasetDefinition) -> bool:
    """user_id / user_type columns AMC adds itself for identity resolution."""
    if column.get("isMainUserId") or column.get("isMainUserIdType"):
        return True
    name = column.get("name")
    return name in RESERVED_NAMES and all(c.name != name for c in defn.columns)


def _why_not_addable(column: ColumnDefinition) -> str | None:
    if column.is_main_event_time:
        return "a main event time column changes the dataset's type"
    if column.is_country_code:
        return "AMC cannot turn an existing dataset's rows into a country-code column"
    if not column.nullable:
        return "it is not nullable (rows already uploaded have no value)"
    return None


def _fields(column: dict[str, Any]) -> dict[str, Any]:
    id_type = column.get("externalUserIdType") or {}
    flat = dict(column)
    flat["hashedPii"] = id_type.get("hashedPii")
    flat["externalIdentity"] = id_type.get("externalIdentity")
    if "nullable" not in flat and "isNullable" in flat:  # older AMC responses
        flat["nullable"] = flat["isNullable"]
    return {
        key: default if flat.get(key) is None else flat[key]
        for key, default in COLUMN_FIELDS.items()
    }


def _column_differences(column: ColumnDefinition, amc_column: dict[str, Any]) -> list[str]:
    ours = _fields(column_body(column))
    theirs = _fields(amc_column)
    return [
        f"column '{column.name}': {key} is {_show(theirs[key])} in AMC, "
        f"{_show(ours[key])} in the definition"
        for key in COLUMN_FIELDS
        if ours[key] != theirs[key]
    ]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "not set" if value is None else str(value)
