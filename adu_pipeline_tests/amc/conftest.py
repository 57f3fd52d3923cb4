"""Fixtures for the AMC client tests: clients wired to the real emulator over HTTP.

`RecordingHooks` plugs into the emulator's documented hook point to count the requests it
receives and, when asked, to answer some with a fault (503, 429 + Retry-After, 401, a slow reply).
Nothing in our client is mocked.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from adu_pipeline.amc import AmcClient, AmcConfig, RetryPolicy
from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline.emulator.hooks import HookResponse, Hooks


@dataclass
class Fault:
    path_part: str
    status: int
    count: int
    method: str | None = None
    retry_after: str | None = None
    delay: float = 0.0  # seconds to stall before answering (status 0 = then serve normally)


@dataclass
class RecordingHooks(Hooks):
    """Counts requests by (method, path) and injects queued faults."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def before_request(self, method, path, headers):
        with self.lock:
            self.calls.append((method, path))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.count > 0
                    and f.path_part in path
                    and (f.method is None or f.method == method)
                ),
                None,
            )
            if fault is not None:
                fault.count -= 1
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status == 0:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        body = {"code": "InjectedFault", "details": f"injected {fault.status}"}
        return HookResponse(fault.status, body, headers)

    def fail(self, path_part: str, status: int, count: int = 1, **kw) -> None:
        with self.lock:
            self.faults.append(Fault(path_part, status, count, **kw))

    def count(self, method: str, path_part: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.calls if m == method and path_part in p)


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def emu(emulator_factory, hooks):
    """An emulator whose requests the test can count and fault through `hooks`."""
    from adu_pipeline_tests.fixtures.stack import (
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        TEST_REFRESH_TOKEN,
    )

    return emulator_factory.start(
        config=EmulatorConfig(hooks=hooks),
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        refresh_token=TEST_REFRESH_TOKEN,
    )


def config_for(server, **overrides) -> AmcConfig:
    values = dict(
        client_id=server.client_id,
        client_secret=server.client_secret,
        refresh_token=server.refresh_token,
        base_url=server.url,
        token_url=f"{server.url}/auth/o2/token",
        advertiser_id=server.account_id,
        marketplace_id=server.marketplace_id,
        instance_id=server.instance_id,
    )
    values.update(overrides)
    return AmcConfig(**values)


class FakeTime:
    """A clock the client's sleeps advance, so budget tests run instantly and deterministically."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(emu, fake_time) -> Iterator[AmcClient]:
    with AmcClient(
        config_for(emu),
        retry=RetryPolicy(max_attempts=4, base_delay=0.2, max_delay=2.0, budget_seconds=30),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as c:
        yield c


@pytest.fixture
def waiter(emu) -> Iterator[AmcClient]:
    """A real-time client for polling jobs to a terminal state (the emulator's jobs take real
    seconds, which FakeTime would skip past)."""
    with AmcClient(config_for(emu)) as c:
        yield c


WAIT = {"timeout": 180, "max_interval": 0.5}


# -- data -------------------------------------------------------------------------------------


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CRM_HEADER = (
    "export_date,email,phone,first_name,last_name,address,city,state,zip,country_code,"
    "loyalty_tier,lifetime_value,last_order_date"
)


def yesterday() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def crm_rows(n: int, *, start: int = 0, export_date: str | None = None) -> list[str]:
    """Rows for data/datasets/crm_customers.yaml with hashed PII (synthetic people)."""
    export_date = export_date or yesterday()
    tiers = ("Bronze", "Silver", "Gold", "Platinum")
    rows = []
    for i in range(start, start + n):
        rows.append(
            ",".join(
                [
                    export_date,
                    sha(f"person{i}@example.com"),
                    sha(f"1415555{i:04d}"),
                    sha(f"first{i}"),
                    sha(f"last{i}"),
                    sha(f"{i}mainst"),
                    sha("seattle"),
                    sha("wa"),
                    sha("98101"),
                    "US",
                    tiers[i % 4],
                    f"{(i % 500) + 0.5:.2f}",
                    "2026-10-01",
                ]
            )
        )
    return rows


def crm_csv_gz(n: int, **kw) -> bytes:
    text = "\n".join([CRM_HEADER, *crm_rows(n, **kw)]) + "\n"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


# -- a forwarding proxy that loses replies (test infrastructure, in front of the real emulator) --


class LaggingProxy:
    """Forwards every request to `upstream`; for chosen (method, path) pairs it lets the emulator
    finish the work, then holds the reply for `delay` seconds so the client times out.

    This produces the one fault the emulator cannot: a create that succeeded at AMC whose answer
    never reached us (an ambiguous failure).
    """

    def __init__(self, upstream: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx

        self.upstream = upstream.rstrip("/")
        self.lag: dict[tuple[str, str], list[float]] = {}
        self.completed: list[tuple[str, str]] = []
        proxy = self
        forward = httpx.Client(timeout=30)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream_resp = forward.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body
                )
                path = self.path.split("?", 1)[0]
                proxy.completed.append((self.command, path))
                delays = proxy.lag.get((self.command, path))
                if delays:
                    time.sleep(delays.pop(0))
                try:
                    self.send_response(upstream_resp.status_code)
                    for name, value in upstream_resp.headers.items():
                        if name.lower() not in (
                            "content-length",
                            "transfer-encoding",
                            "connection",
                        ):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(upstream_resp.content)))
                    self.end_headers()
                    self.wfile.write(upstream_resp.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: exactly the point

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._forward = forward
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def delay_reply(self, method: str, path: str, seconds: float) -> None:
        self.lag.setdefault((method, path), []).append(seconds)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._forward.close()


@pytest.fixture
def lagging_proxy(emu) -> Iterator[LaggingProxy]:
    proxy = LaggingProxy(emu.url)
    yield proxy
    proxy.close()
