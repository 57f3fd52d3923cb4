"""Ad-hoc reporting executions (`/amc/reporting/{instanceId}/workflowExecutions`), the minimal
flow a preflight count needs: create (SQL + time window) -> status -> download URLs -> CSV.

No OpenAPI document for reporting ships with the emulator, so the body schema below is ours,
from Amazon's guide as far as it could be read: `{workflow: {sqlQuery, workflowId?},
timeWindowStart, timeWindowEnd, timeWindowType?: EXPLICIT, timeWindowTimeZone?, outputFormat?:
CSV}`; times `yyyy-MM-ddTHH:mm:ss` (a trailing `Z` is accepted), read as UTC.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator, iso, parse_iso
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.http import Request, Response, pick_media
from adu_pipeline.emulator.responses.schemas import validate_local

MEDIA = "application/vnd.amcworkflowexecutions.v1+json"
TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$"
CREATE_SCHEMA = {
    "type": "object",
    "required": ["workflow", "timeWindowStart", "timeWindowEnd"],
    "properties": {
        "workflow": {
            "type": "object",
            "required": ["sqlQuery"],
            "properties": {
                "sqlQuery": {"type": "string", "minLength": 1, "maxLength": 200000},
                "workflowId": {"type": "string", "minLength": 1, "maxLength": 256},
            },
        },
        "timeWindowStart": {"type": "string", "pattern": TIME},
        "timeWindowEnd": {"type": "string", "pattern": TIME},
        "timeWindowType": {"type": "string", "enum": ["EXPLICIT"]},
        "timeWindowTimeZone": {"type": "string", "maxLength": 64},
        "outputFormat": {"type": "string", "enum": ["CSV"]},
    },
}


def create(app: Emulator, req: Request, instance_id: str) -> Response:
    instance = access.adu_instance(app, req, instance_id)
    body = req.json_body((MEDIA,))
    validate_local(CREATE_SCHEMA, "CreateWorkflowExecution", body)
    start, end = parse_iso(body["timeWindowStart"]), parse_iso(body["timeWindowEnd"])
    if start > end:
        raise ApiError(400, "timeWindowStart must not be after timeWindowEnd.")
    if not body["workflow"]["sqlQuery"].strip():
        raise ApiError(400, "workflow/sqlQuery must be a non-empty SQL statement.")
    request = {
        "sqlQuery": body["workflow"]["sqlQuery"],
        "workflowId": body["workflow"].get("workflowId"),
        "timeWindowStart": iso(start),
        "timeWindowEnd": iso(end),
        "timeWindowType": "EXPLICIT",
    }
    execution_id = str(uuid.uuid4())
    now = app.now()
    with app.store.tx() as c:
        c.execute(
            "INSERT INTO workflow_executions (execution_id, instance_id, request, status,"
            " created_at, updated_at, next_at) VALUES (?,?,?,?,?,?,?)",
            (
                execution_id,
                instance.instance_id,
                json.dumps(request),
                "PENDING",
                now,
                now,
                now + app.config.timing.step_seconds,
            ),
        )
    app.wakeup.set()
    row = _require(app, instance.instance_id, execution_id)
    return Response(200, execution(row), pick_media(req, (MEDIA,)))


def get(app: Emulator, req: Request, instance_id: str, execution_id: str) -> Response:
    instance = access.adu_instance(app, req, instance_id)
    row = _require(app, instance.instance_id, execution_id)
    return Response(200, execution(row), pick_media(req, (MEDIA,)))


def download_urls(app: Emulator, req: Request, instance_id: str, execution_id: str) -> Response:
    """Where the result CSV is: an emulator URL (no auth, as a pre-signed S3 URL needs none)."""
    instance = access.adu_instance(app, req, instance_id)
    row = _require(app, instance.instance_id, execution_id)
    if row["status"] != "SUCCEEDED":
        raise ApiError(400, f"The workflow execution is {row['status']}; no output to download.")
    url = f"{app.public_url}/_emulator/results/{execution_id}.csv"
    return Response(200, {"downloadUrls": [url]}, pick_media(req, (MEDIA,)))


def execution(row: sqlite3.Row) -> dict:
    request = json.loads(row["request"])
    out = {
        "workflowExecutionId": row["execution_id"],
        "instanceId": row["instance_id"],
        "status": row["status"],
        "timeWindowStart": request["timeWindowStart"],
        "timeWindowEnd": request["timeWindowEnd"],
        "timeWindowType": request["timeWindowType"],
        "workflow": {"sqlQuery": request["sqlQuery"]},
        "creationTime": iso(row["created_at"]),
        "lastUpdatedTime": iso(row["updated_at"]),
    }
    if request.get("workflowId"):
        out["workflow"]["workflowId"] = request["workflowId"]
    if row["status_reason"]:
        out["statusReason"] = row["status_reason"]
    return out


def _require(app: Emulator, instance_id: str, execution_id: str) -> sqlite3.Row:
    row = app.store.one(
        "SELECT * FROM workflow_executions WHERE execution_id=? AND instance_id=?",
        (execution_id, instance_id),
    )
    if row is None:
        raise ApiError(404, f"No workflow execution {execution_id[:100]} in this instance.")
    return row
