"""Dagster code location entry point (workspace.yaml loads this module)."""

import dagster as dg

defs = dg.Definitions(assets=[])
