"""Privacy definitions: opt-outs, user deletions, audience health (lib.optout_assets)."""

import dagster as dg

from adu_pipeline.lib.optout_assets import project_privacy


@dg.definitions
def privacy() -> dg.Definitions:
    return project_privacy()
