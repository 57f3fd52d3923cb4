"""Retries, backoff and time budgets, with faults produced by the real emulator and real sockets.

Faults come from the emulator's hook point (503/500/429 + Retry-After/401, and replies stalled past
the client's read timeout) and from a closed local port (connection refused). No transport is
mocked. Sleeps go through FakeTime so the budget arithmetic is exact and the tests fast.
"""

from __future__ import annotations

import socket
import time

import pytest

from adu_pipeline.amc import (
    AmcClient,
    AmcConnectionError,
    AmcServerError,
    AmcThrottledError,
    AmcTimeout,
    RetryPolicy,
    Timeouts,
    audience_request,
)
from adu_pipeline_tests.amc.conftest import config_for


def dead_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_client(server, fake_time, policy: RetryPolicy, **config) -> AmcClient:
    return AmcClient(
        config_for(server, **config), retry=policy, sleep=fake_time.sleep, clock=fake_time.clock
    )


def test_5xx_is_retried_with_bounded_jittered_backoff(client, hooks, fake_time):
    client.list_datasets()
    hooks.fail("/dataSets/list", 503, count=1)
    hooks.fail("/dataSets/list", 502, count=1)
    assert client.list_datasets() == []
    assert hooks.count("POST", "/dataSets/list") == 4
    assert len(fake_time.sleeps) == 2
    ceilings = [0.2, 0.4]  # base 0.2 * 2^(attempt-1), full jitter below it
    assert all(0 <= s <= c for s, c in zip(fake_time.sleeps, ceilings, strict=True))


def test_429_waits_exactly_retry_after(client, hooks, fake_time):
    client.list_datasets()
    hooks.fail("/dataSets/list", 429, count=1, retry_after="2")
    client.list_datasets()
    assert fake_time.sleeps == [2.0]


def test_retry_after_beyond_the_budget_gives_up_without_sleeping(client, hooks, fake_time):
    hooks.fail("/dataSets/list", 429, count=1, retry_after="60")
    with pytest.raises(AmcThrottledError) as info:
        client.with_budget(20).list_datasets()
    assert info.value.retry_after == 60
    assert fake_time.sleeps == []


def test_max_attempts_bound_retries(client, hooks, fake_time):
    hooks.fail("/dataSets/list", 500, count=50)
    with pytest.raises(AmcServerError) as info:
        client.list_datasets()
    assert hooks.count("POST", "/dataSets/list") == 4
    assert info.value.attempts == 4 and info.value.status == 500
    assert len(fake_time.sleeps) == 3


def test_shared_budget_is_never_overslept(emu, hooks, fake_time):
    policy = RetryPolicy(max_attempts=100, base_delay=0.5, max_delay=4.0, budget_seconds=300)
    with make_client(emu, fake_time, policy) as c:
        tick = c.with_budget(5.0)
        hooks.fail("/dataSets/list", 503, count=1000)
        with pytest.raises(AmcServerError):
            tick.list_datasets()
        assert 0 < sum(fake_time.sleeps) <= 5.0
        slept = sum(fake_time.sleeps)
        with pytest.raises((AmcServerError, AmcTimeout)):  # the same tick's budget is shared
            tick.list_datasets()
        assert sum(fake_time.sleeps) <= 5.0 + 1e-9 and sum(fake_time.sleeps) >= slept
        fake_time.now += 10
        with pytest.raises(AmcTimeout, match="budget exhausted"):
            tick.list_datasets()


def test_token_endpoint_5xx_is_retried(client, hooks, fake_time):
    hooks.fail("/auth/o2/token", 503, count=1)
    client.list_datasets()
    assert hooks.count("POST", "/auth/o2/token") == 2
    assert len(fake_time.sleeps) == 1


def test_connection_refused_is_retried_then_typed(emu, fake_time):
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, budget_seconds=30)
    with make_client(emu, fake_time, policy, base_url=dead_port_url()) as c:
        with pytest.raises(AmcConnectionError) as info:
            c.list_datasets()
        assert info.value.attempts == 3 and len(fake_time.sleeps) == 2
        # never sent, so even a non-idempotent create may be retried
        with pytest.raises(AmcConnectionError) as info:
            c.create_dataset({"dataSetId": "x", "columns": []})
        assert info.value.attempts == 3


def test_read_timeout_on_a_get_is_retried(emu, hooks, fake_time):
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, budget_seconds=30)
    with make_client(emu, fake_time, policy, timeouts=Timeouts(read=0.3)) as c:
        c.list_datasets()
        hooks.fail("/dataSets/list", 0, count=1, delay=1.0)  # stall, then answer normally
        assert c.list_datasets() == []
        assert hooks.count("POST", "/dataSets/list") == 3
        assert len(fake_time.sleeps) == 1
    time.sleep(1.0)  # let the stalled server thread finish before the emulator stops


def test_audience_create_that_reached_amc_is_found_not_repeated(emu, lagging_proxy, fake_time):
    """The truly ambiguous case: AMC creates the audience but its reply never arrives in time.

    The proxy forwards the POST to the real emulator (which creates the audience) and then holds
    the reply past the client's read timeout.
    """
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, budget_seconds=30)
    body = audience_request(
        "ambiguous", "SELECT user_id FROM t", emu.advertiser_id, relative_days=7
    )
    with make_client(
        emu, fake_time, policy, base_url=lagging_proxy.url, timeouts=Timeouts(read=0.3)
    ) as c:
        lagging_proxy.delay_reply("POST", "/amc/audiences/query", 1.0)
        with pytest.raises(AmcTimeout):
            c.create_audience(body)  # plain create: surfaces the ambiguity, no second POST
        posts = [p for p in lagging_proxy.completed if p == ("POST", "/amc/audiences/query")]
        assert len(posts) == 1

        lagging_proxy.delay_reply("POST", "/amc/audiences/query", 1.0)
        result = c.ensure_audience(dict(body, audienceName="ambiguous-2"))
        assert result.action == "created" and result.audience.name == "ambiguous-2"
        posts = [p for p in lagging_proxy.completed if p == ("POST", "/amc/audiences/query")]
        assert len(posts) == 2  # one POST per audience: the lost reply was not re-sent
        names = sorted(a.name for a in c.list_audiences())
        assert names == ["ambiguous", "ambiguous-2"]
