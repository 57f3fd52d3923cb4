"""Maintenance definitions: the sensor that fails runs whose worker died and frees their slots."""

import dagster as dg

from adu_pipeline.lib.run_reaper import run_reaper_sensor


@dg.definitions
def maintenance() -> dg.Definitions:
    return dg.Definitions(sensors=[run_reaper_sensor()])
