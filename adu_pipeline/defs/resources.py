"""Resources for ADU_ENV: the offline stack on loopback (default) or real S3 and Amazon Ads."""

import dagster as dg

from adu_pipeline.lib.resources import resources_for
from adu_pipeline.settings import load_settings


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=resources_for(load_settings()), executor=dg.in_process_executor)
