"""`EmulatorServer`: the AMC emulator on werkzeug's threaded WSGI server plus its job worker.

    server = EmulatorServer("127.0.0.1", 0, state_dir, s3_endpoint_url).start()
    ... server.url ...
    server.stop()

Port 0 picks a free port. All state is in SQLite under `state_dir`; starting a new server on the
same directory continues where the last one stopped (pending jobs included). While one server runs,
a second one on the same directory refuses to start (InputError). werkzeug's server closes every
connection after its response, so stop() never waits for an idle keep-alive client.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response as WerkzeugResponse

from adu_pipeline.emulator.config import Credentials, EmulatorConfig
from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.backend import Emulator
from adu_pipeline.emulator.models.hostile import retry_after_header
from adu_pipeline.emulator.models.jobs import Worker
from adu_pipeline.emulator.responses.errors import family_for, render_error
from adu_pipeline.emulator.responses.http import Request, Response
from adu_pipeline.emulator.state_lock import StateLock
from adu_pipeline.emulator.urls import URL_MAP

log = logging.getLogger("adu_pipeline.emulator")
MAX_BODY = 10 * 1024 * 1024


def dispatch(app: Emulator, req: Request) -> Response:
    """Route one request; every failure becomes Amazon's error body for the route's family
    (an unexpected one a 500 without its message: no traceback ever leaves the emulator)."""
    family = family_for(req.path)
    try:
        if (req.content_length or 0) > MAX_BODY:
            raise ApiError(413, "Request body too large.")
        headers = {name.lower(): value for name, value in req.headers.items()}
        hooked = app.config.hooks.before_request(req.method, req.path, headers)
        if hooked is not None:
            return Response(hooked.status, hooked.body, headers=dict(hooked.headers))
        try:
            endpoint, params = URL_MAP.bind_to_environ(req.environ).match()
        except (NotFound, MethodNotAllowed) as exc:
            raise ApiError(exc.code or 404, f"No operation {req.method} {req.path}.") from None
        family = endpoint.family
        if endpoint.api:
            app.hostility.count("requests")
            _before_api_call(app, req, endpoint.key)
        reply = endpoint.handler(app, req, **params)
        fault = (
            app.hostility.fault_after(endpoint.key, req.method, reply.status)
            if endpoint.api
            else None
        )
        if fault is not None:
            raise ApiError(fault, INJECTED_AFTER_COMMIT)
        return reply
    except ApiError as err:
        return render_error(family, err, req.request_id)
    except Exception:
        log.exception("emulator error on %s %s", req.method, req.path)
        return render_error(family, ApiError(500, "Internal emulator error."), req.request_id)


INJECTED = "Injected fault: the request was not processed."
INJECTED_AFTER_COMMIT = "Injected fault after the request was processed."


def _before_api_call(app: Emulator, req: Request, route_key: str) -> None:
    """Hostile mode: added latency, the caller's token bucket (429 + Retry-After), a fault."""
    hostility = app.hostility
    delay = hostility.latency()
    if delay > 0:
        time.sleep(delay)
    caller = req.header("Amazon-Advertising-API-ClientId") or req.remote_addr or "anonymous"
    wait = hostility.throttle(route_key, caller)
    if wait is not None:
        raise ApiError(429, "Rate exceeded.", headers={"Retry-After": retry_after_header(wait)})
    fault = hostility.fault_before()
    if fault == 429:
        raise ApiError(429, INJECTED, headers={"Retry-After": "1"})
    if fault is not None:
        raise ApiError(fault, INJECTED)


def wsgi_app(app: Emulator) -> Callable:
    """The WSGI callable: dispatch, then JSON-encode the reply."""

    @Request.application  # type: ignore[arg-type]
    def application(req: Request) -> WerkzeugResponse:
        reply = dispatch(app, req)
        reply.headers.setdefault("x-amzn-RequestId", req.request_id)
        log.info("%s %s -> %s", req.method, req.path, reply.status)
        if reply.body is None:
            payload = b""
        elif isinstance(reply.body, bytes):  # a file (a reporting result), sent as is
            payload = reply.body
        else:
            payload = json.dumps(reply.body).encode("utf-8")
        resp = WerkzeugResponse(payload, reply.status, reply.headers)
        if reply.body is None:
            del resp.headers["Content-Type"]
        else:
            resp.headers["Content-Type"] = reply.media_type
        return resp

    return application


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler, logging through our logger at debug level instead of stderr."""

    server_version = "AmcEmulator/1.0"
    timeout = 60

    def log(self, type: str, message: str, *args) -> None:  # noqa: A002 - werkzeug signature
        log.debug("%s %s", self.address_string(), message % args)


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
                    accept_any_refresh_token=creds.accept_any_refresh_token,
                ),
            )
        self.host = host
        self.requested_port = port
        self.state_dir = Path(state_dir)
        self.s3_endpoint_url = s3_endpoint_url
        self.config = config
        self.app: Emulator | None = None
        self._http: BaseWSGIServer | None = None
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
            self._http = make_server(
                self.host,
                self.requested_port,
                wsgi_app(app),
                threaded=True,
                request_handler=_QuietHandler,
            )
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
        """Stop serving, let the worker finish its step, close SQLite, release the folder."""
        if self._http is None:
            return
        self._http.shutdown()
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
