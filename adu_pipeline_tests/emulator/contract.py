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
