"""Login with Amazon grants and the header/bearer checks every API family enforces."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx

from adu_pipeline.emulator.config import Credentials, EmulatorConfig
from adu_pipeline.emulator.hooks import FailNextRequests, Hooks
from adu_pipeline_tests.emulator.conftest import Api, start_with


def token_request(emulator, **fields) -> httpx.Response:
    data = {"client_id": emulator.client_id, "client_secret": emulator.client_secret, **fields}
    return httpx.post(f"{emulator.url}/auth/o2/token", data=data)


def test_refresh_grant_issues_a_bearer_token(emulator):
    resp = token_request(emulator, grant_type="refresh_token", refresh_token=emulator.refresh_token)
    assert resp.status_code == 200
    body = resp.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == emulator.refresh_token


def test_refresh_grant_rejects_wrong_credentials(emulator):
    bad_token = token_request(emulator, grant_type="refresh_token", refresh_token="Atzr|other")
    assert bad_token.status_code == 400
    assert bad_token.json()["error"] == "invalid_grant"
    assert "refresh_token" in bad_token.json()["error_description"]
    bad_secret = httpx.post(
        f"{emulator.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": emulator.refresh_token,
            "client_id": emulator.client_id,
            "client_secret": "wrong",
        },
    )
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
    assert "wrong" not in bad_secret.text
    unknown = token_request(emulator, grant_type="password")
    assert unknown.json()["error"] == "unsupported_grant_type"
    as_json = httpx.post(f"{emulator.url}/auth/o2/token", json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"


def _refresh(server, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "any-client",
            "client_secret": "any-secret",
        },
    )


def test_default_config_refuses_refresh_tokens_it_did_not_issue(emulator_factory):
    server = emulator_factory.start(config=EmulatorConfig())
    unknown = _refresh(server, "anything")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_grant"
    assert _refresh(server, "").status_code == 400


def test_accept_any_refresh_token_is_an_explicit_choice(emulator_factory):
    config = EmulatorConfig(credentials=Credentials(accept_any_refresh_token=True))
    server = emulator_factory.start(config=config)
    assert _refresh(server, "anything").status_code == 200
    assert _refresh(server, "").status_code == 400


def test_authorization_code_flow_via_authorize_redirect(emulator):
    redirect = "http://localhost:8080/callback"
    authorize = httpx.get(
        f"{emulator.url}/ap/oa",
        params={
            "client_id": emulator.client_id,
            "scope": "advertising::campaign_management",
            "response_type": "code",
            "redirect_uri": redirect,
            "state": "xyz",
        },
    )
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == "localhost:8080"
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    first = token_request(
        emulator, grant_type="authorization_code", code=code, redirect_uri=redirect
    )
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    assert refresh == emulator.refresh_token  # the configured refresh token is handed out
    again = token_request(
        emulator, grant_type="authorization_code", code=code, redirect_uri=redirect
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid parameter : code",
    }
    wrong_redirect = token_request(
        emulator, grant_type="authorization_code", code="other-code", redirect_uri=redirect
    )
    assert wrong_redirect.status_code == 200  # codes not issued here are accepted once


def test_issued_refresh_token_works_when_none_configured(emulator_factory):
    server = emulator_factory.start(config=EmulatorConfig(credentials=Credentials("cid", "sec")))
    code = httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "authorization_code",
            "code": "c1",
            "redirect_uri": "http://x/cb",
            "client_id": "cid",
            "client_secret": "sec",
        },
    )
    refresh = code.json()["refresh_token"]
    assert refresh.startswith("Atzr|")
    again = httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": "cid",
            "client_secret": "sec",
        },
    )
    assert again.status_code == 200


def test_adu_calls_require_an_issued_bearer_and_the_account_headers(emulator):
    api = Api(emulator)
    path = f"{api.adu}/dataSets/list"
    assert api.call("POST", path).status_code == 200

    cases = {
        "no bearer": ({k: v for k, v in api.headers().items() if k != "Authorization"}, 401),
        "foreign bearer": (api.headers(Authorization="Bearer Atza|not-issued-here"), 401),
        "other client id": (api.headers(**{"Amazon-Advertising-API-ClientId": "other"}), 401),
        "no advertiser": (
            {k: v for k, v in api.headers().items() if k != "Amazon-Advertising-API-AdvertiserId"},
            400,
        ),
        "no marketplace": (
            {k: v for k, v in api.headers().items() if k != "Amazon-Advertising-API-MarketplaceId"},
            400,
        ),
        "other account": (api.headers(**{"Amazon-Advertising-API-AdvertiserId": "ENTITYX"}), 403),
        "other marketplace": (
            api.headers(**{"Amazon-Advertising-API-MarketplaceId": "A1F83G8C2ARO7P"}),
            403,
        ),
    }
    for name, (headers, status) in cases.items():
        resp = api.call("POST", path, headers=headers)
        assert resp.status_code == status, name
        body = resp.json()
        assert set(body) == {"code", "details", "errors", "requestId"}, name
        assert body["code"] == str(status)
        assert resp.headers["content-type"] == "application/json"
        assert api.token not in resp.text

    unknown = api.call("POST", "/amc/advertiserData/amcnosuch/dataSets/list")
    assert unknown.status_code == 404


def test_expired_token_is_refused(emulator_factory):
    config = EmulatorConfig(credentials=Credentials(refresh_token="r", access_token_ttl_seconds=0))
    server = emulator_factory.start(config=config)
    server.client_id, server.refresh_token, server.client_secret = "c", "r", "s"
    api = Api(server)
    resp = api.call("POST", f"{api.adu}/dataSets/list")
    assert resp.status_code == 401
    assert "expired" in resp.json()["details"]


def test_audience_calls_require_the_instance_header(emulator):
    api = Api(emulator)
    assert api.call("GET", "/amc/audiences/query").status_code == 200
    no_instance = {
        k: v
        for k, v in api.headers(audience=True).items()
        if k != "Amazon-Marketing-Cloud-Audience-InstanceId"
    }
    missing = api.call("GET", "/amc/audiences/query", headers=no_instance)
    assert missing.status_code == 400
    assert set(missing.json()) == {"code", "details", "requestId"}
    assert missing.headers["content-type"] == "application/vnd.amcquerybasedaudience.v1+json"
    other_entity = api.headers(audience=True, **{"Amazon-Advertising-API-EntityId": "ENTITYX"})
    # 403 is not declared for this operation by the spec, so only the shape is checked
    forbidden = api.call("GET", "/amc/audiences/query", headers=other_entity, validate=False)
    assert forbidden.status_code == 403
    unknown = api.headers(audience=True, **{"Amazon-Marketing-Cloud-Audience-InstanceId": "x"})
    assert api.call("GET", "/amc/audiences/query", headers=unknown).status_code == 404


def test_discovery_lists_account_instance_and_advertisers(emulator):
    api = Api(emulator)
    accounts = api.call("GET", "/amc/accounts", headers=api.headers(audience=True)).json()
    assert accounts["amcAccounts"] == [
        {
            "accountId": emulator.account_id,
            "accountName": "AMC emulator account",
            "marketplaceId": emulator.marketplace_id,
        }
    ]
    instances = api.call("GET", "/amc/instances").json()["instances"]
    assert [i["instanceId"] for i in instances] == [emulator.instance_id]
    instance = api.call("GET", f"/amc/instances/{emulator.instance_id}").json()["instance"]
    assert instance["dataUploadAwsAccountId"] == emulator.data_upload_aws_account_id
    assert instance["apiEndpoint"] == emulator.url
    assert instance["creationStatus"] == "COMPLETED"
    advertisers = api.call("GET", f"/amc/instances/{emulator.instance_id}/advertisers").json()
    assert advertisers["advertisers"][0]["id"] == emulator.advertiser_id
    missing = api.call("GET", "/amc/instances/amcnosuch")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "details"}
    no_bearer = api.call(
        "GET", "/amc/accounts", headers={"Amazon-Advertising-API-ClientId": emulator.client_id}
    )
    assert no_bearer.status_code == 401
    assert set(no_bearer.json()) == {"message", "requestId"}


def test_hooks_can_inject_throttling(emulator_factory):
    hooks = FailNextRequests("/dataSets/list", 429, count=1, retry_after=2)
    server = emulator_factory.start(
        config=replace(EmulatorConfig(credentials=Credentials("c", "s", "r")), hooks=hooks)
    )
    server.client_id, server.client_secret, server.refresh_token = "c", "s", "r"
    api = Api(server)
    first = api.call("POST", f"{api.adu}/dataSets/list")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert api.call("POST", f"{api.adu}/dataSets/list").status_code == 200


def test_ads_account_header_can_be_required(emulator_factory):
    config = EmulatorConfig(credentials=Credentials("c", "s", "r"), require_ads_account_id=True)
    server = emulator_factory.start(config=config)
    server.client_id, server.client_secret, server.refresh_token = "c", "s", "r"
    api = Api(server)
    path = f"{api.adu}/dataSets/list"
    missing = api.call("POST", path)
    assert missing.status_code == 400
    assert "Amazon-Ads-AccountId" in missing.json()["details"]
    with_header = api.headers(**{"Amazon-Ads-AccountId": "ads-account-1"})
    assert api.call("POST", path, headers=with_header).status_code == 200


def test_unknown_paths_and_methods_use_the_family_error_body(emulator):
    api = Api(emulator)
    unknown = api.http.get(f"{api.adu}/nothing-here", headers=api.headers())
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"code", "details", "errors", "requestId"}
    wrong_method = api.http.patch(f"{api.adu}/dataSets/x", headers=api.headers())
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "405"
    assert unknown.headers["x-amzn-RequestId"] == unknown.json()["requestId"]


class _BrokenHooks(Hooks):
    def before_request(self, method, path, headers):
        raise RuntimeError("secret-detail-42 in an internal message")


def test_an_unexpected_error_is_a_json_500_without_traceback(emulator_factory):
    server = start_with(emulator_factory, EmulatorConfig(hooks=_BrokenHooks()))
    http = httpx.Client(base_url=server.url, timeout=10)
    for path, keys in (
        (
            "/amc/advertiserData/amcemulator01/dataSets/list",
            {"code", "details", "errors", "requestId"},
        ),
        ("/amc/audiences/query", {"code", "details", "requestId"}),
        ("/amc/accounts", {"message", "requestId"}),
    ):
        resp = http.post(path) if "dataSets" in path else http.get(path)
        assert resp.status_code == 500
        assert set(resp.json()) == keys
        assert "secret-detail-42" not in resp.text
        assert "Traceback" not in resp.text
    http.close()


def test_a_trailing_slash_is_served_like_the_path(emulator):
    api = Api(emulator)
    # the contract checker knows only the spec's spelling of each path
    listed = api.call("POST", f"{api.adu}/dataSets/list/", validate=False)
    assert listed.status_code == 200
    assert listed.json()["dataSets"] == []
    instances = api.call("GET", "/amc/instances/", validate=False)
    assert instances.status_code == 200
    assert [i["instanceId"] for i in instances.json()["instances"]] == [emulator.instance_id]
