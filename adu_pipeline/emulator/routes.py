"""The URL table: which handler serves which method and path, and which error family it uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from adu_pipeline.emulator import api_admin, api_audiences, api_auth, api_datasets, api_uploads
from adu_pipeline.emulator.web import Family

ADU = r"/amc/advertiserData/(?P<instance_id>[^/]+)"
DS = r"(?P<data_set_id>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable
    family: Family


def _r(method: str, path: str, handler: Callable, family: Family) -> Route:
    return Route(method, re.compile(f"^{path}/?$"), handler, family)


ROUTES: tuple[Route, ...] = (
    _r("POST", r"/auth/o2/token", api_auth.token, Family.OAUTH),
    _r("GET", r"/ap/oa", api_auth.authorize, Family.OAUTH),
    _r("GET", r"/amc/accounts", api_admin.list_accounts, Family.ACCOUNTS),
    _r("GET", r"/amc/instances", api_admin.list_instances, Family.INSTANCES),
    _r("GET", r"/amc/instances/(?P<instance_id>[^/]+)", api_admin.get_instance, Family.INSTANCES),
    _r(
        "GET",
        r"/amc/instances/(?P<instance_id>[^/]+)/advertisers",
        api_admin.list_advertisers,
        Family.INSTANCES,
    ),
    _r("POST", ADU + r"/dataSets", api_datasets.create, Family.ADU),
    _r("POST", ADU + r"/dataSets/list", api_datasets.list_, Family.ADU),
    _r("GET", ADU + r"/dataSets/" + DS, api_datasets.get, Family.ADU),
    _r("PUT", ADU + r"/dataSets/" + DS, api_datasets.update, Family.ADU),
    _r("DELETE", ADU + r"/dataSets/" + DS, api_datasets.delete, Family.ADU),
    _r("POST", ADU + r"/dataSets/" + DS + r"/columns", api_datasets.add_column, Family.ADU),
    _r(
        "PUT",
        ADU + r"/dataSets/" + DS + r"/columns/(?P<column_name>[^/]+)",
        api_datasets.update_column,
        Family.ADU,
    ),
    _r(
        "DELETE",
        ADU + r"/dataSets/" + DS + r"/columns/(?P<column_name>[^/]+)",
        api_datasets.delete_column,
        Family.ADU,
    ),
    _r("POST", ADU + r"/uploads/list", api_uploads.list_, Family.ADU),
    _r("POST", ADU + r"/uploads/" + DS, api_uploads.create, Family.ADU),
    _r("GET", ADU + r"/uploads/" + DS + r"/(?P<upload_id>[^/]+)", api_uploads.get, Family.ADU),
    _r("POST", r"/amc/audiences/query", api_audiences.create, Family.AUDIENCE),
    _r("GET", r"/amc/audiences/query", api_audiences.list_, Family.AUDIENCE),
    _r(
        "GET",
        r"/amc/audiences/query/(?P<audience_execution_id>[^/]+)",
        api_audiences.get,
        Family.AUDIENCE,
    ),
    _r(
        "PUT",
        r"/amc/audiences/query/(?P<audience_execution_id>[^/]+)",
        api_audiences.update,
        Family.AUDIENCE,
    ),
    _r(
        "DELETE",
        r"/amc/audiences/query/(?P<audience_execution_id>[^/]+)",
        api_audiences.delete,
        Family.AUDIENCE,
    ),
)


def family_for(path: str) -> Family:
    """Error family for a path no route serves."""
    if path.startswith("/amc/audiences"):
        return Family.AUDIENCE
    if path.startswith("/amc/instances"):
        return Family.INSTANCES
    if path.startswith("/amc/accounts"):
        return Family.ACCOUNTS
    if path.startswith("/auth"):
        return Family.OAUTH
    return Family.ADU


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path params, path known for another method)."""
    path_known = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if not found:
            continue
        if route.method == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}, True
        path_known = True
    return None, {}, path_known
