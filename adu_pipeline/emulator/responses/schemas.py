"""Request-body validation against Amazon's OpenAPI documents shipped with the emulator.

The documents in `openapi/` are Amazon's, unchanged; `validate_body` checks a body against the
request schema of one operation (by operationId) and raises a 400 listing every violation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from adu_pipeline.emulator.exceptions import ApiError

OPENAPI_DIR = Path(__file__).parents[1] / "openapi"
DOCUMENTS = {
    "adu": "AdvertiserDataUpload_prod_3p.json",
    "audiences": "Rule-BasedAudiences_prod_3p.json",
    "admin": "AMCAdministration_prod_3p.json",
}


@cache
def _document(name: str) -> dict:
    return json.loads((OPENAPI_DIR / DOCUMENTS[name]).read_text(encoding="utf-8"))


@cache
def _validator(doc: str, operation_id: str) -> jsonschema.protocols.Validator:
    document = _document(doc)
    for methods in document["paths"].values():
        for op in methods.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                content = op["requestBody"]["content"]
                schema = next(iter(content.values()))["schema"]
                uri = f"urn:amc:{doc}"
                registry = Registry().with_resource(
                    uri, Resource.from_contents(document, default_specification=DRAFT4)
                )
                ref = schema.get("$ref", None)
                root = {"$ref": f"{uri}{ref}"} if ref else schema
                return jsonschema.Draft4Validator(root, registry=registry)
    raise KeyError(f"operation {operation_id} not in {doc}")


def validate_body(doc: str, operation_id: str, body: Any) -> None:
    """Raise ApiError(400) naming every schema violation of `body`."""
    errors = sorted(_validator(doc, operation_id).iter_errors(body), key=lambda e: list(e.path))
    if not errors:
        return
    messages = [_describe(e) for e in errors]
    raise ApiError(
        400, f"Request body does not match the {operation_id} schema: {messages[0]}", messages
    )


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "body"
    if error.validator == "oneOf":
        message = "must match exactly one of the allowed shapes"
    elif error.validator == "required":
        message = error.message.split(" is a required")[0] + " is required"
    elif error.validator == "additionalProperties":
        message = "has properties that are not allowed"
    else:
        message = error.message
    if len(message) > 200:
        message = message[:200] + "..."
    return f"{where}: {message}"
