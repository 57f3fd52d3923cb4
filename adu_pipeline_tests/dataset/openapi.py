"""Validators for request bodies built from Amazon's OpenAPI documents (copied under data/)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from openapi_schema_validator import OAS30Validator

OPENAPI = Path(__file__).resolve().parent.parent / "data" / "openapi"


def _closed(node):
    """Copy of a schema where every object with properties rejects unknown keys, so a misspelt
    field fails instead of being ignored."""
    if isinstance(node, dict):
        node = {k: _closed(v) for k, v in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


@cache
def validator(document: str, schema_name: str) -> OAS30Validator:
    doc = json.loads((OPENAPI / document).read_text(encoding="utf-8"))
    components = _closed(copy.deepcopy(doc["components"]))
    return OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": components})


def errors(document: str, schema_name: str, body: dict) -> list[str]:
    return [e.message for e in validator(document, schema_name).iter_errors(body)]


ADU = "AdvertiserDataUpload_prod_3p.json"
AUDIENCES = "Rule-BasedAudiences_prod_3p.json"
