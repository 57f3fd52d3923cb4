"""moto's real S3 app on its own loopback port, behind a gate a test closes on one request.

The held request waits (its writer is killed meanwhile, as kill -9 would catch it mid-write) and,
once released, is answered 503 without ever reaching moto: S3 never sees that object. moto's
state is per process, so buckets are shared with the session's `s3_server`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

Match = Callable[[str, str, str], bool]  # (method, path, query) -> hold this request?


class GatedS3:
    def __init__(self) -> None:
        self.app = DomainDispatcherApplication(create_backend_app)
        self.match: Match | None = None
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.server = make_server(
            "127.0.0.1", 0, self, threaded=True, request_handler=MotoRequestHandler
        )
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hold(self, match: Match) -> None:
        """Hold the next request `match` accepts until `release()`."""
        self.arrived.clear()
        self.released.clear()
        self.match = match

    def release(self) -> None:
        self.released.set()

    def __call__(self, environ: dict[str, Any], start_response: Any):
        match = self.match
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if match is not None and match(method, path, environ.get("QUERY_STRING", "")):
            self.match = None
            self.arrived.set()
            self.released.wait(120)
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)


@pytest.fixture
def gated_s3(s3_server) -> Iterator[GatedS3]:
    gate = GatedS3()
    gate.thread.start()
    yield gate
    gate.release()
    gate.server.shutdown()
