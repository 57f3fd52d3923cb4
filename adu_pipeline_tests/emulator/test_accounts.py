"""Many accounts and instances in one emulator: each account sees its own instances, each
instance keeps its own datasets, uploads and audiences."""

from __future__ import annotations

import pytest

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline_tests.emulator.conftest import (
    Api,
    crm_dataset,
    csv_bytes,
    customer_rows,
    start_with,
    upload_body,
)

US = {
    "instance_id": "amcemulator01",
    "account_id": "ENTITY1AMCEMULATOR",
    "marketplace_id": "ATVPDKIKX0DER",
    "dsp_advertisers": ["5838912345678"],
    "region": "NA",
    "description": "US instance",
}
EU = {
    "instance_id": "amcemulator02",
    "account_id": "ENTITY2AMCEMULATOR",
    "marketplace_id": "A1F83G8C2ARO7P",
    "dsp_advertisers": ["5838912349999"],
    "region": "EU",
}
US_SECOND = {**US, "instance_id": "amcemulator03", "description": None}


def test_from_instances_groups_instances_by_account():
    config = EmulatorConfig.from_instances([US, EU, US_SECOND], audience_min_users=5)
    assert [a.account_id for a in config.accounts] == ["ENTITY1AMCEMULATOR", "ENTITY2AMCEMULATOR"]
    assert [i.instance_id for i in config.accounts[0].instances] == [
        "amcemulator01",
        "amcemulator03",
    ]
    assert config.account_of("amcemulator02").marketplace_id == "A1F83G8C2ARO7P"
    assert config.account_of("nosuch") is None
    eu = config.instance("amcemulator02")
    assert (eu.region, eu.s3_bucket_region) == ("EU", "eu-west-1")
    assert eu.instance_name == "amcemulator02"  # no description
    assert [a.id for a in eu.advertisers] == ["5838912349999"]
    assert config.instance("amcemulator01").instance_name == "US instance"
    assert config.audience_min_users == 5


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([{k: v for k, v in US.items() if k != "region"}], "lacks region"),
        ([{**US, "region": "APAC"}], "region must be NA, EU or FE"),
        ([US, {**US_SECOND, "marketplace_id": "A1F83G8C2ARO7P"}], "different marketplaces"),
        ([US, {**EU, "instance_id": US["instance_id"]}], "one account only"),
        ([], "at least one instance"),
    ],
)
def test_from_instances_rejects_bad_descriptions(instances, message):
    with pytest.raises(ValueError, match=message):
        EmulatorConfig.from_instances(instances)


@pytest.fixture
def two_accounts(emulator_factory):
    server = start_with(emulator_factory, EmulatorConfig.from_instances([US, EU]))
    us, eu = Api(server), Api(server, instance_id="amcemulator02")
    yield us, eu
    us.http.close()
    eu.http.close()


def test_each_account_sees_only_its_instances(two_accounts):
    us, eu = two_accounts
    accounts = us.call("GET", "/amc/accounts").json()["amcAccounts"]
    assert [(a["accountId"], a["marketplaceId"]) for a in accounts] == [
        ("ENTITY1AMCEMULATOR", "ATVPDKIKX0DER"),
        ("ENTITY2AMCEMULATOR", "A1F83G8C2ARO7P"),
    ]
    for api, instance_id in ((us, "amcemulator01"), (eu, "amcemulator02")):
        listed = api.call("GET", "/amc/instances").json()["instances"]
        assert [i["instanceId"] for i in listed] == [instance_id]
        assert listed[0]["entities"] == [api.account_id]
    other = us.call("GET", "/amc/instances/amcemulator02")
    assert other.status_code == 404
    assert set(other.json()) == {"code", "details"}
    assert us.call("GET", "/amc/instances/amcemulator02/advertisers").status_code == 404
    advertisers = eu.call("GET", "/amc/instances/amcemulator02/advertisers").json()
    assert [a["id"] for a in advertisers["advertisers"]] == ["5838912349999"]


def test_adu_calls_for_another_accounts_instance_are_not_found(two_accounts):
    us, eu = two_accounts
    crossed = us.call("POST", "/amc/advertiserData/amcemulator02/dataSets/list")
    assert crossed.status_code == 404
    assert set(crossed.json()) == {"code", "details", "errors", "requestId"}
    unknown_account = us.headers(**{"Amazon-Advertising-API-AdvertiserId": "ENTITYNOSUCH"})
    assert us.call("POST", f"{us.adu}/dataSets/list", headers=unknown_account).status_code == 403
    # the EU account's marketplace sent with the US account: 403, as with any other marketplace
    mixed = us.headers(**{"Amazon-Advertising-API-MarketplaceId": eu.marketplace_id})
    assert us.call("POST", f"{us.adu}/dataSets/list", headers=mixed).status_code == 403
    assert eu.call("POST", f"{eu.adu}/dataSets/list").status_code == 200


def test_same_dataset_on_two_instances_is_kept_apart(two_accounts, s3_client, s3_bucket):
    us, eu = two_accounts
    s3_client.put_object(Bucket=s3_bucket, Key="us.csv", Body=csv_bytes(customer_rows(30)))
    s3_client.put_object(Bucket=s3_bucket, Key="eu.csv", Body=csv_bytes(customer_rows(12)))
    for api, key in ((us, "us.csv"), (eu, "eu.csv")):
        assert api.create_dataset(crm_dataset()).status_code == 200
        upload = api.upload_and_wait("crm_customers", upload_body(s3_bucket, key=key))
        assert upload["status"] == "SUCCESS", upload.get("message")
    for api, rows in ((us, 30), (eu, 12)):
        datasets = api.call("POST", f"{api.adu}/dataSets/list").json()["dataSets"]
        assert [d["dataSetId"] for d in datasets] == ["crm_customers"]
        uploads = api.call("POST", f"{api.adu}/uploads/list", body={}).json()["uploads"]
        assert len(uploads) == 1
        assert uploads[0]["metrics"] == {"OutputRowCount": rows}
    us_upload = us.call("POST", f"{us.adu}/uploads/list", body={}).json()["uploads"][0]
    seen_from_eu = eu.call("GET", f"{eu.adu}/uploads/crm_customers/{us_upload['uploadId']}")
    assert seen_from_eu.status_code == 404
    us.call("DELETE", f"{us.adu}/dataSets/crm_customers")
    assert eu.call("GET", f"{eu.adu}/dataSets/crm_customers").status_code == 200


def test_audiences_belong_to_their_instance(two_accounts):
    us, eu = two_accounts
    created = us.create_audience(
        {
            "advertiserId": "5838912345678",
            "audienceName": "us only",
            "query": "SELECT user_id FROM crm_customers",
            "timeWindowStart": "2024-01-01T00:00:00Z",
            "timeWindowEnd": "2024-01-31T00:00:00Z",
        }
    )
    assert created.status_code == 200, created.text
    audience_id = created.json()["audienceExecutionId"]
    assert [
        a["audienceExecutionId"]
        for a in us.call("GET", "/amc/audiences/query").json()["executionMetadata"]
    ] == [audience_id]
    assert eu.call("GET", "/amc/audiences/query").json()["executionMetadata"] == []
    assert eu.call("GET", f"/amc/audiences/query/{audience_id}").status_code == 404
    # EntityId, when sent, must be the instance's own account
    foreign = eu.headers(audience=True, **{"Amazon-Advertising-API-EntityId": us.account_id})
    refused = eu.call("GET", "/amc/audiences/query", headers=foreign, validate=False)
    assert refused.status_code == 403
    own = eu.headers(audience=True, **{"Amazon-Advertising-API-EntityId": eu.account_id})
    assert eu.call("GET", "/amc/audiences/query", headers=own).status_code == 200
