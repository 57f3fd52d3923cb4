"""The tester's case: the local stack on fixed credentials and the SQLite DAGSTER_HOME that
`adu dev` / `adu demo` use. After an export run, no file of DAGSTER_HOME (run storage, event
logs, compute logs; SQLite tables read row by row, snapshots unpacked) holds a credential or an
access token: the run config and snapshots only name the ADU_AMC_* variables."""

from __future__ import annotations

import json
import os
import subprocess

import dagster as dg
import pytest

from adu_pipeline.lib.resources import CREDENTIAL_FIELDS, CREDENTIALS, resources_for
from adu_pipeline.local.demo import dagster_home
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.settings import load_settings
from adu_pipeline.staging.landing import landing_name
from adu_pipeline_tests.pipeline.conftest import recent_day
from adu_pipeline_tests.production.conftest import REPO
from adu_pipeline_tests.production.secrets_scan import scan_home

JOB = "crm_customers_export_job"


@pytest.mark.parametrize("env", ["local", "prod"])
def test_every_environment_gives_the_amc_resource_its_credentials_as_env_vars(env):
    """Set or not, locally or in prod, the resource holds references: nothing to store."""
    environ = {"ADU_ENV": env, "ADU_S3_BUCKET": "b", **{n: f"value-of-{n}" for n in CREDENTIALS}}
    amc = resources_for(load_settings(environ), environ)["amc"]
    fields = amc._get_non_default_public_field_values()
    for field, name in CREDENTIAL_FIELDS.items():
        assert fields[field] == dg.EnvVar(name) and isinstance(fields[field], dg.EnvVar)
    if env == "local":  # locally the variables need not be set when definitions load
        amc = resources_for(load_settings({}), {})["amc"]
        assert amc._get_non_default_public_field_values()["client_secret"] == dg.EnvVar(
            "ADU_AMC_CLIENT_SECRET"
        )


def test_a_run_on_the_local_stack_leaves_no_secret_in_the_sqlite_dagster_home(stack_project):
    home = dagster_home()  # DAGSTER_HOME with the dagster.yaml that adu dev / adu demo write
    assert home == stack_project.home
    day = recent_day(3)
    write_sample_export(stack_project.landing / landing_name("crm_export", day, ".csv"), 250)
    command = [
        str(REPO / ".venv/bin/dagster"), "job", "execute", "-m", "adu_pipeline.definitions",
        "-j", JOB,
        "--tags", json.dumps({"dagster/partition": str(day)}),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
    finally:
        instance.dispose()
    assert stack_project.finished_upload().status.is_success

    values = stack_project.secrets()
    assert len(values) > len(CREDENTIALS), "no access token was issued: nothing was checked"
    hits, files = scan_home(home, values)
    assert (home / "history" / "runs.db").is_file() and files > 1
    assert hits == {}, hits
    for value in values.values():  # nor in what the command printed
        assert value not in result.stdout + result.stderr
