"""Rule-based audience operations (`/amc/audiences/query`, API.md 6.2).

Create queues a job (PENDING); the worker runs it (RUNNING) and ends it SUCCEEDED or FAILED.
Like Amazon, a repeated create makes a second audience; only FAILED audiences can be updated.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator, iso, parse_iso
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.http import Request, Response, page, pick_media
from adu_pipeline.emulator.responses.schemas import validate_body

V1 = "application/vnd.amcquerybasedaudience.v1+json"
V11 = "application/vnd.amcquerybasedaudience.v1.1+json"
V12 = "application/vnd.amcquerybasedaudience.v1.2+json"
READ_MEDIA = (V12, V11, V1)
DELETABLE = ("FAILED", "SUCCEEDED", "DEACTIVATED")
STARTED = "Successfully started the simple audience creation workflow!"
FIELDS = (
    "advertiserId",
    "audienceName",
    "audienceDescription",
    "query",
    "timeWindowStart",
    "timeWindowEnd",
    "timeWindowRelative",
    "refreshRateDays",
    "countryCode",
    "parameterValues",
    "inputParameters",
    "workflowId",
)


def create(app: Emulator, req: Request) -> Response:
    instance = access.audience_instance(app, req)
    body = req.json_body((V1,))
    validate_body("audiences", "createQueryBasedAudience", body)
    spec = _checked(app, body, instance)
    audience_id = str(uuid.uuid4())
    now = app.now()
    with app.store.tx() as c:
        c.execute(
            "INSERT INTO audiences (audience_execution_id, instance_id, body, status, create_time,"
            " updated_at, next_at, audience_count) VALUES (?,?,?,?,?,?,?,0)",
            (
                audience_id,
                instance.instance_id,
                json.dumps(spec),
                "PENDING",
                now,
                now,
                now + app.config.timing.step_seconds,
            ),
        )
    app.wakeup.set()
    body = {
        "audienceExecutionId": audience_id,
        "audienceExecutionDescription": STARTED,
        "status": "PENDING",
    }
    return Response(200, body, V1)


def get(app: Emulator, req: Request, audience_execution_id: str) -> Response:
    instance = access.audience_instance(app, req)
    row = _require(app, instance.instance_id, audience_execution_id)
    return Response(200, metadata(row), pick_media(req, READ_MEDIA))


def list_(app: Emulator, req: Request) -> Response:
    instance = access.audience_instance(app, req)
    rows = app.store.all(
        "SELECT * FROM audiences WHERE instance_id=? ORDER BY seq", (instance.instance_id,)
    )
    items, next_token = page(rows, req, size_param="maxResults", default=100)
    body: dict = {"executionMetadata": [metadata(r) for r in items]}
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, pick_media(req, READ_MEDIA))


def update(app: Emulator, req: Request, audience_execution_id: str) -> Response:
    instance = access.audience_instance(app, req)
    row = _require(app, instance.instance_id, audience_execution_id)
    body = req.json_body((V1,))
    validate_body("audiences", "updateQueryBasedAudienceByAudienceExecutionId", body)
    if row["status"] != "FAILED":
        raise ApiError(400, f"Only FAILED audiences can be updated; this one is {row['status']}.")
    old = json.loads(row["body"])
    for key in ("audienceName", "advertiserId"):
        if body[key] != old[key]:
            raise ApiError(400, f"{key} must stay the same when updating an audience.")
    if body["audienceType"] != "RULE_BASED":
        raise ApiError(400, "audienceType must stay RULE_BASED.")
    if old.get("audienceDescription") is not None and "audienceDescription" not in body:
        raise ApiError(400, "audienceDescription must be provided because the audience has one.")
    spec = _checked(app, {"refreshRateDays": old["refreshRateDays"], **body}, instance)
    now = app.now()
    with app.store.tx() as c:
        c.execute(
            "UPDATE audiences SET body=?, status='PENDING', status_reason=NULL, updated_at=?,"
            " next_at=?, audience_count=0 WHERE audience_execution_id=?",
            (json.dumps(spec), now, now + app.config.timing.step_seconds, audience_execution_id),
        )
    app.wakeup.set()
    body = {
        "audienceExecutionId": audience_execution_id,
        "audienceExecutionDescription": "Successfully started the audience update workflow!",
        "status": "PENDING",
    }
    return Response(200, body, V12)


def delete(app: Emulator, req: Request, audience_execution_id: str) -> Response:
    instance = access.audience_instance(app, req)
    row = _require(app, instance.instance_id, audience_execution_id)
    if row["status"] not in DELETABLE:
        raise ApiError(400, f"Deletion is not allowed for an audience that is {row['status']}.")
    with app.store.tx() as c:
        c.execute("DELETE FROM audiences WHERE audience_execution_id=?", (audience_execution_id,))
    return Response(204, None)


def metadata(row: sqlite3.Row) -> dict:
    """AMCQueryBasedAudiencesExecutionMetadataV12, with every field a client reads present."""
    spec = json.loads(row["body"])
    out = {k: spec[k] for k in FIELDS if spec.get(k) is not None}
    out.update(
        {
            "audienceExecutionId": row["audience_execution_id"],
            "instanceId": row["instance_id"],
            "createTime": iso(row["create_time"]),
            "status": row["status"],
            "audienceCount": row["audience_count"] or 0,
            "audienceType": "RULE_BASED",
            "advertiserType": "DISPLAY",
            "deletable": row["status"] in DELETABLE,
            "no3pTrackers": True,
        }
    )
    for key, column in (
        ("statusReason", "status_reason"),
        ("dspAudienceId", "dsp_audience_id"),
        ("dspCanonicalId", "dsp_canonical_id"),
    ):
        if row[column]:
            out[key] = row[column]
    if row["last_refreshed_time"]:
        out["lastRefreshedTime"] = iso(row["last_refreshed_time"])
    return out


def _checked(app: Emulator, body: dict, instance) -> dict:
    workflow_id = body.get("workflowId")
    if workflow_id is not None:  # the schema's oneOf: exactly one of query and workflowId
        sql = instance.workflow_sql(workflow_id)
        if sql is None:
            raise ApiError(400, "workflowId names no saved workflow of this AMC instance.")
        body = {**body, "query": sql}
    if not body["query"].strip():
        raise ApiError(400, "query must be a non-empty SQL statement.")
    if not body["audienceName"].strip():
        raise ApiError(400, "audienceName must not be empty.")
    start, end = parse_iso(body["timeWindowStart"]), parse_iso(body["timeWindowEnd"])
    if start > end:
        raise ApiError(400, "timeWindowStart must not be after timeWindowEnd.")
    if app.config.known_advertisers_only and body["advertiserId"] not in {
        a.id for a in instance.advertisers
    }:
        raise ApiError(400, "advertiserId is not linked to this AMC instance.")
    spec = {k: body[k] for k in FIELDS if k in body}
    spec["timeWindowStart"], spec["timeWindowEnd"] = iso(start), iso(end)
    spec.setdefault("refreshRateDays", 21)
    spec.setdefault("timeWindowRelative", False)
    return spec


def _require(app: Emulator, instance_id: str, audience_execution_id: str) -> sqlite3.Row:
    row = app.store.get_audience(audience_execution_id)
    if row is None or row["instance_id"] != instance_id:
        raise ApiError(404, f"No audience {audience_execution_id} in this instance.")
    return row
