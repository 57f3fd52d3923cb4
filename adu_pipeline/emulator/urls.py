"""The route table (moto's `urls.py`): method + path -> handler and error family, on werkzeug."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from werkzeug.routing import Map, Rule

from adu_pipeline.emulator.responses import admin, audiences, auth, datasets, uploads
from adu_pipeline.emulator.responses.errors import Family


class Endpoint(NamedTuple):
    handler: Callable
    family: Family


ADU = "/amc/advertiserData/<instance_id>"
DATASET = ADU + "/dataSets/<data_set_id>"
AUDIENCE = "/amc/audiences/query/<audience_execution_id>"
INSTANCE = "/amc/instances/<instance_id>"

_ROUTES: tuple[tuple[str, str, Callable, Family], ...] = (
    ("POST", "/auth/o2/token", auth.token, Family.OAUTH),
    ("GET", "/ap/oa", auth.authorize, Family.OAUTH),
    ("GET", "/amc/accounts", admin.list_accounts, Family.ACCOUNTS),
    ("GET", "/amc/instances", admin.list_instances, Family.INSTANCES),
    ("GET", INSTANCE, admin.get_instance, Family.INSTANCES),
    ("GET", INSTANCE + "/advertisers", admin.list_advertisers, Family.INSTANCES),
    ("POST", ADU + "/dataSets", datasets.create, Family.ADU),
    ("POST", ADU + "/dataSets/list", datasets.list_, Family.ADU),
    ("GET", DATASET, datasets.get, Family.ADU),
    ("PUT", DATASET, datasets.update, Family.ADU),
    ("DELETE", DATASET, datasets.delete, Family.ADU),
    ("POST", DATASET + "/columns", datasets.add_column, Family.ADU),
    ("PUT", DATASET + "/columns/<column_name>", datasets.update_column, Family.ADU),
    ("DELETE", DATASET + "/columns/<column_name>", datasets.delete_column, Family.ADU),
    ("POST", ADU + "/uploads/list", uploads.list_, Family.ADU),
    ("POST", ADU + "/uploads/<data_set_id>", uploads.create, Family.ADU),
    ("GET", ADU + "/uploads/<data_set_id>/<upload_id>", uploads.get, Family.ADU),
    ("POST", "/amc/audiences/query", audiences.create, Family.AUDIENCE),
    ("GET", "/amc/audiences/query", audiences.list_, Family.AUDIENCE),
    ("GET", AUDIENCE, audiences.get, Family.AUDIENCE),
    ("PUT", AUDIENCE, audiences.update, Family.AUDIENCE),
    ("DELETE", AUDIENCE, audiences.delete, Family.AUDIENCE),
)

# strict_slashes=False: a trailing slash is accepted, never redirected.
URL_MAP = Map(
    [Rule(path, methods=[method], endpoint=Endpoint(h, f)) for method, path, h, f in _ROUTES],
    strict_slashes=False,
)
