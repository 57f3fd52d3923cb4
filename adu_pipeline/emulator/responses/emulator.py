"""The emulator's own endpoints (not AMC's, no auth, never throttled or faulted):

- `GET /_emulator/stats`: counters for soak scripts;
- `GET|POST /_emulator/clock` (`{advanceSeconds}`): read or move AMC's clock forward;
- `POST /_emulator/audiences/{id}/lineItem` (`{attached}`): mark an audience as attached to a
  DSP line item (default unattached), which keeps its refresh at `refreshRateDays`;
- `GET /_emulator/results/{executionId}.csv`: a reporting execution's output (downloadUrls).
"""

from __future__ import annotations

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator, iso
from adu_pipeline.emulator.responses.http import Request, Response
from adu_pipeline.emulator.responses.schemas import validate_local

CLOCK_SCHEMA = {
    "type": "object",
    "required": ["advanceSeconds"],
    "additionalProperties": False,
    "properties": {"advanceSeconds": {"type": "number", "minimum": 0, "maximum": 3.2e9}},
}
LINE_ITEM_SCHEMA = {
    "type": "object",
    "required": ["attached"],
    "additionalProperties": False,
    "properties": {"attached": {"type": "boolean"}},
}


def stats(app: Emulator, req: Request) -> Response:
    """Requests served, 429s from the rate limits, injected faults, jobs forced to FAILED,
    rows removed by user deletion requests."""
    return Response(200, app.stats())


def clock(app: Emulator, req: Request) -> Response:
    """GET: AMC's now; POST {advanceSeconds}: move it forward first."""
    if req.method == "POST":
        body = req.json_body(())
        validate_local(CLOCK_SCHEMA, "AdvanceClock", body)
        app.advance_clock(float(body["advanceSeconds"]))
    return Response(200, {"now": iso(app.now()), "offsetSeconds": app.clock_offset()})


def line_item(app: Emulator, req: Request, audience_execution_id: str) -> Response:
    body = req.json_body(())
    validate_local(LINE_ITEM_SCHEMA, "SetLineItem", body)
    row = app.set_line_item(audience_execution_id, body["attached"])
    if row is None:
        raise ApiError(404, f"No audience {audience_execution_id[:100]}.")
    return Response(
        200,
        {
            "audienceExecutionId": audience_execution_id,
            "lineItemAttached": bool(row["line_item"]),
            "nextRefreshTime": iso(row["refresh_at"]),
        },
    )


def result(app: Emulator, req: Request, execution_id: str) -> Response:
    row = app.store.one(
        "SELECT result FROM workflow_executions WHERE execution_id=? AND status='SUCCEEDED'",
        (execution_id,),
    )
    if row is None:
        raise ApiError(404, f"No output for workflow execution {execution_id[:100]}.")
    return Response(200, row["result"].encode("utf-8"), "text/csv")
