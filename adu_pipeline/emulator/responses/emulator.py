"""The emulator's own endpoint (not AMC's): `GET /_emulator/stats`, counters for soak scripts."""

from __future__ import annotations

from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.responses.http import Request, Response


def stats(app: Emulator, req: Request) -> Response:
    """Requests served, 429s from the rate limits, injected faults, jobs forced to FAILED."""
    return Response(200, app.stats())
