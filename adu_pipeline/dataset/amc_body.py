"""The AMC request bodies derived from a definition (CreateDataSet, AddColumnToDataSet)."""

from __future__ import annotations

from typing import Any

from adu_pipeline.dataset.model import ColumnDefinition, DatasetDefinition

DEFAULT_PERIOD = "P1D"  # AMC's default partition granularity for FACT datasets


def effective_period(defn: DatasetDefinition) -> str | None:
    """The period AMC will use: the declared one, P1D for FACT datasets without one, else none."""
    if not defn.is_fact:
        return None
    return defn.period or DEFAULT_PERIOD


def column_body(column: ColumnDefinition) -> dict[str, Any]:
    """One AMC `Column` object; `source` is ours and never sent."""
    body: dict[str, Any] = {
        "name": column.name,
        "dataType": column.data_type,
        "columnType": column.column_type,
        "nullable": column.nullable,
    }
    if column.description:
        body["description"] = column.description
    if column.hashed_pii is not None:
        body["externalUserIdType"] = {"hashedPii": str(column.hashed_pii)}
    elif column.external_identity is not None:
        body["externalUserIdType"] = {"externalIdentity": column.external_identity}
    if column.is_main_event_time:
        body["isMainEventTime"] = True
    if column.is_country_code:
        body["isCountryCode"] = True
    if column.consent_type:
        body["consentType"] = column.consent_type
    return body


def create_body(defn: DatasetDefinition) -> dict[str, Any]:
    """The CreateDataSet request body `{"dataSet": {...}}`, exactly per the ADU OpenAPI schema."""
    data_set: dict[str, Any] = {"dataSetId": defn.id}
    if defn.description:
        data_set["description"] = defn.description
    period = effective_period(defn)
    if period:
        data_set["period"] = period
    if defn.country_code:
        data_set["countryCode"] = defn.country_code
    data_set["columns"] = [column_body(c) for c in defn.columns]
    return {"dataSet": data_set}


def add_column_body(column: ColumnDefinition) -> dict[str, Any]:
    """The AddColumnToDataSet request body `{"column": {...}}`."""
    return {"column": column_body(column)}
