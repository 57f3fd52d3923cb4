"""`EmulatorServer`: the AMC emulator on a stdlib ThreadingHTTPServer plus its job worker.

    server = EmulatorServer("127.0.0.1", 0, state_dir, s3_endpoint_url).start()
    ... server.url ...
    server.stop()

Port 0 picks a free port. All state is in SQLite under `state_dir`; starting a new server on the
same directory continues where the last one stopped (pending jobs included). While one server runs,
a second one on the same directory refuses to start (InputError).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from adu_pipeline.emulator.app import Emulator
from adu_pipeline.emulator.config import Credentials, EmulatorConfig
from adu_pipeline.emulator.jobs import Worker
from adu_pipeline.emulator.routes import family_for, match
from adu_pipeline.emulator.state_lock import StateLock
from adu_pipeline.emulator.web import ApiError, Request, Response, render_error

log = logging.getLogger("adu_pipeline.emulator")
MAX_BODY = 10 * 1024 * 1024


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, app: Emulator):
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """Dropped connections (client gone, server stopping) are routine, not tracebacks."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmcEmulator/1.0"
    timeout = 60
    server: _HttpServer

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802 - no AMC route uses PATCH: answered 404/405 JSON
        self._serve()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(Response(413, {"code": "413", "details": "Request body too large."}))
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self._send(handle(self.server.app, req))

    def _send(self, resp: Response) -> None:
        payload = b"" if resp.body is None else json.dumps(resp.body).encode("utf-8")
        self.send_response(resp.status)
        if resp.body is not None:
            self.send_header("Content-Type", resp.media_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)


def handle(app: Emulator, req: Request) -> Response:
    """Route one request; every failure becomes Amazon's error body for the route's family."""
    family = family_for(req.path)
    try:
        hooked = app.config.hooks.before_request(req.method, req.path, req.headers)
        if hooked is not None:
            resp = Response(hooked.status, hooked.body, headers=dict(hooked.headers))
        else:
            route, params, path_known = match(req.method, req.path)
            if route is None:
                raise ApiError(405 if path_known else 404, f"No operation {req.method} {req.path}.")
            family = route.family
            resp = route.handler(app, req, **params)
    except ApiError as err:
        resp = render_error(family, err, req.request_id)
    except Exception:
        log.exception("emulator error on %s %s", req.method, req.path)
        resp = render_error(family, ApiError(500, "Internal emulator error."), req.request_id)
    resp.headers.setdefault("x-amzn-RequestId", req.request_id)
    log.info("%s %s -> %s", req.method, req.path, resp.status)
    return resp


class EmulatorServer:
    """A running AMC emulator (HTTP + background jobs) on host:port with state in `state_dir`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | Path = ".amc-emulator",
        s3_endpoint_url: str | None = None,
        *,
        config: EmulatorConfig | None = None,
        step_seconds: float | None = None,
        clock: Callable[[], float] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
    ):
        config = config or EmulatorConfig()
        if step_seconds is not None:
            config = replace(config, timing=replace(config.timing, step_seconds=step_seconds))
        if clock is not None:
            config = replace(config, timing=replace(config.timing, clock=clock))
        if client_id or client_secret or refresh_token:
            creds = config.credentials
            config = replace(
                config,
                credentials=Credentials(
                    client_id=client_id or creds.client_id,
                    client_secret=client_secret or creds.client_secret,
                    refresh_token=refresh_token or creds.refresh_token,
                    access_token_ttl_seconds=creds.access_token_ttl_seconds,
                ),
            )
        self.host = host
        self.requested_port = port
        self.state_dir = Path(state_dir)
        self.s3_endpoint_url = s3_endpoint_url
        self.config = config
        self.app: Emulator | None = None
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None
        self._bound_port: int | None = None
        self._lock = StateLock(self.state_dir)

    @property
    def port(self) -> int:
        """The bound port (kept after stop(), so a restart can ask for the same one)."""
        if self._bound_port is None:
            raise RuntimeError("the emulator has not been started")
        return self._bound_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Bind, start serving and the job worker; return once the port accepts connections."""
        self._lock.acquire()
        app = None
        try:
            app = Emulator(self.config, self.state_dir, self.s3_endpoint_url)
            self._http = _HttpServer((self.host, self.requested_port), _Handler, app)
        except BaseException:
            if app is not None:
                app.store.close()
            self._lock.release()
            raise
        self.app = app
        self._bound_port = self._http.server_address[1]
        self.app.public_url = self.url
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="amc-emulator-http",
            daemon=True,
        )
        self._thread.start()
        self._worker = Worker(self.app)
        self._worker.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, let the worker finish its step, close SQLite."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.close_connections()
        self._http.server_close()
        if self._thread:
            self._thread.join(timeout=10)
        if self._worker:
            self._worker.stop()
        if self.app:
            self.app.store.close()
        self._lock.release()
        self._http = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
