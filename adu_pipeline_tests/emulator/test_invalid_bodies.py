"""No spec-invalid body gets a 500: a corpus generated from Amazon's request schemas (each
property given wrong types, removed when required, unknown enums, bad formats and patterns,
out-of-range and huge values, nested junk) plus whole-body junk, sent to every POST/PUT route.

Each generated body is confirmed invalid by openapi-schema-validator (OAS 3.0 rules, its own
format checker), not by the emulator's validator, and must get a 400 in the route's error shape.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline_tests.emulator.conftest import (
    ADU_MEDIA,
    AUDIENCE_MEDIA,
    UPLOAD_MEDIA,
    Api,
    crm_dataset,
    start_with,
    upload_body,
)
from adu_pipeline_tests.emulator.contract import validate_response

OPENAPI = Path(__file__).resolve().parents[1] / "data" / "openapi"
ADU_DOC = "AdvertiserDataUpload_prod_3p.json"
AUDIENCE_DOC = "Rule-BasedAudiences_prod_3p.json"
COLUMN_MEDIA = "application/vnd.amcadvertiserdatasetcolumn.v1+json"
ADU_ERROR = {"code", "details", "errors", "requestId"}
AUDIENCE_ERROR = {"code", "details", "requestId"}
DELETE = object()
HUGE = "x" * 1_000_000
WRONG_TYPES = {
    "string": [12345, 1.5, True, None, [], {}, ["a"], {"k": "v"}],
    "integer": ["5", 1.5, True, None, [], {}, 10**30],
    "number": ["5", True, None, [], {}],
    "boolean": ["true", 1, 0, None, [], {}],
    "object": ["x", 1, True, None, [], [{}]],
    "array": ["x", 1, True, None, {}],
}


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {"k": [value, i]}
    return value


class Corpus:
    """Mutations of a valid body, walking the operation's request schema."""

    def __init__(self, doc_name: str):
        self.doc = json.loads((OPENAPI / doc_name).read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(
            f"urn:{doc_name}", Resource.from_contents(self.doc, default_specification=DRAFT4)
        )
        self.doc_name = doc_name

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def request_schema(self, operation_id: str) -> dict:
        for methods in self.doc["paths"].values():
            for op in methods.values():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    return next(iter(op["requestBody"]["content"].values()))["schema"]
        raise KeyError(operation_id)

    def is_invalid(self, operation_id: str, body: Any) -> bool:
        schema = self.request_schema(operation_id)
        if "$ref" in schema:
            schema = {"$ref": f"urn:{self.doc_name}{schema['$ref']}"}
        validator = OAS30Validator(
            schema, registry=self.registry, format_checker=oas30_format_checker
        )
        return not validator.is_valid(body)

    def mutations(self, schema: dict, value: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
        schema = self.resolve(schema)
        kind = schema.get("type")
        for wrong in WRONG_TYPES.get(kind, []):
            yield path, wrong
        if "enum" in schema:
            yield path, "NOT_A_LISTED_VALUE"
            yield path, str(schema["enum"][0]).lower() + " "
        if schema.get("format") == "date-time":
            yield from ((path, v) for v in ("2024-01-01", "yesterday", "2024-13-40T99:00:00Z"))
        if "pattern" in schema:
            yield from ((path, v) for v in ("!!", "usa", "  "))
        if "maxLength" in schema:
            yield path, "y" * (schema["maxLength"] + 1)
        if schema.get("minLength", 0) > 0:
            yield path, ""
        if "maximum" in schema:
            yield path, schema["maximum"] + 1
        if "minimum" in schema:
            yield path, schema["minimum"] - 1
        if "maxItems" in schema and isinstance(value, list) and value:
            yield path, [value[0]] * (schema["maxItems"] + 1)
        if "maxProperties" in schema:
            yield path, {f"p{i}": i for i in range(schema["maxProperties"] + 1)}
        if kind == "string":
            yield path, HUGE  # only invalid where a maxLength applies; kept when it is
        if kind == "object" or "properties" in schema:
            yield path, _nested(60)
            yield from self._object_mutations(schema, value, path)
        if kind == "array" and isinstance(value, list) and value and "items" in schema:
            yield from self.mutations(schema["items"], value[0], (*path, 0))
            yield path, [*value, "junk"]
        for branch in schema.get("oneOf", []):
            if isinstance(value, dict) and set(branch.get("required", [])) <= set(value):
                yield from self._object_mutations(self.resolve(branch), value, path)

    def _object_mutations(self, schema: dict, value: Any, path: tuple):
        if not isinstance(value, dict):
            return
        for name in schema.get("required", []):
            if name in value:
                yield (*path, name), DELETE
        for name, prop in schema.get("properties", {}).items():
            # absent optional properties too: a number where a string belongs, ...
            yield from self.mutations(prop, value.get(name), (*path, name))
        if schema.get("additionalProperties") is False:
            yield (*path, "unexpectedProperty"), "junk"


def mutated(base: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    body = copy.deepcopy(base)
    node = body
    for part in path[:-1]:
        node = node[part]
    if new is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return body


JUNK_BODIES: list[bytes] = [
    b"[]",
    b'"a string"',
    b"12345",
    b"null",
    b"true",
    b"{",
    b"{}",
    b'{"a": NaN}',
    b"1e999",
    b"9" * 5000,
    b"[" * 50_000 + b"]" * 50_000,
    b'{"x": "\\ud800"}',
    b"\xff\xfe not utf-8",
    b'{"k": [' * 5000 + b'"leaf"' + b"]}" * 5000,
]


def _junk_is_invalid(corpus: Corpus, operation_id: str, content: bytes) -> bool:
    """Unparsable JSON is invalid anywhere; parsable junk ({} ...) only where the schema says."""
    try:
        parsed = json.loads(content)
    except (ValueError, RecursionError):
        return True
    return corpus.is_invalid(operation_id, parsed)


@pytest.fixture
def world(emulator_factory, s3_bucket):
    """An emulator holding a dataset with a column and a FAILED audience (the PUT targets)."""
    server = start_with(emulator_factory, EmulatorConfig())
    api = Api(server)
    assert api.create_dataset(crm_dataset("corpus_ds")).status_code == 200
    audience = {
        "advertiserId": server.advertiser_id,
        "audienceName": "corpus",
        "query": "SELECT user_id FROM corpus_ds",
        "timeWindowStart": "2024-01-01T00:00:00Z",
        "timeWindowEnd": "2024-02-01T00:00:00Z",
    }
    created = api.create_audience(audience)
    assert created.status_code == 200
    audience_id = created.json()["audienceExecutionId"]
    assert api.wait_audience(audience_id)["status"] == "FAILED"  # under 2,000 users
    yield api, audience, audience_id, s3_bucket
    api.http.close()


def _routes(api: Api, audience: dict, audience_id: str, bucket: str):
    column = {"name": "extra", "columnType": "DIMENSION", "dataType": "STRING"}
    update = {**audience, "audienceType": "RULE_BASED"}
    ds = f"{api.adu}/dataSets/corpus_ds"
    return [
        ("POST", f"{api.adu}/dataSets", ADU_MEDIA, ADU_DOC, "CreateDataSet",
         {"dataSet": crm_dataset("corpus_new")}, ADU_ERROR),
        ("PUT", ds, ADU_MEDIA, ADU_DOC, "UpdateDataSet",
         {"description": "d", "countryCode": "US"}, ADU_ERROR),
        ("POST", f"{ds}/columns", COLUMN_MEDIA, ADU_DOC, "AddColumnToDataSet",
         {"column": column}, ADU_ERROR),
        ("PUT", f"{ds}/columns/loyalty_tier", COLUMN_MEDIA, ADU_DOC, "UpdateColumnInDataSet",
         {"updatedColumnName": "tier", "updateDescription": "d"}, ADU_ERROR),
        ("POST", f"{api.adu}/uploads/corpus_ds", UPLOAD_MEDIA, ADU_DOC, "CreateUpload",
         upload_body(bucket, key="a.csv", countryCode="US"), ADU_ERROR),
        ("POST", "/amc/audiences/query", AUDIENCE_MEDIA, AUDIENCE_DOC,
         "createQueryBasedAudience", {**audience, "refreshRateDays": 7}, AUDIENCE_ERROR),
        ("PUT", f"/amc/audiences/query/{audience_id}", AUDIENCE_MEDIA, AUDIENCE_DOC,
         "updateQueryBasedAudienceByAudienceExecutionId", update, AUDIENCE_ERROR),
    ]  # fmt: skip


def _send(api: Api, method: str, path: str, media: str, content: bytes):
    headers = {**api.headers(audience=path.startswith("/amc/audiences")), "Content-Type": media}
    return api.http.request(method, path, content=content, headers=headers)


def test_spec_invalid_bodies_get_a_400_in_the_route_error_shape(world):
    api, audience, audience_id, bucket = world
    sent = 0
    counts: dict[str, int] = {}
    for method, path, media, doc, operation_id, base, error_keys in _routes(
        api, audience, audience_id, bucket
    ):
        corpus = Corpus(doc)
        assert not corpus.is_invalid(operation_id, base), f"{operation_id}: base must be valid"
        bodies = [
            json.dumps(body).encode()
            for where, new in corpus.mutations(corpus.request_schema(operation_id), base, ())
            if corpus.is_invalid(operation_id, body := mutated(base, where, new))
        ]
        assert len(bodies) >= 20, operation_id
        junk = [c for c in JUNK_BODIES if _junk_is_invalid(corpus, operation_id, c)]
        for content in [*bodies, *junk]:
            resp = _send(api, method, path, media, content)
            sent += 1
            label = f"{method} {path} {content[:120]!r}"
            assert resp.status_code == 400, f"{label} -> {resp.status_code} {resp.text[:300]}"
            counts[operation_id] = counts.get(operation_id, 0) + 1
            body = resp.json()
            assert set(body) == error_keys, label
            assert "\n" not in body["details"] and len(body["details"]) < 600, label
            assert "Traceback" not in resp.text and HUGE[:1000] not in resp.text, label
            validate_response(resp)
    assert sent > 300
    print(f"spec-invalid bodies sent: {sent} {counts}")
    # nothing was created by any of them
    listed = api.call("POST", f"{api.adu}/dataSets/list").json()["dataSets"]
    assert [d["dataSetId"] for d in listed] == ["corpus_ds"]
    assert [c["name"] for c in listed[0]["columns"] if c["name"] in ("extra", "tier")] == []
    assert api.call("POST", f"{api.adu}/uploads/list").json()["uploads"] == []
    audiences = api.call("GET", "/amc/audiences/query").json()["executionMetadata"]
    assert [a["audienceExecutionId"] for a in audiences] == [audience_id]
    assert audiences[0]["status"] == "FAILED"


def test_bodiless_post_routes_ignore_junk_bodies(world):
    api, _, _, _ = world
    for path in (f"{api.adu}/dataSets/list", f"{api.adu}/uploads/list"):
        for content in JUNK_BODIES:
            resp = _send(api, "POST", path, "application/json", content)
            assert resp.status_code == 200, f"{path} {content[:60]!r} -> {resp.status_code}"
            validate_response(resp)


def test_token_endpoint_answers_junk_with_an_oauth_400(world):
    api, _, _, _ = world
    for content, media in [
        *((c, "application/json") for c in JUNK_BODIES),
        (b"grant_type=refresh_token&refresh_token=%ff%fe", "application/x-www-form-urlencoded"),
        (b"grant_type=" + b"x" * 100_000, "application/x-www-form-urlencoded"),
        (b"\x00\x01\x02", "application/x-www-form-urlencoded"),
    ]:
        resp = api.http.post("/auth/o2/token", content=content, headers={"Content-Type": media})
        assert 400 <= resp.status_code < 500, f"{content[:60]!r} -> {resp.status_code}"
        assert set(resp.json()) == {"error", "error_description"}
