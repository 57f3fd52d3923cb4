"""The code location loads, validates, and our code raises no deprecation warnings."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from adu_pipeline.defs.environments import (
    PROD_REQUIRED,
    current_env,
    prod_resources,
    resources_for_env,
)
from adu_pipeline.defs.project import project_dir
from adu_pipeline.errors import InputError

ROOT = project_dir()
PROD_ENV = {name: f"value-{i}" for i, name in enumerate(PROD_REQUIRED)}

# Imports and builds everything with every warning on; prints the deprecations raised from our
# package (Dagster reports its deprecations at the caller's line, so the filename is ours).
WARNINGS_PROBE = """
import warnings, sys
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import adu_pipeline.definitions as d
    repo = d.defs.get_repository_def()
    for job in repo.get_all_jobs():
        job.get_partition_keys if hasattr(job, "get_partition_keys") else None
ours = [
    f"{w.category.__name__}: {w.filename}:{w.lineno}: {w.message}"
    for w in caught
    if issubclass(w.category, DeprecationWarning) and "/adu_pipeline/" in w.filename
]
print("\\n".join(ours))
sys.exit(1 if ours else 0)
"""


def test_definitions_load_with_every_asset_check_sensor_and_job():
    from adu_pipeline.definitions import defs

    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert keys == {
        "crm_export",
        "hashed_customers",
        "adu_s3_object",
        "amc_dataset",
        "amc_upload",
        "amc_audience",
    }
    assert {s.name for s in repo.sensor_defs} == {
        "landing_file_sensor",
        "amc_upload_status",
        "amc_audience_status",
    }
    assert {s.name for s in repo.schedule_defs} == {"daily_export_schedule"}
    assert {"adu_export_job", "adu_audience_job"} <= {j.name for j in repo.get_all_jobs()}
    checks = {k.name for k in repo.asset_graph.asset_check_keys}
    assert checks == {
        "schema_matches_definition",
        "pii_egress_guard",
        "match_readiness",
        "amc_upload_succeeded",
        "amc_audience_succeeded",
    }
    hashed = repo.assets_defs_by_key[dg.AssetKey("hashed_customers")]
    assert all(spec.blocking for spec in hashed.check_specs)
    schema = hashed.specs_by_key[dg.AssetKey("hashed_customers")].metadata["dagster/column_schema"]
    assert "email" in {c.name for c in schema.columns}
    for key in ("amc_dataset", "amc_upload", "amc_audience"):
        assert repo.assets_defs_by_key[dg.AssetKey(key)].op.pool == "amc_api"


def test_dagster_definitions_validate_passes():
    result = subprocess.run(
        [str(ROOT / ".venv/bin/dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ADU_ENV": "local"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_our_code_raises_no_deprecation_warnings():
    result = subprocess.run(
        [sys.executable, "-c", WARNINGS_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_local_is_the_default_environment():
    assert current_env({}) == "local"
    resources = resources_for_env({"ADU_LOCAL_S3_PORT": "1234", "ADU_LOCAL_AMC_PORT": "4321"})
    assert resources["s3"].endpoint_url == "http://127.0.0.1:1234"
    assert resources["amc"].base_url == "http://127.0.0.1:4321"


def test_unknown_environment_is_an_error():
    with pytest.raises(InputError, match="ADU_ENV must be local or prod"):
        current_env({"ADU_ENV": "staging"})


@pytest.mark.parametrize("missing", ["ADU_AMC_CLIENT_SECRET", "ADU_S3_BUCKET"])
def test_prod_with_a_partial_credential_names_the_variable_and_never_falls_back(missing):
    env = {"ADU_ENV": "prod", **PROD_ENV}
    del env[missing]
    with pytest.raises(InputError, match=missing):
        resources_for_env(env)


def test_prod_with_nothing_set_lists_every_variable():
    with pytest.raises(InputError) as raised:
        resources_for_env({"ADU_ENV": "prod"})
    for name in PROD_REQUIRED:
        assert name in str(raised.value)


def test_prod_reads_credentials_through_envvar_and_uses_real_hosts(monkeypatch):
    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ADU_AMC_REGION", "EU")
    resources = prod_resources()
    amc = resources["amc"]
    # the values stay environment references in the config, resolved at run time
    assert amc._get_non_default_public_field_values().get("client_secret") == dg.EnvVar(
        "ADU_AMC_CLIENT_SECRET"
    )
    assert isinstance(resources["s3"], S3Resource)
    assert resources["s3"].endpoint_url is None
    with dg.build_resources({"amc": amc}) as built:
        config = built.amc.config()
    assert config.client_secret == PROD_ENV["ADU_AMC_CLIENT_SECRET"]
    assert config.api_base_url == "https://advertising-api-eu.amazon.com"
    assert config.base_url is None
