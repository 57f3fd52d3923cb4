"""Dataset definition operations: CRUD, columns, pagination, and AMC's validation rules."""

from __future__ import annotations

import pytest

from adu_pipeline_tests.emulator.conftest import (
    ADU_MEDIA,
    crm_dataset,
    purchases_dataset,
)

COLUMN_MEDIA = "application/vnd.amcadvertiserdatasetcolumn.v1+json"


def test_create_get_list_update_delete(api):
    created = api.create_dataset(crm_dataset(description="CRM list"))
    assert created.status_code == 200
    assert created.json() == {"dataSetId": "crm_customers", "instanceId": api.instance}
    assert created.headers["content-type"] == ADU_MEDIA

    got = api.call("GET", f"{api.adu}/dataSets/crm_customers").json()["dataSet"]
    names = [c["name"] for c in got["columns"]]
    assert names[:8] == [
        "email",
        "phone",
        "first_name",
        "last_name",
        "address",
        "zip",
        "loyalty_tier",
        "lifetime_value",
    ]
    # AMC adds the resolved user id columns to identity datasets
    assert names[8:] == ["user_id", "user_id_type"]
    assert got["columns"][8]["isMainUserId"] is True
    assert got["columns"][0]["nullable"] is True
    assert got["columns"][0]["isMainEventTime"] is False
    assert "period" not in got  # dimension dataset
    assert got["dataSetType"] == "DIMENSION"
    assert got["createdAt"].endswith("Z") and got["description"] == "CRM list"

    updated = api.call(
        "PUT",
        f"{api.adu}/dataSets/crm_customers",
        body={"description": "new", "countryCode": "CA"},
        media=ADU_MEDIA,
    )
    assert updated.status_code == 200
    assert updated.json()["dataSet"]["description"] == "new"
    assert updated.json()["dataSet"]["countryCode"] == "CA"

    listed = api.call("POST", f"{api.adu}/dataSets/list").json()
    assert [d["dataSetId"] for d in listed["dataSets"]] == ["crm_customers"]
    assert "nextToken" not in listed

    deleted = api.call("DELETE", f"{api.adu}/dataSets/crm_customers")
    assert deleted.json() == {"dataSetId": "crm_customers", "instanceId": api.instance}
    assert api.call("GET", f"{api.adu}/dataSets/crm_customers").status_code == 404


def test_fact_dataset_defaults_period(api):
    body = purchases_dataset()
    del body["period"]
    assert api.create_dataset(body).status_code == 200
    got = api.call("GET", f"{api.adu}/dataSets/crm_purchases").json()["dataSet"]
    assert got["period"] == "P1D"
    assert got["dataSetType"] == "FACT"


def test_list_pagination(api):
    for i in range(5):
        assert api.create_dataset(crm_dataset(f"ds_{i}")).status_code == 200
    seen, token, pages = [], None, 0
    while True:
        params = {"maxResults": 2, **({"nextToken": token} if token else {})}
        body = api.call("POST", f"{api.adu}/dataSets/list", params=params).json()
        seen += [d["dataSetId"] for d in body["dataSets"]]
        pages += 1
        token = body.get("nextToken")
        if not token:
            break
    assert seen == [f"ds_{i}" for i in range(5)]
    assert pages == 3
    bad = api.call("POST", f"{api.adu}/dataSets/list", params={"maxResults": 101})
    assert bad.status_code == 400
    assert (
        api.call("POST", f"{api.adu}/dataSets/list", params={"nextToken": "garbage!"}).status_code
        == 400
    )


def _column(name, **extra):
    return {"name": name, "columnType": "DIMENSION", "dataType": "STRING", **extra}


INVALID = {
    "uppercase id": {"dataSetId": "CRM", "columns": [_column("a")]},
    "id list": {"dataSetId": "list", "columns": [_column("a")]},
    "too many columns": {"dataSetId": "wide", "columns": [_column(f"c{i}") for i in range(101)]},
    "two event times": {
        "dataSetId": "x",
        "columns": [
            _column("t1", dataType="DATE", isMainEventTime=True),
            _column("t2", dataType="DATE", isMainEventTime=True),
        ],
    },
    "string event time": {"dataSetId": "x", "columns": [_column("t", isMainEventTime=True)]},
    "period on dimension": {"dataSetId": "x", "period": "P1D", "columns": [_column("a")]},
    "country without identity": {"dataSetId": "x", "countryCode": "US", "columns": [_column("a")]},
    "bad enum": {"dataSetId": "x", "columns": [_column("a", dataType="TEXT")]},
    "missing columns": {"dataSetId": "x"},
    "duplicate column": {"dataSetId": "x", "columns": [_column("a"), _column("A")]},
    "metric user id": {
        "dataSetId": "x",
        "columns": [_column("u", columnType="METRIC", isMainUserId=True)],
    },
    "both identity kinds": {
        "dataSetId": "x",
        "columns": [
            _column("e", externalUserIdType={"hashedPii": "EMAIL", "externalIdentity": "MAID"})
        ],
    },
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_definitions_are_rejected(api, case):
    resp = api.create_dataset(INVALID[case])
    assert resp.status_code == 400, case
    body = resp.json()
    assert body["code"] == "400"
    assert body["errors"] and body["details"]


def test_invalid_country_error_message_matches_amazon(api):
    resp = api.create_dataset(INVALID["country without identity"])
    assert (
        "Country code cannot be specified for a data set that does not contain identity"
        in resp.json()["details"]
    )


def test_duplicate_id_and_unwrapped_body(api):
    assert api.create_dataset(crm_dataset()).status_code == 200
    again = api.create_dataset(crm_dataset())
    assert again.status_code == 400
    assert "already exists" in again.json()["details"]
    unwrapped = api.call("POST", f"{api.adu}/dataSets", body=crm_dataset("other"), media=ADU_MEDIA)
    assert unwrapped.status_code == 400
    text = api.call("POST", f"{api.adu}/dataSets", body=crm_dataset("x2"), media="text/plain")
    assert text.status_code == 400


def test_column_operations(api):
    assert api.create_dataset(purchases_dataset()).status_code == 200
    base = f"{api.adu}/dataSets/crm_purchases/columns"
    added = api.call("POST", base, body={"column": _column("channel")}, media=COLUMN_MEDIA)
    assert added.status_code == 200
    assert added.headers["content-type"] == COLUMN_MEDIA
    assert "channel" in [c["name"] for c in added.json()["dataSet"]["columns"]]

    renamed = api.call(
        "PUT",
        f"{base}/channel",
        body={"updatedColumnName": "sales_channel", "updateDescription": "where"},
        media=COLUMN_MEDIA,
    )
    columns = {c["name"]: c for c in renamed.json()["dataSet"]["columns"]}
    assert columns["sales_channel"]["description"] == "where"
    assert "channel" not in columns

    removed = api.call("DELETE", f"{base}/sales_channel")
    assert "sales_channel" not in [c["name"] for c in removed.json()["dataSet"]["columns"]]

    assert api.call("DELETE", f"{base}/purchased_at").status_code == 400  # main event time
    assert api.call("DELETE", f"{base}/user_id").status_code == 400
    assert api.call("DELETE", f"{base}/nosuch").status_code == 404
    duplicate = api.call("POST", base, body={"column": _column("ORDER_ID")}, media=COLUMN_MEDIA)
    assert duplicate.status_code == 400
    main_user = api.call(
        "POST", base, body={"column": _column("uid2", isMainUserId=True)}, media=COLUMN_MEDIA
    )
    assert main_user.status_code == 400


def test_an_instance_holds_at_most_5000_datasets(api):
    store, now = api.emulator.app.store, 0.0
    with store.tx():  # 4,999 straight into the state, the 5,000th and 5,001st over HTTP
        for i in range(4999):
            store.insert_dataset(api.instance, {"dataSetId": f"bulk_{i}", "columns": []}, now)
    assert api.create_dataset(crm_dataset("number_5000")).status_code == 200
    refused = api.create_dataset(crm_dataset("number_5001"))
    assert refused.status_code == 400
    assert refused.json()["details"] == "An AMC instance holds at most 5000 data sets."
    assert api.call("DELETE", f"{api.adu}/dataSets/bulk_0").status_code == 200
    assert api.create_dataset(crm_dataset("number_5001")).status_code == 200
