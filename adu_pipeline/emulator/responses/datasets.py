"""ADU dataset operations (API.md section 2): create, list, get, update, delete, columns."""

from __future__ import annotations

import sqlite3

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.backend import Emulator, iso
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.http import Request, Response, page, pick_media
from adu_pipeline.emulator.responses.schemas import validate_body

DATASET_MEDIA = "application/vnd.amcadvertiserdataset.v1+json"
COLUMN_MEDIA = "application/vnd.amcadvertiserdatasetcolumn.v1+json"


def create(app: Emulator, req: Request, instance_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    body = req.json_body((DATASET_MEDIA,))
    validate_body("adu", "CreateDataSet", body)
    errors = rules.dataset_errors(body["dataSet"])
    if errors:
        raise ApiError(400, f"Invalid data set: {errors[0]}", errors)
    dataset = rules.normalized_dataset(body["dataSet"])
    limit = app.config.max_datasets_per_instance
    if app.store.dataset_count(instance_id) >= limit:
        raise ApiError(400, f"An AMC instance holds at most {limit} data sets.")
    try:
        app.store.insert_dataset(instance_id, dataset, app.now())
    except sqlite3.IntegrityError:
        raise ApiError(400, f"Data set {dataset['dataSetId']} already exists.") from None
    return Response(
        200,
        {"dataSetId": dataset["dataSetId"], "instanceId": instance_id},
        pick_media(req, (DATASET_MEDIA,)),
    )


def list_(app: Emulator, req: Request, instance_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    datasets = app.store.list_datasets(instance_id)
    items, next_token = page(datasets, req, size_param="maxResults", default=100)
    body: dict = {"dataSets": [_with_times(app, instance_id, d) for d in items]}
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, pick_media(req, (DATASET_MEDIA,)))


def get(app: Emulator, req: Request, instance_id: str, data_set_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    return _dataset_response(app, req, instance_id, dataset, DATASET_MEDIA)


def update(app: Emulator, req: Request, instance_id: str, data_set_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    body = req.json_body((DATASET_MEDIA,))
    validate_body("adu", "UpdateDataSet", body)
    if "countryCode" in body and not any(rules.is_identity(c) for c in dataset["columns"]):
        raise ApiError(
            400, "Country code cannot be specified for a data set that does not contain identity"
        )
    for key in ("description", "countryCode"):
        if key in body:
            dataset[key] = body[key]
    app.store.save_dataset(instance_id, dataset, app.now())
    return _dataset_response(app, req, instance_id, dataset, DATASET_MEDIA)


def delete(app: Emulator, req: Request, instance_id: str, data_set_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    require(app, instance_id, data_set_id)
    app.store.delete_dataset(instance_id, data_set_id)
    return Response(
        200,
        {"dataSetId": data_set_id, "instanceId": instance_id},
        pick_media(req, (DATASET_MEDIA,)),
    )


def add_column(app: Emulator, req: Request, instance_id: str, data_set_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    body = req.json_body((COLUMN_MEDIA,))
    validate_body("adu", "AddColumnToDataSet", body)
    column = rules.with_defaults(body["column"])
    errors = rules.column_errors(column, f"column ({column['name']})")
    names = {c["name"].lower() for c in dataset["columns"]}
    if column["name"].lower() in names:
        errors.append(f"column {column['name']} already exists")
    if column["isMainUserId"] or column["isMainUserIdType"]:
        errors.append("isMainUserId / isMainUserIdType columns cannot be added after creation")
    if column["isMainEventTime"]:
        errors.append("a main event time column cannot be added after creation")
    if column["isCountryCode"] and any(c["isCountryCode"] for c in dataset["columns"]):
        errors.append("the data set already has a country code column")
    if not column["nullable"] and app.store.dataset_rows(instance_id, data_set_id):
        errors.append("a column added to a data set holding rows must be nullable")
    if len(dataset["columns"]) >= rules.MAX_COLUMNS:
        errors.append(f"a data set holds at most {rules.MAX_COLUMNS} columns")
    if errors:
        raise ApiError(400, f"Invalid column: {errors[0]}", errors)
    dataset["columns"].append(column)
    if rules.is_identity(column) and not any(c["isMainUserId"] for c in dataset["columns"]):
        dataset = rules.normalized_dataset(dataset)
    app.store.save_dataset(instance_id, dataset, app.now())
    return _dataset_response(app, req, instance_id, dataset, COLUMN_MEDIA)


def update_column(
    app: Emulator, req: Request, instance_id: str, data_set_id: str, column_name: str
) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    column = _column(dataset, column_name)
    body = req.json_body((COLUMN_MEDIA,))
    validate_body("adu", "UpdateColumnInDataSet", body)
    new_name = body.get("updatedColumnName")
    if new_name is not None and new_name != column["name"]:
        if not new_name.strip() or any(ch.isspace() for ch in new_name):
            raise ApiError(400, "updatedColumnName must be non-empty and contain no spaces.")
        if new_name.lower() in {c["name"].lower() for c in dataset["columns"]}:
            raise ApiError(400, f"Column {new_name} already exists.")
        app.store.rewrite_rows(
            instance_id,
            data_set_id,
            "json_set(json_remove(data, ?), ?, json_extract(data, ?))",
            (_json_path(column["name"]), _json_path(new_name), _json_path(column["name"])),
        )
        column["name"] = new_name
    if "updateDescription" in body:
        column["description"] = body["updateDescription"]
    app.store.save_dataset(instance_id, dataset, app.now())
    return _dataset_response(app, req, instance_id, dataset, COLUMN_MEDIA)


def delete_column(
    app: Emulator, req: Request, instance_id: str, data_set_id: str, column_name: str
) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    column = _column(dataset, column_name)
    for flag in ("isMainEventTime", "isMainUserId", "isMainUserIdType"):
        if column.get(flag):
            raise ApiError(400, f"Column {column_name} is the {flag} column and cannot be deleted.")
    if len(dataset["columns"]) == 1:
        raise ApiError(400, "A data set must keep at least one column.")
    dataset["columns"] = [c for c in dataset["columns"] if c is not column]
    app.store.rewrite_rows(
        instance_id, data_set_id, "json_remove(data, ?)", (_json_path(column["name"]),)
    )
    app.store.save_dataset(instance_id, dataset, app.now())
    return _dataset_response(app, req, instance_id, dataset, COLUMN_MEDIA)


def require(app: Emulator, instance_id: str, data_set_id: str) -> dict:
    dataset = app.store.get_dataset(instance_id, data_set_id)
    if dataset is None:
        raise ApiError(404, f"Data set {data_set_id} not found.")
    return dataset


def _column(dataset: dict, column_name: str) -> dict:
    column = next((c for c in dataset["columns"] if c["name"] == column_name), None)
    if column is None:
        raise ApiError(404, f"Column {column_name} not found in data set {dataset['dataSetId']}.")
    return column


def _json_path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'


def _with_times(app: Emulator, instance_id: str, dataset: dict) -> dict:
    """Read-only extras real responses carry (seen in Amazon's older mocks); clients may ignore."""
    created, updated = app.store.dataset_times(instance_id, dataset["dataSetId"])
    kind = "FACT" if rules.main_event_time(dataset["columns"]) else "DIMENSION"
    return {**dataset, "dataSetType": kind, "createdAt": iso(created), "updatedAt": iso(updated)}


def _dataset_response(
    app: Emulator, req: Request, instance_id: str, dataset: dict, media: str
) -> Response:
    return Response(
        200, {"dataSet": _with_times(app, instance_id, dataset)}, pick_media(req, (media,))
    )
