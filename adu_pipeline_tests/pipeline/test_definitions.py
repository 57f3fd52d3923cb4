"""The code location loads the way `dagster dev` and `dg` load it, validates, builds one set of
assets per dataset file and per instance, and our code raises no deprecation warnings."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from adu_pipeline.errors import InputError
from adu_pipeline.lib.resources import CREDENTIALS, resources_for
from adu_pipeline.settings import load_settings
from adu_pipeline_tests.pipeline.conftest import REPO

LOCAL_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ADU_")}

# Imports and builds everything with every warning on; prints the deprecations raised from our
# package (Dagster reports its deprecations at the caller's line, so the filename is ours).
WARNINGS_PROBE = """
import warnings, sys
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from adu_pipeline.definitions import defs
    repo = defs().get_repository_def()
    repo.get_all_jobs()
ours = [
    f"{w.category.__name__}: {w.filename}:{w.lineno}: {w.message}"
    for w in caught
    if issubclass(w.category, DeprecationWarning) and "/adu_pipeline/" in w.filename
]
print("\\n".join(ours))
sys.exit(1 if ours else 0)
"""


@pytest.fixture
def repo(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ADU_"):
            monkeypatch.delenv(name)
    from adu_pipeline.definitions import defs

    return defs().get_repository_def()


def user_keys(repo) -> set[str]:
    return {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}


def test_every_dataset_file_becomes_its_own_assets_per_instance(repo):
    assert user_keys(repo) == {
        "crm_customers/landing",
        "crm_customers/hashed",
        "crm_customers/s3_object",
        "crm_customers/us/amc_dataset",
        "crm_customers/us/amc_upload",
        "crm_customers/eu/amc_dataset",
        "crm_customers/eu/amc_upload",
        "crm_customers_list/landing",
        "crm_customers_list/hashed",
        "crm_customers_list/s3_object",
        "crm_customers_list/us/amc_dataset",
        "crm_customers_list/us/amc_upload",
        "offline_conversions/landing",
        "offline_conversions/hashed",
        "offline_conversions/s3_object",
        "offline_conversions/us/amc_dataset",
        "offline_conversions/us/amc_upload",
        "audiences/amc_audience",
        "privacy/optouts",
        "privacy/us/user_deletions",
        "privacy/eu/user_deletions",
    }


def test_fact_datasets_are_daily_and_the_dimension_list_is_unpartitioned(repo):
    def partitions(key: str):
        return repo.asset_graph.get(dg.AssetKey.from_user_string(key)).partitions_def

    for dataset in ("crm_customers", "offline_conversions"):
        for asset in ("hashed", "s3_object", "us/amc_upload"):
            assert isinstance(partitions(f"{dataset}/{asset}"), dg.DailyPartitionsDefinition)
    for asset in ("hashed", "s3_object", "us/amc_upload", "us/amc_dataset"):
        assert partitions(f"crm_customers_list/{asset}") is None
    audience = partitions("audiences/amc_audience")
    assert isinstance(audience, dg.DynamicPartitionsDefinition) and audience.name == "segments"


def test_sensors_schedules_jobs_checks_and_pools(repo):
    assert {s.name for s in repo.sensor_defs} == {
        "landing_file_sensor",
        "segment_files_sensor",
        "amc_upload_status",
        "amc_audience_status",
        "run_worker_reaper",
        "optout_file_sensor",
        "amc_deletion_status",
        "amc_audience_health",
    }
    assert {s.name for s in repo.schedule_defs} == {
        "crm_customers_daily_schedule",
        "offline_conversions_daily_schedule",
    }
    assert {
        "crm_customers_export_job",
        "crm_customers_list_export_job",
        "offline_conversions_export_job",
        "adu_audience_job",
    } <= {j.name for j in repo.get_all_jobs()}
    checks = {(k.asset_key.to_user_string(), k.name) for k in repo.asset_graph.asset_check_keys}
    for dataset in ("crm_customers", "crm_customers_list", "offline_conversions"):
        for name in ("schema_matches_definition", "pii_egress_guard", "match_readiness"):
            assert (f"{dataset}/hashed", name) in checks
    assert ("crm_customers/eu/amc_upload", "amc_upload_succeeded") in checks
    assert ("audiences/amc_audience", "amc_audience_succeeded") in checks
    hashed = repo.assets_defs_by_key[dg.AssetKey(["crm_customers", "hashed"])]
    blocking = {spec.name for spec in hashed.check_specs if spec.blocking}
    assert blocking == {"schema_matches_definition", "pii_egress_guard", "match_readiness"}
    assert all(spec.partitions_def == hashed.partitions_def for spec in hashed.check_specs)
    schema = hashed.specs_by_key[hashed.key].metadata["dagster/column_schema"]
    assert "email" in {c.name for c in schema.columns}
    pools = {}
    for key in repo.asset_graph.get_all_asset_keys():
        if key.path[-1] in ("amc_dataset", "amc_upload", "amc_audience"):
            pools[key.to_user_string()] = repo.assets_defs_by_key[key].op.pool
    # one pool per (dataset, instance) for its dataset and uploads, one for every audience
    assert pools["crm_customers/us/amc_dataset"] == pools["crm_customers/us/amc_upload"]
    assert pools["crm_customers/us/amc_upload"] != pools["crm_customers/eu/amc_upload"]
    assert pools["audiences/amc_audience"] == "amc.audiences"
    assert len(set(pools.values())) == len(pools) // 2 + 1


def test_export_job_of_a_dataset_reaches_every_instance_it_names(repo):
    job = repo.get_job("crm_customers_export_job")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert keys == {
        "crm_customers/hashed",
        "crm_customers/s3_object",
        "crm_customers/us/amc_dataset",
        "crm_customers/us/amc_upload",
        "crm_customers/eu/amc_dataset",
        "crm_customers/eu/amc_upload",
    }


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / ".venv/bin" / command[0]), *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=LOCAL_ENV,
    )


def test_dg_check_defs_and_list_defs_pass():
    checked = run_tool("dg", "check", "defs")
    assert checked.returncode == 0, checked.stderr[-2000:] + checked.stdout[-2000:]
    listed = run_tool("dg", "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "crm_customers/hashed" in listed.stdout and "segment_files_sensor" in listed.stdout


def test_dagster_definitions_validate_passes():
    result = run_tool("dagster", "definitions", "validate", "-w", "workspace.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_our_code_raises_no_deprecation_warnings():
    result = subprocess.run(
        [sys.executable, "-c", WARNINGS_PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=LOCAL_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_a_bad_dataset_file_fails_the_load_naming_the_problem(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "broken.yaml").write_text(
        "id: broken\ncolumns:\n  - name: email\n    dataType: TEXT\n"
    )
    monkeypatch.setenv("ADU_DATASETS_DIR", str(folder))
    from adu_pipeline.dataset import DefinitionError
    from adu_pipeline.definitions import defs

    with pytest.raises(Exception) as raised:  # Dagster wraps it in its component tree error
        defs()
    cause = raised.value
    while cause is not None and not isinstance(cause, DefinitionError):
        cause = cause.__cause__
    assert cause is not None, raised.value
    assert "broken.yaml" in str(cause) and "dataType" in str(cause)


# -- resources and settings ------------------------------------------------------------------------


def test_local_is_the_default_environment():
    settings = load_settings({"ADU_LOCAL_S3_PORT": "1234", "ADU_LOCAL_AMC_PORT": "4321"})
    assert settings.env == "local"
    resources = resources_for(settings, {})
    assert resources["s3"].endpoint_url == "http://127.0.0.1:1234"
    assert resources["amc"].base_url == "http://127.0.0.1:4321"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ADU_ENV", "staging", "ADU_ENV must be local or prod"),
        ("ADU_MAX_PART_MB", "lots", "ADU_MAX_PART_MB must be a number"),
        ("ADU_MIN_IDENTIFIER_SHARE", "2", "ADU_MIN_IDENTIFIER_SHARE must be between 0 and 1"),
        ("ADU_PARTITION_START", "yesterday", "ADU_PARTITION_START must be a date"),
        ("ADU_FILE_FORMAT", "xlsx", "ADU_FILE_FORMAT must be one of csv_gz, parquet"),
    ],
)
def test_a_bad_setting_names_its_variable(variable, value, message):
    with pytest.raises(InputError, match=message):
        load_settings({variable: value})


def test_settings_resolve_relative_paths_against_the_project_folder(tmp_path):
    settings = load_settings({"ADU_PROJECT_DIR": str(tmp_path), "ADU_LANDING_DIR": "in"})
    assert settings.landing_dir == tmp_path / "in"
    assert settings.datasets_dir == tmp_path / "data" / "datasets"


@pytest.mark.parametrize("missing", CREDENTIALS)
def test_prod_with_a_partial_credential_names_the_variable_and_never_falls_back(missing):
    env = {"ADU_ENV": "prod", "ADU_S3_BUCKET": "b", **{n: "x" for n in CREDENTIALS}}
    del env[missing]
    with pytest.raises(InputError, match=missing):
        resources_for(load_settings(env), env)


def test_prod_needs_a_bucket():
    with pytest.raises(InputError, match="ADU_S3_BUCKET"):
        load_settings({"ADU_ENV": "prod"})


def test_prod_reads_credentials_through_envvar_and_uses_real_hosts(monkeypatch):
    env = {"ADU_ENV": "prod", "ADU_S3_BUCKET": "bucket", **{n: f"v-{n}" for n in CREDENTIALS}}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resources = resources_for(load_settings(env), env)
    amc = resources["amc"]
    # the values stay environment references in the config, resolved at run time
    assert amc._get_non_default_public_field_values().get("client_secret") == dg.EnvVar(
        "ADU_AMC_CLIENT_SECRET"
    )
    assert isinstance(resources["s3"], S3Resource) and resources["s3"].endpoint_url is None

    class EuInstance:
        region, instance_id, account_id, marketplace_id = "EU", "amcx", "ENTITYX", "A1F83G8C2ARO7P"

    with dg.build_resources({"amc": amc}) as built:
        client = built.amc.client(EuInstance())
    try:
        assert client.config.client_secret == "v-ADU_AMC_CLIENT_SECRET"
        assert client.config.api_base_url == "https://advertising-api-eu.amazon.com"
    finally:
        client.close()
