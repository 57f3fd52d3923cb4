"""User deletion requests (`/amc/advertiserData/{instanceId}/userDeletionRequest`, API.md 3.8).

Create checks the body against the spec, stores the request PENDING and returns its id; the
worker removes the matched rows from every dataset of the instance one step later and marks it
SUCCEEDED (`models/user_deletion.py`). List pages by `nextToken` / `maxResults` (query).
"""

from __future__ import annotations

import json
import sqlite3
import uuid

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator, iso
from adu_pipeline.emulator.models.user_deletion import identity_keys
from adu_pipeline.emulator.responses import access
from adu_pipeline.emulator.responses.http import Request, Response, page
from adu_pipeline.emulator.responses.schemas import validate_body

MEDIA = "application/vnd.amcadvertiseruserdeletionrequest.v1+json"


def create(app: Emulator, req: Request, instance_id: str) -> Response:
    instance = access.adu_instance(app, req, instance_id)
    body = req.json_body((MEDIA,))
    validate_body("adu", "CreateUserDeletionRequest", body)
    identities = body["targetIdentities"]
    keys = identity_keys(identities)
    request_id = str(uuid.uuid4())
    now = app.now()
    with app.store.tx() as c:
        c.execute(
            "INSERT INTO user_deletions (request_id, instance_id, identities, identity_count,"
            " status, created_at, updated_at, next_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                request_id,
                instance.instance_id,
                json.dumps(keys),
                len(identities),
                "PENDING",
                now,
                now,
                now + app.config.timing.step_seconds,
            ),
        )
    app.wakeup.set()
    return Response(200, {"userDeletionRequestId": request_id}, MEDIA)


def get(app: Emulator, req: Request, instance_id: str, request_id: str) -> Response:
    instance = access.adu_instance(app, req, instance_id)
    row = app.store.one(
        "SELECT * FROM user_deletions WHERE request_id=? AND instance_id=?",
        (request_id, instance.instance_id),
    )
    if row is None:
        raise ApiError(404, f"No user deletion request {request_id[:100]} in this instance.")
    return Response(200, {"identityDeletion": user_deletion(row)}, MEDIA)


def list_(app: Emulator, req: Request, instance_id: str) -> Response:
    instance = access.adu_instance(app, req, instance_id)
    rows = app.store.all(
        "SELECT * FROM user_deletions WHERE instance_id=? ORDER BY seq", (instance.instance_id,)
    )
    items, next_token = page(rows, req, size_param="maxResults", default=100)
    body: dict = {"userDeletions": [user_deletion(r) for r in items]}
    if next_token:
        body["nextToken"] = next_token
    return Response(200, body, MEDIA)


def user_deletion(row: sqlite3.Row) -> dict:
    """The spec's UserDeletion object."""
    return {
        "userDeletionRequestId": row["request_id"],
        "status": row["status"],
        "identityCount": row["identity_count"],
        "creationDateTime": iso(row["created_at"]),
    }
