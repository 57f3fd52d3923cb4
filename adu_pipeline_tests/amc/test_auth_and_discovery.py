"""Login with Amazon and discovery against the emulator over real HTTP."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from adu_pipeline.amc import AmcApiError, AmcAuthError, AmcClient, AmcConfig
from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline_tests.amc.conftest import config_for


def test_token_is_fetched_once_and_cached(client, hooks):
    client.list_accounts()
    client.list_datasets()
    client.list_audiences()
    assert hooks.count("POST", "/auth/o2/token") == 1


def test_token_is_refreshed_shortly_before_expiry(client, hooks, fake_time):
    client.list_datasets()
    fake_time.now += 3600 - 60  # inside the safety margin before the 3600 s expiry
    client.list_datasets()
    assert hooks.count("POST", "/auth/o2/token") == 2


def test_401_refreshes_the_token_once_and_repeats_the_request(client, hooks):
    client.list_datasets()
    hooks.fail("/dataSets/list", 401, count=1)
    assert client.list_datasets() == []
    assert hooks.count("POST", "/auth/o2/token") == 2
    assert hooks.count("POST", "/dataSets/list") == 3


def test_persistent_401_surfaces_as_auth_error(client, hooks):
    hooks.fail("/dataSets/list", 401, count=5)
    with pytest.raises(AmcAuthError) as info:
        client.list_datasets()
    assert info.value.status == 401
    assert hooks.count("POST", "/dataSets/list") == 2  # original + one repeat after refresh


def test_bad_refresh_token_is_an_auth_error_without_secrets(emu, caplog):
    cfg = config_for(emu, refresh_token="Atzr|not-the-right-one")
    caplog.set_level(logging.DEBUG, logger="adu_pipeline.amc")
    with AmcClient(cfg) as c, pytest.raises(AmcAuthError) as info:
        c.list_datasets()
    message = str(info.value)
    assert message.startswith("Login with Amazon 400 invalid_grant")
    for secret in ("not-the-right-one", emu.client_secret):
        assert secret not in message
        assert secret not in caplog.text


def test_wrong_client_secret_is_rejected(emu):
    cfg = config_for(emu, client_secret="top-secret-x")
    with AmcClient(cfg) as c, pytest.raises(AmcAuthError) as info:
        c.access_token()
    assert str(info.value).startswith("Login with Amazon 401 invalid_client")
    assert "top-secret-x" not in str(info.value)


def test_logs_carry_method_path_status_attempt_only(client, caplog, hooks):
    caplog.set_level(logging.DEBUG, logger="adu_pipeline.amc")
    hooks.fail("/dataSets/list", 503, count=1)
    client.list_datasets()
    lines = [r.getMessage() for r in caplog.records if r.name == "adu_pipeline.amc"]
    assert any("/dataSets/list -> 503 (attempt 1)" in line for line in lines)
    assert any("/dataSets/list -> 200 (attempt 2)" in line for line in lines)
    token = client.access_token()
    assert all(token not in line and "Bearer" not in line for line in lines)


def test_discovery_lists_accounts_instances_and_advertisers(emu):
    cfg = AmcConfig(
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token=emu.refresh_token,
        base_url=emu.url,
        token_url=f"{emu.url}/auth/o2/token",
    )
    with AmcClient(cfg) as c:
        accounts = c.list_accounts()
        assert [a.account_id for a in accounts] == [emu.account_id]
        account = accounts[0]
        assert account.marketplace_id == emu.marketplace_id
        instances = c.list_instances(
            advertiser_id=account.account_id, marketplace_id=account.marketplace_id
        )
        assert [i.instance_id for i in instances] == [emu.instance_id]
        assert instances[0].data_upload_aws_account_id
        one = c.get_instance(
            emu.instance_id, advertiser_id=account.account_id, marketplace_id=account.marketplace_id
        )
        assert one.instance_id == emu.instance_id
        advertisers = c.list_advertisers(
            emu.instance_id, advertiser_id=account.account_id, marketplace_id=account.marketplace_id
        )
        assert [a.advertiser_id for a in advertisers] == [emu.advertiser_id]


def test_ads_account_header_is_sent_when_configured(emulator_factory):
    server = emulator_factory.start(config=EmulatorConfig(require_ads_account_id=True))
    token = server.refresh_token  # the emulator accepts only refresh tokens it knows
    cfg = config_for(server, client_id="c", client_secret="s", refresh_token=token)
    with AmcClient(cfg) as c, pytest.raises(AmcApiError) as info:
        c.list_datasets()
    assert info.value.status in (400, 401, 403)
    with AmcClient(
        config_for(
            server,
            client_id="c",
            client_secret="s",
            refresh_token=token,
            ads_account_id="amzn1.ads-account.g.test",
        )
    ) as c:
        assert c.list_datasets() == []


def test_the_token_is_an_httpx_auth_shared_by_threads_and_never_shown(emu, hooks):
    import httpx

    from adu_pipeline.amc.auth import LwaAuth

    with AmcClient(config_for(emu)) as c:
        auth = c._t.auth
        assert isinstance(auth, LwaAuth) and isinstance(auth, httpx.Auth)
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(lambda _: c.list_datasets(), range(16))) == [[]] * 16
        assert hooks.count("POST", "/auth/o2/token") == 1  # one fetch for all threads
        token = c.access_token()
        shown = " ".join(repr(x) for x in (c, c.config, auth, c._t.tokens))
        for secret in (token, emu.client_secret, emu.refresh_token):
            assert secret not in shown


def test_401_on_a_create_is_resent_once_with_a_new_token(client, hooks):
    client.list_datasets()
    hooks.fail("/dataSets", 401, count=1, method="POST")
    column = {"name": "tier", "dataType": "STRING", "columnType": "DIMENSION"}
    assert client.create_dataset({"dataSetId": "after_401", "columns": [column]}) == "after_401"
    creates = hooks.count("POST", "/dataSets") - hooks.count("POST", "/dataSets/list")
    assert creates == 2 and hooks.count("POST", "/auth/o2/token") == 2
