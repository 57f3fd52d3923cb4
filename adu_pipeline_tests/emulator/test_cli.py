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
