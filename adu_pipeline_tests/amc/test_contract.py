"""Every response our client reads, in a full run of its operations, matches Amazon's OpenAPI
schema for that operation and carries the fields the client reads.

A recording transport sits between the client and the real HTTP transport: it forwards every
request to the emulator unchanged and keeps the responses for validation.
"""

from __future__ import annotations

import httpx
import pytest

from adu_pipeline.amc import (
    AmcClient,
    AmcNotFoundError,
    AmcValidationError,
    audience_request,
    upload_request,
)
from adu_pipeline_tests.amc.conftest import WAIT, config_for
from adu_pipeline_tests.emulator.contract import validate_response


class RecordingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.responses.append(response)
        return response

    def close(self) -> None:
        self.inner.close()


def test_every_response_the_client_reads_matches_the_spec(emu, waiter, s3_client, s3_bucket):
    recorder = RecordingTransport()
    with AmcClient(config_for(emu), httpx_transport=recorder) as c:
        account = c.list_accounts()[0]
        c.list_instances(advertiser_id=account.account_id, marketplace_id=account.marketplace_id)
        c.get_instance()
        c.list_advertisers()
        ds = {
            "dataSetId": "contract_ds",
            "columns": [
                {
                    "name": "email",
                    "dataType": "STRING",
                    "columnType": "DIMENSION",
                    "externalUserIdType": {"hashedPii": "EMAIL"},
                }
            ],
        }
        c.create_dataset(ds)
        c.list_datasets(page_size=1)
        c.get_dataset("contract_ds")
        c.update_dataset("contract_ds", description="contract")
        c.add_column(
            "contract_ds", {"name": "tier", "dataType": "STRING", "columnType": "DIMENSION"}
        )
        with pytest.raises(AmcNotFoundError):
            c.get_dataset("missing_ds")
        with pytest.raises(AmcValidationError):
            c.create_dataset({"dataSetId": "Bad Id", "columns": []})

        s3_client.put_object(Bucket=s3_bucket, Key="c/e.csv", Body=b"email\n" + b"a" * 64 + b"\n")
        upload = c.create_upload(
            "contract_ds", upload_request(s3_bucket, key="c/e.csv", compression="none")
        )
        waiter.wait_for_upload("contract_ds", upload.upload_id, **WAIT)
        c.get_upload("contract_ds", upload.upload_id)
        c.list_uploads(dataset_id="contract_ds")

        body = audience_request(
            "contract", "SELECT user_id FROM contract_ds", emu.advertiser_id, relative_days=7
        )
        audience = c.create_audience(body)
        failed = waiter.wait_for_audience(audience.audience_id, **WAIT)  # < 2,000 users
        assert failed.status.is_failure
        c.get_audience(audience.audience_id)
        c.list_audiences()
        c.update_audience(audience.audience_id, body)
        waiter.wait_for_audience(audience.audience_id, **WAIT)
        c.delete_audience(audience.audience_id)
        c.delete_dataset("contract_ds")

    api = [r for r in recorder.responses if r.request.url.path != "/auth/o2/token"]
    assert len(api) >= 20
    for response in api:
        validate_response(response)
