"""The AMC `Column` object of a column definition (CreateDataSet, AddColumnToDataSet)."""

from __future__ import annotations

from typing import Any

from adu_pipeline.dataset.columns import ColumnDefinition


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
