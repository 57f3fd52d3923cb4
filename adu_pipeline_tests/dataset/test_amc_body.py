"""The shipped definitions load, and their AMC bodies validate against Amazon's OpenAPI schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from adu_pipeline.dataset import column_body, load_definition
from adu_pipeline.normalization import PiiType
from adu_pipeline_tests.dataset.openapi import ADU, errors

DATASETS = Path(__file__).resolve().parents[2] / "data" / "datasets"
SHIPPED = sorted(DATASETS.glob("*.yaml"))


def test_the_closed_schema_catches_misspelt_and_wrong_fields():
    body = load_definition(DATASETS / "crm_customers.yaml").create_body()
    body["dataSet"]["columns"][1]["source"] = "Email"
    body["dataSet"]["countryCode"] = "usa"
    found = errors(ADU, "CreateDataSetRequestContent", body)
    assert len(found) == 2, found


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_definitions_give_valid_create_bodies(path):
    body = load_definition(path).create_body()
    assert errors(ADU, "CreateDataSetRequestContent", body) == []
    assert errors(ADU, "DataSet", body["dataSet"]) == []


def test_crm_customers_is_the_fact_dataset_the_pipeline_expects():
    defn = load_definition(DATASETS / "crm_customers.yaml")
    assert (defn.id, defn.period, defn.country_code, defn.is_fact) == (
        "crm_customers", "P1D", "US", True,
    )  # fmt: skip
    assert defn.main_event_time.name == "export_date"
    assert defn.main_event_time.source is None and not defn.main_event_time.nullable
    assert {c.hashed_pii for c in defn.pii_columns} == set(PiiType)
    assert defn.country_column.name == "country_code"
    types = {c.name: (c.data_type, c.column_type) for c in defn.columns}
    assert types["loyalty_tier"] == ("STRING", "DIMENSION")
    assert types["lifetime_value"] == ("DECIMAL", "METRIC")
    assert types["last_order_date"] == ("DATE", "DIMENSION")
    assert defn.source_mapping()["Email"] == "email"
    assert defn.source_mapping()["Country/Region"] == "country_code"


def test_crm_customers_body_is_exact():
    data_set = load_definition(DATASETS / "crm_customers.yaml").create_body()["dataSet"]
    assert data_set["dataSetId"] == "crm_customers"
    assert data_set["period"] == "P1D" and data_set["countryCode"] == "US"
    columns = {c["name"]: c for c in data_set["columns"]}
    assert columns["export_date"] == {
        "name": "export_date", "dataType": "DATE", "columnType": "DIMENSION", "nullable": False,
        "description": "Date of the CRM export this row comes from", "isMainEventTime": True,
    }  # fmt: skip
    assert columns["email"]["externalUserIdType"] == {"hashedPii": "EMAIL"}
    assert columns["country_code"]["isCountryCode"] is True
    assert "source" not in columns["email"]
    assert [c["name"] for c in data_set["columns"]][:2] == ["export_date", "email"]


def test_dimension_dataset_has_no_period_and_no_event_time():
    defn = load_definition(DATASETS / "crm_customers_list.yaml")
    assert not defn.is_fact
    data_set = defn.create_body()["dataSet"]
    assert "period" not in data_set
    assert not any(c.get("isMainEventTime") for c in data_set["columns"])


def test_fact_dataset_without_period_gets_amc_default(tmp_path):
    text = (DATASETS / "crm_customers.yaml").read_text(encoding="utf-8")
    path = tmp_path / "no_period.yaml"
    path.write_text(text.replace("period: P1D", ""), encoding="utf-8")
    defn = load_definition(path)
    assert defn.period is None and defn.create_body()["dataSet"]["period"] == "P1D"


def test_column_body_validates_as_an_added_column():
    defn = load_definition(DATASETS / "crm_customers.yaml")
    body = {"column": column_body(defn.column("loyalty_tier"))}
    assert errors(ADU, "AddColumnToDataSetRequestContent", body) == []


def test_offline_conversions_is_a_fact_dataset_timed_by_the_order():
    defn = load_definition(DATASETS / "offline_conversions.yaml")
    event = defn.main_event_time
    assert (event.name, event.data_type, event.source, event.nullable) == (
        "order_time", "TIMESTAMP", "Order Time", False,
    )  # fmt: skip
    assert defn.is_fact and defn.update_strategy == "OVERLAP_REPLACE"
    assert (defn.pipeline.landing, defn.pipeline.instances) == ("offline_conversions", ("us",))
    assert {c.hashed_pii for c in defn.pii_columns} == {PiiType.EMAIL, PiiType.PHONE}
    types = {c.name: (c.data_type, c.column_type) for c in defn.columns}
    assert types["order_id"] == ("STRING", "DIMENSION")
    assert types["order_value"] == ("DECIMAL", "METRIC")
    assert types["currency"] == ("STRING", "DIMENSION")
    data_set = defn.create_body()["dataSet"]
    assert data_set["period"] == "P1D"
    assert data_set["columns"][0] == {
        "name": "order_time", "dataType": "TIMESTAMP", "columnType": "DIMENSION",
        "nullable": False, "description": "When the order was placed (UTC)",
        "isMainEventTime": True,
    }  # fmt: skip


def test_the_pipeline_block_is_never_sent_to_amc():
    for path in SHIPPED:
        assert "pipeline" not in load_definition(path).create_body()["dataSet"], path.name
