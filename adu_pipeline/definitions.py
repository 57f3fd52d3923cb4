"""Dagster code location entry point (workspace.yaml and `dg` load this module).

Every module of adu_pipeline/defs is loaded by `dg.load_from_defs_folder`; settings come from the
environment (adu_pipeline.settings), ADU_ENV=local (default) pointing at the offline stack.
"""

from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
