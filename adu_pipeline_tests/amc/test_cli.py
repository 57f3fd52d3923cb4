"""`adu amc ...` as a user runs it: subprocesses against the emulator and moto over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from adu_pipeline.amc import AmcClient
from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline_tests.amc.conftest import config_for

REPO = Path(__file__).resolve().parents[2]
README = REPO / "adu_pipeline" / "amc" / "README.md"


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADU_AMC_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def emulator_env(server, **extra: str) -> dict[str, str]:
    values = {
        "ADU_AMC_BASE_URL": server.url,
        "ADU_AMC_TOKEN_URL": f"{server.url}/auth/o2/token",
        "ADU_AMC_AUTHORIZE_URL": f"{server.url}/ap/oa",
        "ADU_AMC_CLIENT_ID": server.client_id,
        "ADU_AMC_CLIENT_SECRET": server.client_secret,
        "ADU_AMC_REFRESH_TOKEN": server.refresh_token,
        "ADU_AMC_ADVERTISER_ID": server.account_id,
        "ADU_AMC_MARKETPLACE_ID": server.marketplace_id,
        "ADU_AMC_INSTANCE_ID": server.instance_id,
    }
    values.update(extra)
    return base_env(values)


def adu(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "adu_pipeline.cli", "amc", *args],
        env=env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_login_prints_authorize_url_and_exchanges_the_code(emu, hooks):
    env = emulator_env(emu)
    del env["ADU_AMC_REFRESH_TOKEN"]
    result = adu("login", "--redirect-uri", "http://localhost/cb", "--code", "code-123", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{emu.url}/ap/oa?client_id=" in result.stderr
    assert "scope=advertising%3A%3Acampaign_management" in result.stderr
    assert "response_type=code" in result.stderr
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Fcb" in result.stderr
    assert f"export ADU_AMC_REFRESH_TOKEN='{emu.refresh_token}'" in result.stdout
    assert hooks.count("POST", "/auth/o2/token") == 1
    # the code is single use: a second exchange is refused with Login with Amazon's error
    again = adu("login", "--redirect-uri", "http://localhost/cb", "--code", "code-123", env=env)
    assert again.returncode == 2
    assert (
        again.stderr.strip()
        .splitlines()[-1]
        .startswith("error: Login with Amazon 400 invalid_grant")
    )


def test_login_reads_the_pasted_redirect_address_from_stdin(emu):
    env = emulator_env(emu)
    pasted = "http://localhost/cb?code=pasted-code-9&scope=advertising%3A%3Acampaign_management\n"
    result = adu("login", "--redirect-uri", "http://localhost/cb", "--json", env=env, stdin=pasted)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["refresh_token"] == emu.refresh_token
    assert data["env"] == "ADU_AMC_REFRESH_TOKEN"


def test_missing_configuration_names_the_variables(tmp_path):
    result = adu("datasets", "list", env=base_env())
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    for name in ("ADU_AMC_CLIENT_ID", "ADU_AMC_CLIENT_SECRET", "ADU_AMC_REFRESH_TOKEN"):
        assert name in line


def test_api_errors_are_one_line_and_exit_2(emu, tmp_path):
    env = emulator_env(emu)
    missing = adu("datasets", "get", "nope", env=env)
    assert missing.returncode == 2
    assert re.fullmatch(r"error: AMC 404 \S+: .+ \(requestId [\w-]+\)\n", missing.stderr)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dataSet": {"dataSetId": "Bad Id", "columns": []}}))
    invalid = adu("datasets", "create", "--body", str(bad), env=env)
    assert invalid.returncode == 2
    assert re.fullmatch(r"error: AMC 400 \S+: .+ \(requestId [\w-]+\)\n", invalid.stderr)
    assert emu.refresh_token not in invalid.stderr and emu.client_secret not in invalid.stderr


def test_raw_audience_flags_and_json_output(emu):
    env = emulator_env(emu)
    args = (
        "audience", "create", "--name", "raw flags", "--sql", "SELECT user_id FROM crm",
        "--advertiser", emu.advertiser_id, "--days", "14", "--refresh-days", "3",
        "--no-update-failed", "--json",
    )  # fmt: skip
    first = adu(*args, env=env)
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["action"] == "created" and created["audienceName"] == "raw flags"
    second = json.loads(adu(*args, env=env).stdout)
    assert second["action"] == "reused"
    assert second["audienceExecutionId"] == created["audienceExecutionId"]
    listed = json.loads(adu("audiences", "list", "--json", env=env).stdout)
    assert len(listed["executionMetadata"]) == 1
    longer = adu(*args[:-1], "--days", "60", env=env)  # same name, other window length
    assert longer.returncode == 2
    assert "time window days: AMC has 14.0, wanted 60.0" in longer.stderr
    other_sql = list(args)
    other_sql[5] = "SELECT user_id FROM crm WHERE 1 = 1"
    clash = adu(*other_sql, env=env)
    assert clash.returncode == 2 and "query differs" in clash.stderr
    assert (
        len(json.loads(adu("audiences", "list", "--json", env=env).stdout)["executionMetadata"])
        == 1
    )


def readme_script(emu_url: str, s3_url: str, bucket: str) -> str:
    """The bash sequence from adu_pipeline/amc/README.md, pointed at this test's stack."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    script = next(b for b in blocks if "adu amc login" in b)
    script = script.replace("http://127.0.0.1:8765", emu_url)
    script = script.replace("http://127.0.0.1:5000", s3_url)
    return script.replace("adu-demo", bucket).replace(".venv/bin/python", sys.executable)


@pytest.mark.slow
def test_readme_sequence_twice_creates_nothing_the_second_time(emulator_factory, s3_server):
    server = emulator_factory.start(config=EmulatorConfig())  # accepts any credentials
    bucket = f"readme-{uuid.uuid4().hex[:12]}"
    script = readme_script(server.url, s3_server.endpoint_url, bucket)
    env = base_env()

    def run():
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout, result.stderr

    out1, err1 = run()
    assert "access token OK" in out1
    assert f"account {server.account_id}" in out1 and f"instance {server.instance_id}" in out1
    assert "created dataset crm_customers" in out1
    assert re.search(r"upload \S+ +dataset=crm_customers +status=SUCCESS rows=6000", out1)
    assert re.search(r"audience \S+ +name='adu loyal customers' +status=SUCCEEDED", out1)
    count = int(re.search(r"audienceCount=(\d+)", out1).group(1))
    assert count >= 2000

    out2, err2 = run()
    assert "dataset crm_customers already exists and matches the definition" in out2
    assert "already exists" in err2 and "reusing it" in err2  # the upload of the same manifest
    assert "exists: audience" in err2
    assert re.search(r"status=SUCCEEDED", out2)

    cfg = config_for(
        server, client_id="any", client_secret="any", refresh_token=server.refresh_token
    )
    with AmcClient(cfg) as client:
        assert [d.dataset_id for d in client.list_datasets()] == ["crm_customers"]
        assert len(client.list_uploads(dataset_id="crm_customers")) == 1
        audiences = client.list_audiences()
        assert [a.name for a in audiences] == ["adu loyal customers"]


@pytest.mark.parametrize(
    "args",
    [
        ("upload", "--dataset", "d", "--bucket", "b"),  # no source
        ("upload", "--dataset", "d", "--bucket", "b", "--key", "k", "--prefix", "p"),
        ("datasets", "create", "--definition", "a.yaml", "--body", "b.json"),
        ("datasets", "list", "--no-such-flag"),
        ("upload", "--dataset", "d", "--bucket", "b", "--key", "k", "--format", "xml"),
        ("audience", "create", "--name", "n", "--sql", "SELECT user_id", "--sql-file", "f"),
        ("audience", "create", "--name", "n", "--sql", "SELECT user_id FROM t",
         "--advertiser", "1", "--start", "2025-13-01", "--end", "2025-01-02"),
        ("nope",),
    ],
    ids=lambda a: " ".join(a[:3]),
)  # fmt: skip
def test_bad_input_is_one_error_line_and_exit_2(args):
    result = adu(*args, env=base_env())
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    line = result.stderr
    assert line.startswith("error: ") and line.count("\n") == 1, line
    assert "Traceback" not in line


def test_help_lists_the_commands_and_their_flags():
    top = adu("--help", env=base_env())
    assert top.returncode == 0
    for command in ("login", "discover", "datasets", "upload", "audience", "audiences"):
        assert command in top.stdout
    create = adu("datasets", "create", "--help", env=base_env())
    assert create.returncode == 0
    assert "--add-columns" in create.stdout and "[ADU_AMC_INSTANCE_ID]" in create.stdout


def test_discover_prints_a_ready_to_paste_instances_yaml(emu, tmp_path):
    import yaml

    from adu_pipeline.dataset import load_instances

    result = adu("discover", env=emulator_env(emu))
    assert result.returncode == 0, result.stderr
    snippet = result.stdout.split("data/instances.yaml:\n", 1)[1]
    assert yaml.safe_load(snippet) == {
        "instances": [
            {
                "key": "us",
                "region": "NA",
                "instance_id": emu.instance_id,
                "account_id": emu.account_id,
                "marketplace_id": emu.marketplace_id,
                "dsp_advertisers": [emu.advertiser_id],
            }
        ]
    }
    (tmp_path / "instances.yaml").write_text(snippet)
    (instance,) = load_instances(tmp_path / "instances.yaml")
    assert instance.instance_id == emu.instance_id
    as_json = json.loads(adu("discover", "--json", env=emulator_env(emu)).stdout)
    assert as_json["instances_yaml"].strip() == snippet.strip()


def test_datasets_diff_then_add_columns(emu, tmp_path):
    env = emulator_env(emu)
    column = {"name": "tier", "dataType": "STRING", "columnType": "DIMENSION"}
    body = {"dataSet": {"dataSetId": "cli_ds", "columns": [dict(column, name="email")]}}
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    missing = adu("datasets", "diff", "--body", str(path), env=env)
    assert missing.returncode == 1 and "is not in AMC" in missing.stdout
    assert adu("datasets", "create", "--body", str(path), env=env).returncode == 0
    same = adu("datasets", "diff", "--body", str(path), env=env)
    assert same.returncode == 0 and "no differences" in same.stdout

    body["dataSet"]["columns"].append(column)
    path.write_text(json.dumps(body))
    grown = adu("datasets", "diff", "--body", str(path), "--json", env=env)
    assert grown.returncode == 1
    assert json.loads(grown.stdout)["addableColumns"] == ["tier"]
    refused = adu("datasets", "create", "--body", str(path), env=env)
    assert refused.returncode == 2
    assert "new nullable columns tier are not in AMC yet (rerun with --add-columns)" in (
        refused.stderr
    )
    added = adu("datasets", "create", "--body", str(path), "--add-columns", env=env)
    assert added.returncode == 0 and "added columns tier" in added.stdout

    body["dataSet"]["columns"][1]["dataType"] = "LONG"
    path.write_text(json.dumps(body))
    clash = adu("datasets", "create", "--body", str(path), env=env)
    assert clash.returncode == 2
    assert clash.stderr == (
        "error: dataset cli_ds exists in AMC and differs from the definition: "
        "column 'tier': dataType is STRING in AMC, LONG in the definition\n"
    )


def test_audience_end_date_is_inclusive_like_segments(emu):
    args = ("audience", "create", "--name", "fixed", "--sql", "SELECT user_id FROM crm",
            "--advertiser", emu.advertiser_id, "--start", "2025-01-01", "--end", "2025-01-31",
            "--json")  # fmt: skip
    result = adu(*args, env=emulator_env(emu))
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert (created["timeWindowStart"], created["timeWindowEnd"]) == (
        "2025-01-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
    )
