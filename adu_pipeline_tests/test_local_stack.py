"""`adu local reset` against a running local stack, the stack's one-emulator-per-state rule, and
the credentials it starts the emulator on and hands to Dagster by environment."""

from __future__ import annotations

import httpx
import pytest

from adu_pipeline.errors import AduError, InputError
from adu_pipeline.local.stack import LOCAL_AMC_CREDENTIALS, LocalStack, describe, reset_local_state


def test_reset_refuses_while_the_stack_runs_and_clears_once_stopped(tmp_path):
    root = tmp_path / ".local"
    stack = LocalStack(root / "emulator").start()
    try:
        with pytest.raises(AduError, match="running on .*stop it first") as caught:
            reset_local_state(root)
        assert "\n" not in str(caught.value)
        assert (root / "emulator").is_dir()
        with pytest.raises(AduError, match="already using the state folder"):
            LocalStack(root / "emulator").start()  # a second stack on the same state
    finally:
        stack.stop()
    assert reset_local_state(root) is True
    assert not root.exists()
    assert reset_local_state(root) is False


def _token(stack: LocalStack, **overrides: str) -> httpx.Response:
    creds = stack.credentials
    return httpx.post(
        f"{stack.amc_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds["ADU_AMC_CLIENT_ID"],
            "client_secret": creds["ADU_AMC_CLIENT_SECRET"],
            "refresh_token": creds["ADU_AMC_REFRESH_TOKEN"],
            **overrides,
        },
    )


def test_the_stack_hands_its_credentials_to_dagster_by_environment_and_accepts_only_them(
    tmp_path,
):
    credentials = {
        "ADU_AMC_CLIENT_ID": "amzn1.application-oa2-client.t",
        "ADU_AMC_CLIENT_SECRET": "secret-for-this-test-only",
        "ADU_AMC_REFRESH_TOKEN": "Atzr|refresh-for-this-test-only",
    }
    with LocalStack(tmp_path / "emulator", credentials=credentials) as stack:
        env = stack.env()
        assert {k: env[k] for k in credentials} == credentials
        assert env["ADU_ENV"] == "local" and env["ADU_LOCAL_AMC_PORT"] == str(stack.amc_port)
        assert _token(stack).status_code == 200
        assert _token(stack, client_secret="another-secret").status_code == 401
        assert _token(stack, refresh_token="Atzr|another").status_code in (400, 401)
        printed = describe(stack)
    # other credentials than the public local ones are named, never printed
    assert "secret-for-this-test-only" not in printed and "refresh-for-this" not in printed
    assert "ADU_AMC_CLIENT_SECRET" in printed


def test_the_default_stack_uses_the_public_local_credentials_and_prints_them_quoted(tmp_path):
    with LocalStack(tmp_path / "emulator") as stack:
        assert _token(stack).status_code == 200
        printed = describe(stack)
    assert stack.credentials == LOCAL_AMC_CREDENTIALS
    assert "ADU_AMC_REFRESH_TOKEN='Atzr|local-refresh-token'" in printed  # safe to paste in a shell


def test_stack_credentials_must_name_the_three_variables(tmp_path):
    with pytest.raises(InputError, match="ADU_AMC_CLIENT_ID, ADU_AMC_CLIENT_SECRET"):
        LocalStack(tmp_path, credentials={"ADU_AMC_CLIENT_ID": "x"})
