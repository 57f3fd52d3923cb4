"""Request-body validation against Amazon's OpenAPI documents shipped with the emulator.

The documents in `openapi/` are Amazon's, unchanged; `validate_body` checks a body against the
request schema of one operation (by operationId) and raises a 400 listing every violation.
Handlers call it FIRST, before any rule reads a value, with format checking on (`date-time` needs
rfc3339-validator, which jsonschema's FormatChecker uses when it is installed).
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

FORMAT_CHECKER = jsonschema.Draft4Validator.FORMAT_CHECKER

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
                return jsonschema.Draft4Validator(
                    root, registry=registry, format_checker=FORMAT_CHECKER
                )
    raise KeyError(f"operation {operation_id} not in {doc}")


def validate_body(doc: str, operation_id: str, body: Any) -> None:
    """Raise ApiError(400) naming every schema violation of `body`."""
    _check(_validator(doc, operation_id), operation_id, body)


@cache
def _local_validator(schema_json: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft4Validator(json.loads(schema_json), format_checker=FORMAT_CHECKER)


def validate_local(schema: dict, operation_id: str, body: Any) -> None:
    """As `validate_body`, for an operation no shipped OpenAPI document describes (reporting
    executions, the emulator's own routes): the schema lives beside its handler."""
    _check(_local_validator(json.dumps(schema, sort_keys=True)), operation_id, body)


def _check(validator: jsonschema.protocols.Validator, operation_id: str, body: Any) -> None:
    try:
        errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.path])
    except RecursionError:
        raise ApiError(400, "The request body is nested too deeply.") from None
    if not errors:
        return
    messages = [_describe(e) for e in errors]
    raise ApiError(
        400, f"Request body does not match the {operation_id} schema: {messages[0]}", messages
    )


_RULES = {
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "minItems": "must hold at least {} items",
    "maxItems": "must hold at most {} items",
    "minProperties": "must hold at least {} properties",
    "maxProperties": "must hold at most {} properties",
    "pattern": "must match {}",
    "format": "must be a valid {}",
    "type": "must be of type {}",
    "uniqueItems": "must hold unique items",
}


def _describe(error: jsonschema.ValidationError) -> str:
    """One line per violation naming the place and the rule, never the offending value."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        # no shape matched: the deepest failure inside one of them names the real problem
        return _describe(max(error.context, key=lambda e: len(e.absolute_path)))
    where = "/".join(str(p) for p in error.absolute_path)[:200] or "body"
    rule = error.validator
    if rule in ("oneOf", "anyOf"):
        message = "must match exactly one of the allowed shapes"
    elif rule == "required":
        message = error.message.split(" is a required")[0][:100] + " is required"
    elif rule == "additionalProperties":
        message = "has properties that are not allowed"
    elif rule == "enum":
        message = "must be one of " + ", ".join(str(v) for v in error.validator_value)
    elif rule in _RULES:
        value = error.validator_value
        value = " or ".join(value) if isinstance(value, list) else value
        message = _RULES[rule].format(value)
    else:
        message = f"violates {rule}"
    if len(message) > 200:
        message = message[:200] + "..."
    return f"{where}: {message}"
