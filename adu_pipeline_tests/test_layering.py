"""The libraries never import Dagster (docs/architecture.md); the AMC client needs no pandas.

Each check runs in a fresh interpreter so modules other tests loaded do not hide an import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

LIBRARIES = (
    "adu_pipeline.normalization",
    "adu_pipeline.hashing",
    "adu_pipeline.hashing.cli",
    "adu_pipeline.dataset",
    "adu_pipeline.amc",
    "adu_pipeline.amc.cli",
    "adu_pipeline.emulator.server",
    "adu_pipeline.emulator.cli",
    "adu_pipeline.local_stack",
    "adu_pipeline.sample_data",
)


def loaded_after_import(module: str, watched: tuple[str, ...]) -> list[str]:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(' '.join(m for m in {watched!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("module", LIBRARIES)
def test_library_does_not_import_dagster(module):
    assert loaded_after_import(module, ("dagster", "dagster_aws")) == []


def test_amc_client_does_not_import_pandas_or_pandera():
    assert loaded_after_import("adu_pipeline.amc.cli", ("pandas", "pandera")) == []
