"""Production-shaped tests: the project on the real local stack started on credentials unique to
each test (only environment variables in between, as `adu dev` and a deployment hand them
over), a real PostgreSQL server (fixtures/postgres.py) for the instance of deploy/dagster.yaml."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adu_pipeline.dataset import load_instances
from adu_pipeline.lib.resources import CREDENTIALS, amc_client_outside_run, resources_for
from adu_pipeline.local.stack import LocalStack
from adu_pipeline.settings import load_settings
from adu_pipeline_tests.fixtures.postgres import postgres_server  # noqa: F401 (a fixture)
from adu_pipeline_tests.pipeline.conftest import keep_datasets

REPO = Path(__file__).resolve().parents[2]
LEFTOVER_TIMEOUT_SECONDS = 30


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers it; declared here too so `-p no:xdist` runs do not warn
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@dataclass
class StackProject:
    home: Path
    landing: Path
    stack: LocalStack
    credentials: dict[str, str]

    def secrets(self) -> dict[str, str]:
        """The credentials and every access token the emulator issued, by a name to report."""
        tokens = self.stack.emulator.app.store.all("SELECT access_token FROM access_tokens")
        issued = {f"access token {i}": row["access_token"] for i, row in enumerate(tokens)}
        return {**self.credentials, **issued}

    def finished_upload(self, dataset_id: str = "crm_customers", instance_key: str = "us") -> Any:
        """The one upload of the dataset in AMC, once the emulator has finished it."""
        settings = load_settings()
        instance = {i.key: i for i in load_instances(settings.instances_path)}[instance_key]
        with amc_client_outside_run(resources_for(settings)["amc"], instance) as client:
            (upload,) = client.list_uploads(dataset_id=dataset_id)
            deadline = time.monotonic() + 60
            while not upload.status.is_terminal:
                assert time.monotonic() < deadline, "the emulator did not finish the upload"
                time.sleep(0.2)
                upload = client.get_upload(dataset_id, upload.upload_id)
            return upload


@pytest.fixture
def stack_project(tmp_path, monkeypatch) -> Iterator[StackProject]:
    """crm_customers to instance `us`, an empty DAGSTER_HOME, and the local stack (moto +
    emulator) whose environment, credentials included, is this process's: child processes
    (code servers, run workers) inherit it as they would from `adu dev`."""
    for name in list(os.environ):
        if name.startswith(("ADU_", "DAGSTER_")):
            monkeypatch.delenv(name)
    home = tmp_path / "dagster_home"
    home.mkdir()
    keep_datasets(tmp_path / "datasets", {"crm_customers": ["us"]})
    for folder in ("segments", "landing"):
        (tmp_path / folder).mkdir()
    shutil.copy(REPO / "data" / "instances.yaml", tmp_path / "instances.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "ADU_DATASETS_DIR": str(tmp_path / "datasets"),
        "ADU_SEGMENTS_DIR": str(tmp_path / "segments"),
        "ADU_INSTANCES": str(tmp_path / "instances.yaml"),
        "ADU_LANDING_DIR": str(tmp_path / "landing"),
        "ADU_OUTPUT_DIR": str(tmp_path / "output"),
        "ADU_MIN_PROJECTED_AUDIENCE": "10",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    credentials = {name: f"{name.lower()}-{secrets.token_urlsafe(16)}" for name in CREDENTIALS}
    stack = LocalStack(tmp_path / "emulator", credentials=credentials, step_seconds=0.05).start()
    for name, value in stack.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)  # workspace.yaml's working directory
    try:
        yield StackProject(home, tmp_path / "landing", stack, credentials)
        _stop_leftover_processes(str(home))
    finally:
        stack.stop()


def _stop_leftover_processes(marker: str) -> None:
    """Wait for the processes whose command line names this test's DAGSTER_HOME (code servers,
    run workers) to exit before their storage goes away; kill and report any still there."""
    import psutil

    def ours() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if marker in " ".join(process.info["cmdline"] or ()):
                found.append(process)
        return found

    _, alive = psutil.wait_procs(ours(), timeout=LEFTOVER_TIMEOUT_SECONDS)
    for process in alive:
        process.kill()
    assert not alive, f"{len(alive)} Dagster processes did not exit after the test"
