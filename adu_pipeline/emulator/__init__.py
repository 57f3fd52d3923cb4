"""A local Amazon Marketing Cloud (AMC) emulator: Login with Amazon, ADU datasets and uploads,
rule-based audiences and discovery, over HTTP with state in SQLite; hostile on demand
(`Hostile`: rate limits, faults, latency, forced failures). No Dagster import.

See README.md in this folder for what it emulates and how identity matching is simulated.
"""

from adu_pipeline.emulator.config import (
    Account,
    Advertiser,
    Credentials,
    EmulatorConfig,
    Hostile,
    Instance,
    MatchShares,
    RateLimit,
    Timing,
)
from adu_pipeline.emulator.hooks import FailNextRequests, HookResponse, Hooks
from adu_pipeline.emulator.server import EmulatorServer

__all__ = [
    "Account",
    "Advertiser",
    "Credentials",
    "EmulatorConfig",
    "EmulatorServer",
    "FailNextRequests",
    "HookResponse",
    "Hooks",
    "Hostile",
    "Instance",
    "MatchShares",
    "RateLimit",
    "Timing",
]
