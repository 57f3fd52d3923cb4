"""deploy/: the Helm values render the same instance as deploy/dagster.yaml (which the
PostgreSQL tests run), name secrets only by reference, and the Dockerfile copies files that exist
and that its build context lets through."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import yaml

from adu_pipeline.lib.resources import CREDENTIALS

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def _values() -> dict:
    return yaml.safe_load((DEPLOY / "values.yaml").read_text())


def _instance() -> dict:
    return yaml.safe_load((DEPLOY / "dagster.yaml").read_text())


def test_helm_values_give_the_instance_of_dagster_yaml_with_the_k8s_run_launcher():
    values, instance = _values(), _instance()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] and coordinator["type"] == "QueuedRunCoordinator"
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    pools = values["concurrency"]["pools"]
    assert pools["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"] == 1
    runs = values["concurrency"]["runs"]["maxConcurrentRuns"]
    assert runs == instance["concurrency"]["runs"]["max_concurrent_runs"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["enabled"] and instance["run_monitoring"]["enabled"]
    assert (
        monitoring["freeSlotsAfterRunEndSeconds"]
        == instance["run_monitoring"]["free_slots_after_run_end_seconds"]
        == 30
    )
    assert values["postgresql"]["enabled"] is False  # an external database


def test_the_code_location_in_helm_is_the_project_one_and_secrets_are_only_references():
    (deployment,) = _values()["dagster-user-deployments"]["deployments"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("--module-name") + 1] == project["tool"]["dagster"]["module_name"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"]  # run pods get the secrets
    assert deployment["envSecrets"]
    literal = {e["name"] for e in deployment["env"]}
    assert not literal & {*CREDENTIALS, "DAGSTER_PG_PASSWORD"}
    text = (DEPLOY / "values.yaml").read_text().lower()
    assert not re.search(r"^\s*(postgresqlpassword|password|secret\w*)\s*:\s*\S", text, re.M)


def test_dagster_yaml_reads_every_connection_value_from_the_environment():
    db = _instance()["storage"]["postgres"]["postgres_db"]
    for key in ("hostname", "port", "username", "password", "db_name"):
        assert set(db[key]) == {"env"}, key


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!")
        if fnmatch.fnmatch(path, glob) or fnmatch.fnmatch(path, glob.rstrip("/*")):
            ignored = not negate
    return ignored


def test_the_dockerfile_copies_files_that_exist_and_the_context_includes():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    patterns = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert "uv.lock" in sources and "deploy/dagster.yaml" in sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not _ignored(source, patterns), f"{source} is left out of the build context"
    makefile_uv = re.search(r"uv==([\d.]+)", (REPO / "Makefile").read_text())
    assert makefile_uv and f"uv=={makefile_uv.group(1)}" in dockerfile  # one uv version
    assert "--frozen" in dockerfile and "--no-dev" in dockerfile
