"""The route table (moto's `urls.py`): method + path -> handler and error family, on werkzeug."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from werkzeug.routing import Map, Rule

from adu_pipeline.emulator.responses import (
    admin,
    audiences,
    auth,
    datasets,
    deletions,
    emulator,
    reporting,
    uploads,
)
from adu_pipeline.emulator.responses.errors import Family


class Endpoint(NamedTuple):
    """A route's handler, error family and rate-limit key; `api` = an AMC API call (throttled,
    faulted and delayed when the emulator is hostile), False for LwA and the emulator's own."""

    handler: Callable
    family: Family
    key: str
    api: bool = True


ADU = "/amc/advertiserData/<instance_id>"
DATASET = ADU + "/dataSets/<data_set_id>"
AUDIENCE = "/amc/audiences/query/<audience_execution_id>"
INSTANCE = "/amc/instances/<instance_id>"
ADVERTISERS = INSTANCE + "/advertisers"
COLUMN = DATASET + "/columns/<column_name>"
DELETIONS = ADU + "/userDeletionRequest"
EXECUTIONS = "/amc/reporting/<instance_id>/workflowExecutions"
EXECUTION = EXECUTIONS + "/<execution_id>"
STATS_PATH = "/_emulator/stats"
CLOCK_PATH = "/_emulator/clock"

_ROUTES: tuple[tuple[str, str, Callable, Family, str], ...] = (
    ("POST", "/auth/o2/token", auth.token, Family.OAUTH, "lwa.token"),
    ("GET", "/ap/oa", auth.authorize, Family.OAUTH, "lwa.authorize"),
    ("GET", "/amc/accounts", admin.list_accounts, Family.ACCOUNTS, "admin.accounts"),
    ("GET", "/amc/instances", admin.list_instances, Family.INSTANCES, "admin.instances"),
    ("GET", INSTANCE, admin.get_instance, Family.INSTANCES, "admin.instance"),
    ("GET", ADVERTISERS, admin.list_advertisers, Family.INSTANCES, "admin.advertisers"),
    ("POST", ADU + "/dataSets", datasets.create, Family.ADU, "adu.dataset.create"),
    ("POST", ADU + "/dataSets/list", datasets.list_, Family.ADU, "adu.dataset.list"),
    ("GET", DATASET, datasets.get, Family.ADU, "adu.dataset.get"),
    ("PUT", DATASET, datasets.update, Family.ADU, "adu.dataset.update"),
    ("DELETE", DATASET, datasets.delete, Family.ADU, "adu.dataset.delete"),
    ("POST", DATASET + "/columns", datasets.add_column, Family.ADU, "adu.column.add"),
    ("PUT", COLUMN, datasets.update_column, Family.ADU, "adu.column.update"),
    ("DELETE", COLUMN, datasets.delete_column, Family.ADU, "adu.column.delete"),
    ("POST", ADU + "/uploads/list", uploads.list_, Family.ADU, "adu.upload.list"),
    ("POST", ADU + "/uploads/<data_set_id>", uploads.create, Family.ADU, "adu.upload.create"),
    ("GET", ADU + "/uploads/<data_set_id>/<upload_id>", uploads.get, Family.ADU, "adu.upload.get"),
    ("POST", "/amc/audiences/query", audiences.create, Family.AUDIENCE, "audience.create"),
    ("GET", "/amc/audiences/query", audiences.list_, Family.AUDIENCE, "audience.list"),
    ("GET", AUDIENCE, audiences.get, Family.AUDIENCE, "audience.get"),
    ("PUT", AUDIENCE, audiences.update, Family.AUDIENCE, "audience.update"),
    ("DELETE", AUDIENCE, audiences.delete, Family.AUDIENCE, "audience.delete"),
    ("POST", DELETIONS, deletions.create, Family.ADU, "adu.deletion.create"),
    ("POST", DELETIONS + "/list", deletions.list_, Family.ADU, "adu.deletion.list"),
    ("GET", DELETIONS + "/<request_id>", deletions.get, Family.ADU, "adu.deletion.get"),
    ("POST", EXECUTIONS, reporting.create, Family.ADU, "reporting.execution.create"),
    ("GET", EXECUTION, reporting.get, Family.ADU, "reporting.execution.get"),
    ("GET", EXECUTION + "/downloadUrls", reporting.download_urls, Family.ADU, "reporting.urls"),
    ("GET", STATS_PATH, emulator.stats, Family.ADU, "emulator.stats"),
    ("GET", CLOCK_PATH, emulator.clock, Family.ADU, "emulator.clock"),
    ("POST", CLOCK_PATH, emulator.clock, Family.ADU, "emulator.clock"),
    (
        "POST",
        "/_emulator/audiences/<audience_execution_id>/lineItem",
        emulator.line_item,
        Family.ADU,
        "emulator.line_item",
    ),
    (
        "GET",
        "/_emulator/results/<execution_id>.csv",
        emulator.result,
        Family.ADU,
        "emulator.result",
    ),
)
# LwA and the emulator's own routes: never throttled, delayed or faulted
NOT_API = {"lwa.token", "lwa.authorize"} | {
    key for *_, key in _ROUTES if key.startswith("emulator.")
}

# strict_slashes=False: a trailing slash is accepted, never redirected.
URL_MAP = Map(
    [
        Rule(path, methods=[method], endpoint=Endpoint(h, f, key, key not in NOT_API))
        for method, path, h, f, key in _ROUTES
    ],
    strict_slashes=False,
)
