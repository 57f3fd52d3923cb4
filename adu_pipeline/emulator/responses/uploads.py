"""ADU upload operations (API.md section 3): create (queues a job), get, list with filters."""

from __future__ import annotations

import json
import sqlite3
import uuid

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.backend import Emulator, iso, parse_iso
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.datasets import require
from adu_pipeline.emulator.responses.http import Request, Response, page, pick_media
from adu_pipeline.emulator.responses.schemas import validate_body

UPLOAD_MEDIA = "application/vnd.amcadvertiserdataupload.v1+json"
STATUSES = ("SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILED")
COMPARATORS = {"EQ": "=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}


def create(app: Emulator, req: Request, instance_id: str, data_set_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    dataset = require(app, instance_id, data_set_id)
    body = req.json_body((UPLOAD_MEDIA,))
    validate_body("adu", "CreateUpload", body)  # first: the rules below trust the types
    errors = rules.upload_errors(body, dataset)
    if errors:
        raise ApiError(400, f"Invalid upload request: {errors[0]}", errors)
    upload_id = str(uuid.uuid4())
    now = app.now()
    with app.store.tx() as c:
        c.execute(
            "INSERT INTO uploads (upload_id, instance_id, data_set_id, request, status, message,"
            " metrics, created_at, updated_at, next_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                upload_id,
                instance_id,
                data_set_id,
                json.dumps(body),
                "SUBMITTED",
                None,
                "{}",
                now,
                now,
                now + app.config.timing.step_seconds,
            ),
        )
    app.wakeup.set()
    return Response(
        200, {"uploadId": upload_id, "status": "SUBMITTED"}, pick_media(req, (UPLOAD_MEDIA,))
    )


def get(
    app: Emulator, req: Request, instance_id: str, data_set_id: str, upload_id: str
) -> Response:
    access.adu_instance(app, req, instance_id)
    row = app.store.get_upload(upload_id)
    if row is None or row["instance_id"] != instance_id or row["data_set_id"] != data_set_id:
        raise ApiError(404, f"Upload {upload_id} not found for data set {data_set_id}.")
    return Response(200, {"upload": upload_body(row)}, pick_media(req, (UPLOAD_MEDIA,)))


def list_(app: Emulator, req: Request, instance_id: str) -> Response:
    access.adu_instance(app, req, instance_id)
    where, args = ["instance_id=?"], [instance_id]
    if req.param("dataSetId"):
        where.append("data_set_id=?")
        args.append(req.param("dataSetId"))
    status = req.param("status")
    if status:
        if status not in STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(STATUSES)}.")
        where.append("status=?")
        args.append(status)
    created_at = req.param("createdAt")
    if created_at:
        comparator = req.param("createdAtComparator")
        if comparator not in COMPARATORS:
            raise ApiError(
                400, "createdAtComparator (EQ, GT, GTE, LT, LTE) must go with createdAt."
            )
        # whole seconds, as the timestamps are reported
        where.append(f"CAST(created_at AS INTEGER) {COMPARATORS[comparator]} ?")
        args.append(int(parse_iso(created_at)))
    rows = app.store.all(f"SELECT * FROM uploads WHERE {' AND '.join(where)} ORDER BY seq", args)
    items, next_token = page(rows, req, size_param="maxResults", default=100)
    body: dict = {"uploads": [upload_body(r) for r in items]}
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, pick_media(req, (UPLOAD_MEDIA,)))


def upload_body(row: sqlite3.Row) -> dict:
    request = json.loads(row["request"])
    body = {
        "uploadId": row["upload_id"],
        "dataSetId": row["data_set_id"],
        "instanceId": row["instance_id"],
        "status": row["status"],
        "metrics": json.loads(row["metrics"]),
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "dataSource": request["dataSource"],
        "fileFormat": request["fileFormat"],
        "compressionFormat": request["compressionFormat"],
        "updateStrategy": request["updateStrategy"],
    }
    if row["message"]:
        body["message"] = row["message"]
    if request.get("countryCode"):
        body["countryCode"] = request["countryCode"]
    return body
