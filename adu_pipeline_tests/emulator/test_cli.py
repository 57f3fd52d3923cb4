"""`adu emulator` as a user runs it: prints one ready line, serves, stops on SIGINT/SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import pytest

from adu_pipeline.cli import main


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled(tmp_path, s3_server, sig):
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adu_pipeline.cli",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--state-dir",
            str(state),
            "--s3-endpoint-url",
            s3_server.endpoint_url,
            "--client-id",
            "cid",
            "--client-secret",
            "sec",
            "--refresh-token",
            "Atzr|r",
            "--step-seconds",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        found = re.fullmatch(
            r"AMC emulator ready on (http://127\.0\.0\.1:\d+) \(state: (.+)\)\n", line
        )
        assert found, line
        assert found.group(2) == str(state)
        url = found.group(1)
        token = httpx.post(
            f"{url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|r",
                "client_id": "cid",
                "client_secret": "sec",
            },
        )
        assert token.status_code == 200
        wrong = httpx.post(
            f"{url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "other",
                "client_id": "cid",
                "client_secret": "sec",
            },
        )
        assert wrong.status_code == 400
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out.strip() == "AMC emulator stopped"
    assert (state / "amc-emulator.sqlite3").exists()


def test_cli_rejects_bad_arguments(capsys):
    assert main(["emulator", "--step-seconds", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "error: --step-seconds must be zero or more"


def _args(*argv: str):
    import argparse

    from adu_pipeline.emulator.cli import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(["emulator", *argv])


def test_hostile_flags_build_the_config():
    from adu_pipeline.emulator.cli import config_from_args

    config = config_from_args(
        _args(
            "--rate-limits",
            "--fault-share", "0.1",
            "--fault-after-commit-share", "0.05",
            "--latency-seconds", "0.2",
            "--latency-jitter-seconds", "0.1",
            "--upload-failure-share", "0.3",
            "--audience-failure-share", "0.4",
            "--require-instance-tag",
            "--require-bucket-policy",
            "--seed", "9",
            "--workflow", "wf1=SELECT user_id FROM crm",
            "--accept-any-refresh-token",
        )
    )  # fmt: skip
    h = config.hostile
    assert (h.rate_limits, h.fault_share, h.fault_after_commit_share) == (True, 0.1, 0.05)
    assert (h.latency_seconds, h.latency_jitter_seconds) == (0.2, 0.1)
    assert (h.upload_failure_share, h.audience_failure_share) == (0.3, 0.4)
    assert h.require_instance_tag and h.require_bucket_policy and h.seed == 9
    assert config.instances[0].workflow_sql("wf1") == "SELECT user_id FROM crm"
    assert config.credentials.accept_any_refresh_token
    plain = config_from_args(_args())
    assert plain.hostile == type(h)() and not plain.credentials.accept_any_refresh_token


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault-share", "2"], "error: --fault-share must be between 0 and 1"),
        (["--workflow", "no-sql"], "error: --workflow must be ID=SQL"),
        (
            ["--latency-seconds", "-1"],
            "error: --latency-seconds and --latency-jitter-seconds must be zero or more",
        ),
    ],
)
def test_bad_hostile_flags_are_one_line_errors(capsys, argv, message):
    assert main(["emulator", *argv]) == 2
    assert capsys.readouterr().err.strip() == message
