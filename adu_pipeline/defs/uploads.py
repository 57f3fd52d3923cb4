"""Uploads definitions (built once per configuration in adu_pipeline.lib.build)."""

import dagster as dg

from adu_pipeline.lib.build import project_definitions


@dg.definitions
def uploads() -> dg.Definitions:
    return project_definitions().uploads
