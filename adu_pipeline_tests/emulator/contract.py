"""Validate an HTTP response against Amazon's OpenAPI document for the operation it answers.

The documents are the project's copies in adu_pipeline_tests/data/openapi (Amazon's, unchanged).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import httpx
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OPENAPI = Path(__file__).resolve().parents[1] / "data" / "openapi"
DOCS = (
    "AdvertiserDataUpload_prod_3p.json",
    "Rule-BasedAudiences_prod_3p.json",
    "AMCAdministration_prod_3p.json",
)


@cache
def _operations() -> list[tuple[str, re.Pattern[str], dict, str]]:
    ops = []
    for name in DOCS:
        doc = json.loads((OPENAPI / name).read_text(encoding="utf-8"))
        for template, methods in doc["paths"].items():
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
            for method, op in methods.items():
                if isinstance(op, dict) and "responses" in op:
                    ops.append((method.upper(), re.compile(f"^{pattern}$"), op, name))
    # literal segments win over templated ones (e.g. /dataSets/list over /dataSets/{id})
    ops.sort(key=lambda o: o[1].pattern.count("[^/]+"))
    return ops


@cache
def _registry(name: str) -> Registry:
    doc = json.loads((OPENAPI / name).read_text(encoding="utf-8"))
    return Registry().with_resource(
        f"urn:{name}", Resource.from_contents(doc, default_specification=DRAFT4)
    )


def operation(method: str, path: str) -> tuple[dict, str]:
    for op_method, pattern, op, name in _operations():
        if op_method == method and pattern.match(path):
            return op, name
    raise AssertionError(f"no OpenAPI operation for {method} {path}")


UPLOAD_FIELDS = (
    "uploadId",
    "dataSetId",
    "status",
    "metrics",
    "createdAt",
    "updatedAt",
    "dataSource",
)
DATASET_FIELDS = ("dataSetId", "columns", "description", "createdAt", "updatedAt")
AUDIENCE_FIELDS = (
    "audienceExecutionId",
    "audienceName",
    "advertiserId",
    "status",
    "query",
    "audienceCount",
    "createTime",
    "timeWindowStart",
    "timeWindowEnd",
)
INSTANCE_FIELDS = ("instanceId", "instanceName", "apiEndpoint", "dataUploadAwsAccountId")
# operationId -> (container key or None, is a list, fields a client reads)
DELETION_FIELDS = ("userDeletionRequestId", "status", "identityCount", "creationDateTime")
CLIENT_FIELDS = {
    "CreateDataSet": (None, False, ("dataSetId", "instanceId")),
    "ListDataSets": ("dataSets", True, DATASET_FIELDS),
    "GetDataSet": ("dataSet", False, DATASET_FIELDS),
    "UpdateDataSet": ("dataSet", False, DATASET_FIELDS),
    "DeleteDataSet": (None, False, ("dataSetId", "instanceId")),
    "AddColumnToDataSet": ("dataSet", False, DATASET_FIELDS),
    "UpdateColumnInDataSet": ("dataSet", False, DATASET_FIELDS),
    "DeleteColumnFromDataSet": ("dataSet", False, DATASET_FIELDS),
    "CreateUpload": (None, False, ("uploadId", "status")),
    "GetUpload": ("upload", False, UPLOAD_FIELDS),
    "ListUploads": ("uploads", True, UPLOAD_FIELDS),
    "createQueryBasedAudience": (None, False, ("audienceExecutionId", "status")),
    "getQueryBasedAudienceByAudienceExecutionId": (None, False, AUDIENCE_FIELDS),
    "getAllQueryBasedAudiencesByInstanceId": ("executionMetadata", True, AUDIENCE_FIELDS),
    "updateQueryBasedAudienceByAudienceExecutionId": (
        None,
        False,
        ("audienceExecutionId", "status"),
    ),
    "AmcpLinkListAmcAccounts": ("amcAccounts", True, ("accountId", "accountName", "marketplaceId")),
    "listInstances": ("instances", True, INSTANCE_FIELDS),
    "getInstance": ("instance", False, INSTANCE_FIELDS),
    "getInstanceAdvertisers": ("advertisers", True, ("id", "name", "type")),
    "CreateUserDeletionRequest": (None, False, ("userDeletionRequestId",)),
    "GetUserDeletionRequest": ("identityDeletion", False, DELETION_FIELDS),
    "ListUserDeletionRequests": ("userDeletions", True, DELETION_FIELDS),
}


def check_client_fields(operation_id: str, body: dict) -> None:
    """Assert a 2xx body carries every field our client reads, even where the spec is silent."""
    container, is_list, fields = CLIENT_FIELDS[operation_id]
    items = body[container] if container else body
    for item in items if is_list else [items]:
        missing = [f for f in fields if f not in item]
        assert not missing, f"{operation_id}: response lacks {missing}"


def validate_response(resp: httpx.Response) -> None:
    """Assert the status, media type and body are what the spec declares for the operation."""
    op, name = operation(resp.request.method, resp.request.url.path)
    declared = op["responses"].get(str(resp.status_code))
    assert declared is not None, (
        f"{op['operationId']}: status {resp.status_code} not declared by the spec"
    )
    content = declared.get("content") or {}
    if not content:
        assert not resp.content, f"{op['operationId']} {resp.status_code} must have no body"
        return
    media = resp.headers.get("content-type", "").split(";")[0].strip()
    if media == "application/json" and media not in content:
        media = next(iter(content))  # the API also answers plain JSON when asked for it
    assert media in content, f"{op['operationId']}: media type {media!r} not in {list(content)}"
    schema = content[media]["schema"]
    if "$ref" in schema:
        schema = {"$ref": f"urn:{name}{schema['$ref']}"}
    OAS30Validator(schema, registry=_registry(name)).validate(resp.json())
    if 200 <= resp.status_code < 300:
        check_client_fields(op["operationId"], resp.json())
