"""Status vocabulary, configuration and error formatting (no server needed)."""

from __future__ import annotations

import pytest

from adu_pipeline.amc import AmcConfig, AmcConfigError, AmcValidationError, JobStatus
from adu_pipeline.amc.config import API_HOSTS, TOKEN_URLS
from adu_pipeline.errors import AduError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SUBMITTED", JobStatus.PENDING),
        ("PENDING", JobStatus.PENDING),
        ("IN_PROGRESS", JobStatus.RUNNING),
        ("RUNNING", JobStatus.RUNNING),
        ("SUCCESS", JobStatus.SUCCEEDED),
        ("COMPLETED", JobStatus.SUCCEEDED),
        ("SUCCEEDED", JobStatus.SUCCEEDED),
        ("FAILED", JobStatus.FAILED),
        ("DEACTIVATED", JobStatus.DEACTIVATED),
        ("succeeded", JobStatus.SUCCEEDED),
        ("PartiallySucceeded", JobStatus.PENDING),
        ("", JobStatus.PENDING),
    ],
)
def test_every_spelling_maps_to_one_status(raw, expected):
    assert JobStatus.parse(raw) is expected


def test_terminal_and_success_flags():
    assert [s for s in JobStatus if s.is_terminal] == [
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.DEACTIVATED,
    ]
    assert [s for s in JobStatus if s.is_success] == [JobStatus.SUCCEEDED]
    assert JobStatus("COMPLETED").is_terminal and JobStatus("SUCCESS").is_success
    assert not JobStatus("something new").is_terminal


def test_regions_pick_hosts_and_token_urls():
    for region in ("NA", "EU", "FE"):
        cfg = AmcConfig(region=region.lower())
        assert cfg.api_base_url == API_HOSTS[region]
        assert cfg.lwa_token_url == TOKEN_URLS[region]
    assert AmcConfig(region="EU").api_base_url == "https://advertising-api-eu.amazon.com"
    override = AmcConfig(base_url="http://127.0.0.1:9/", token_url="http://127.0.0.1:9/t")
    assert override.api_base_url == "http://127.0.0.1:9"
    assert override.lwa_token_url == "http://127.0.0.1:9/t"
    with pytest.raises(AmcConfigError, match="unknown AMC region"):
        AmcConfig(region="APAC")


def test_from_env_names_missing_variables_never_values():
    env = {"ADU_AMC_CLIENT_ID": "amzn1.client", "ADU_AMC_CLIENT_SECRET": "s3cr3t-value"}
    with pytest.raises(AmcConfigError) as info:
        AmcConfig.from_env(env=env)
    message = str(info.value)
    assert "ADU_AMC_REFRESH_TOKEN" in message
    assert "s3cr3t-value" not in message and "ADU_AMC_CLIENT_SECRET" not in message
    assert isinstance(info.value, AduError)


def test_from_env_reads_everything_and_repr_hides_secrets():
    env = {
        "X_CLIENT_ID": "amzn1.client",
        "X_CLIENT_SECRET": "s3cr3t-value",
        "X_REFRESH_TOKEN": "Atzr|refresh-value",
        "X_REGION": "fe",
        "X_INSTANCE_ID": "amc123",
        "X_ADVERTISER_ID": "ENTITY1",
        "X_MARKETPLACE_ID": "A1VC38T7YXB528",
        "X_ADS_ACCOUNT_ID": "amzn1.ads-account",
        "X_TIMEOUT_READ": "7.5",
    }
    cfg = AmcConfig.from_env(prefix="X_", env=env)
    assert (cfg.region, cfg.instance_id, cfg.advertiser_id) == ("FE", "amc123", "ENTITY1")
    assert cfg.audience_entity_id == "ENTITY1"  # entity id defaults to the account id
    assert cfg.ads_account_id == "amzn1.ads-account"
    assert cfg.timeouts.read == 7.5 and cfg.timeouts.connect == 5.0
    text = repr(cfg)
    assert "s3cr3t-value" not in text and "refresh-value" not in text
    assert "amzn1.client" in text


def test_bad_timeout_names_the_variable():
    env = {"ADU_AMC_TIMEOUT_CONNECT": "soon"}
    with pytest.raises(AmcConfigError, match="ADU_AMC_TIMEOUT_CONNECT"):
        AmcConfig.from_env(env=env, require_credentials=False)


def test_require_names_settings_for_the_operation():
    cfg = AmcConfig(client_id="c", client_secret="s", refresh_token="r")
    with pytest.raises(AmcConfigError, match="ADU_AMC_INSTANCE_ID"):
        cfg.require("instance_id", "advertiser_id", purpose="uploads")


def test_error_message_is_one_line_with_code_details_and_request_id():
    err = AmcValidationError(
        status=400,
        code="ValidationException",
        details="Invalid column\ntype",
        errors=["columns[1].dataType must be one of STRING"],
        request_id="req-1",
    )
    assert str(err) == (
        "AMC 400 ValidationException: Invalid column type; columns[1].dataType must be one "
        "of STRING (requestId req-1)"
    )
    numeric = AmcValidationError(status=404, code="404", details="gone")
    assert str(numeric) == "AMC 404 NotFound: gone"
