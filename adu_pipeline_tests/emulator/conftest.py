"""Raw-HTTP helpers for the emulator tests: every response is checked against Amazon's spec."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import time
from collections.abc import Callable

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adu_pipeline_tests.emulator.contract import validate_response
from adu_pipeline_tests.fixtures.stack import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_REFRESH_TOKEN,
)

ADU_MEDIA = "application/vnd.amcadvertiserdataset.v1+json"
UPLOAD_MEDIA = "application/vnd.amcadvertiserdataupload.v1+json"
AUDIENCE_MEDIA = "application/vnd.amcquerybasedaudience.v1+json"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Api:
    """An httpx client holding a token; `call` validates every response against the spec."""

    def __init__(self, emulator, token: str | None = None, *, instance_id: str | None = None):
        """Calls for one instance (default: the emulator's first) and its account's headers."""
        self.emulator = emulator
        self.http = httpx.Client(base_url=emulator.url, timeout=10)
        self.token = token or self.fetch_token()
        self.instance = instance_id or emulator.instance_id
        account = emulator.config.account_of(self.instance)
        self.account_id = account.account_id if account else emulator.account_id
        self.marketplace_id = account.marketplace_id if account else emulator.marketplace_id
        self.adu = f"/amc/advertiserData/{self.instance}"

    def fetch_token(self) -> str:
        resp = self.http.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.emulator.refresh_token,
                "client_id": self.emulator.client_id,
                "client_secret": self.emulator.client_secret,
            },
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def headers(self, audience: bool = False, **extra: str) -> dict[str, str]:
        h = {
            "Authorization": f"Bearer {self.token}",
            "Amazon-Advertising-API-ClientId": self.emulator.client_id,
        }
        if audience:
            h["Amazon-Marketing-Cloud-Audience-InstanceId"] = self.instance
        else:
            h["Amazon-Advertising-API-AdvertiserId"] = self.account_id
            h["Amazon-Advertising-API-MarketplaceId"] = self.marketplace_id
        h.update(extra)
        return h

    def call(
        self,
        method: str,
        path: str,
        *,
        body=None,
        media: str | None = None,
        headers: dict[str, str] | None = None,
        params=None,
        validate=True,
    ) -> httpx.Response:
        audience = path.startswith("/amc/audiences")
        h = headers if headers is not None else self.headers(audience=audience)
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            h = {**h, "Content-Type": media or "application/json"}
        resp = self.http.request(method, path, content=content, headers=h, params=params)
        if validate:
            validate_response(resp)
        return resp

    # --- conveniences -----------------------------------------------------------------------

    def create_dataset(self, dataset: dict) -> httpx.Response:
        return self.call("POST", f"{self.adu}/dataSets", body={"dataSet": dataset}, media=ADU_MEDIA)

    def upload(self, data_set_id: str, body: dict) -> httpx.Response:
        return self.call("POST", f"{self.adu}/uploads/{data_set_id}", body=body, media=UPLOAD_MEDIA)

    def get_upload(self, data_set_id: str, upload_id: str) -> dict:
        resp = self.call("GET", f"{self.adu}/uploads/{data_set_id}/{upload_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()["upload"]

    def wait_upload(self, data_set_id: str, upload_id: str, timeout: float = 30) -> dict:
        return wait_for(
            lambda: self.get_upload(data_set_id, upload_id),
            lambda u: u["status"] in ("SUCCESS", "FAILED"),
            timeout,
        )

    def upload_and_wait(self, data_set_id: str, body: dict) -> dict:
        resp = self.upload(data_set_id, body)
        assert resp.status_code == 200, resp.text
        return self.wait_upload(data_set_id, resp.json()["uploadId"])

    def create_audience(self, body: dict) -> httpx.Response:
        return self.call("POST", "/amc/audiences/query", body=body, media=AUDIENCE_MEDIA)

    def get_audience(self, audience_id: str) -> dict:
        resp = self.call("GET", f"/amc/audiences/query/{audience_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait_audience(self, audience_id: str, timeout: float = 30) -> dict:
        return wait_for(
            lambda: self.get_audience(audience_id),
            lambda a: a["status"] in ("SUCCEEDED", "FAILED"),
            timeout,
        )

    def stored_rows(self, data_set_id: str) -> list[dict]:
        """The rows the emulator keeps after matching (read from its state, not over HTTP)."""
        return self.emulator.app.store.dataset_rows(self.instance, data_set_id)


def wait_for(fetch: Callable[[], dict], done: Callable[[dict], bool], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def start_with(factory, config, **kwargs):
    """An emulator with `config` and the fixtures' test credentials (the refresh token must be
    configured: the emulator refuses refresh tokens it did not issue)."""
    return factory.start(
        config=config,
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        refresh_token=TEST_REFRESH_TOKEN,
        **kwargs,
    )


@pytest.fixture
def api(emulator):
    client = Api(emulator)
    yield client
    client.http.close()


# --- datasets and files used across tests ------------------------------------------------------


def crm_dataset(data_set_id: str = "crm_customers", **extra) -> dict:
    """A dimension dataset of hashed CRM identifiers plus two business columns."""
    pii = [
        ("email", "EMAIL"),
        ("phone", "PHONE"),
        ("first_name", "FIRST_NAME"),
        ("last_name", "LAST_NAME"),
        ("address", "ADDRESS"),
        ("zip", "ZIP"),
    ]
    columns = [
        {
            "name": name,
            "columnType": "DIMENSION",
            "dataType": "STRING",
            "externalUserIdType": {"hashedPii": kind},
        }
        for name, kind in pii
    ]
    columns += [
        {"name": "loyalty_tier", "columnType": "DIMENSION", "dataType": "STRING"},
        {"name": "lifetime_value", "columnType": "METRIC", "dataType": "DECIMAL"},
    ]
    return {"dataSetId": data_set_id, "columns": columns, "countryCode": "US", **extra}


def purchases_dataset(data_set_id: str = "crm_purchases", period: str = "P1D") -> dict:
    """A fact dataset: one purchase per row, partitioned by purchase time."""
    return {
        "dataSetId": data_set_id,
        "period": period,
        "countryCode": "US",
        "columns": [
            {
                "name": "email",
                "columnType": "DIMENSION",
                "dataType": "STRING",
                "externalUserIdType": {"hashedPii": "EMAIL"},
            },
            {"name": "order_id", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "amount", "columnType": "METRIC", "dataType": "DECIMAL"},
            {"name": "quantity", "columnType": "METRIC", "dataType": "INTEGER"},
            {
                "name": "purchased_at",
                "columnType": "DIMENSION",
                "dataType": "TIMESTAMP",
                "isMainEventTime": True,
                "nullable": False,
            },
        ],
    }


def customer_rows(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "email": sha(f"person{i}@example.com"),
            "phone": sha(f"1555{i:07d}"),
            "first_name": sha(f"first{i}"),
            "last_name": sha(f"last{i}"),
            "address": sha(f"{i}mainst"),
            "zip": sha("94107"),
            "loyalty_tier": "gold" if i % 3 == 0 else "silver",
            "lifetime_value": f"{i % 500}.25",
        }
        for i in range(start, start + n)
    ]


def csv_bytes(rows: list[dict], delimiter: str = ",") -> bytes:
    header = list(rows[0])
    lines = [delimiter.join(header)]
    lines += [delimiter.join("" if r[h] is None else str(r[h]) for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def parquet_bytes(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def upload_body(
    bucket: str,
    *,
    key: str | None = None,
    prefix: str | None = None,
    manifest: str | None = None,
    fmt: dict | None = None,
    compression: str = "NONE",
    strategy: str = "FULL_REPLACE",
    **extra,
) -> dict:
    source = {"sourceS3Bucket": bucket}
    if key:
        source["sourceFileS3Key"] = key
    if prefix:
        source["sourceS3Prefix"] = prefix
    if manifest:
        source["sourceManifestS3Key"] = manifest
    return {
        "dataSource": source,
        "fileFormat": fmt or {"csvDataFormat": {}},
        "compressionFormat": compression,
        "updateStrategy": strategy,
        **extra,
    }
