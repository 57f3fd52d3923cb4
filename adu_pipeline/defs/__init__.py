"""The Dagster layer: assets, checks, sensors, schedules, jobs and resources per environment.

Everything here wires the libraries together; the libraries never import Dagster.
"""
