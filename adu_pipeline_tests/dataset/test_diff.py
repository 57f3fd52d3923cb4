"""definition_diff: what the amc_dataset asset may add, and what must stop it."""

from __future__ import annotations

import copy
from pathlib import Path

from adu_pipeline.dataset import definition_diff, load_definition

DATASETS = Path(__file__).resolve().parents[2] / "data" / "datasets"
DEFN = load_definition(DATASETS / "crm_customers.yaml")


def as_amc_returns_it(defn=DEFN) -> dict:
    """GetDataSet response: spec fields with defaults filled, plus the user columns AMC adds."""
    data_set = copy.deepcopy(defn.create_body()["dataSet"])
    for column in data_set["columns"]:
        column.setdefault("isMainEventTime", False)
        column.setdefault("isMainUserId", False)
        column.setdefault("isMainUserIdType", False)
        column.setdefault("requiresOneWayHashing", False)
    data_set["columns"] += [
        {"name": "user_id", "dataType": "STRING", "columnType": "DIMENSION", "isMainUserId": True},
        {"name": "user_type", "dataType": "STRING", "columnType": "DIMENSION",
         "isMainUserIdType": True},
    ]  # fmt: skip
    data_set["columns"].reverse()  # order is not significant
    return {"dataSet": data_set}


def test_identical_dataset_has_no_diff():
    diff = definition_diff(DEFN, as_amc_returns_it())
    assert diff.is_identical and diff.is_compatible
    assert diff.format() == "no differences"


def test_inner_object_and_old_isnullable_spelling_are_accepted():
    amc = as_amc_returns_it()["dataSet"]
    for column in amc["columns"]:
        column["isNullable"] = column.pop("nullable", True)
    assert definition_diff(DEFN, amc).is_identical


def test_new_nullable_column_can_be_added():
    amc = as_amc_returns_it()
    amc["dataSet"]["columns"] = [
        c for c in amc["dataSet"]["columns"] if c["name"] != "loyalty_tier"
    ]
    diff = definition_diff(DEFN, amc)
    assert [c.name for c in diff.addable_columns] == ["loyalty_tier"]
    assert diff.is_compatible and not diff.is_identical
    assert "column 'loyalty_tier' can be added (new, nullable)" in diff.format()


def test_new_columns_that_cannot_be_added():
    amc = as_amc_returns_it()
    dropped = {"export_date", "country_code"}
    amc["dataSet"]["columns"] = [c for c in amc["dataSet"]["columns"] if c["name"] not in dropped]
    diff = definition_diff(DEFN, amc)
    assert not diff.is_compatible and diff.addable_columns == ()
    assert (
        "column 'export_date' is new but cannot be added: a main event time column changes "
        "the dataset's type" in diff.differences
    )
    assert any(d.startswith("column 'country_code' is new but cannot") for d in diff.differences)


def test_non_nullable_new_column_cannot_be_added(tmp_path):
    text = (DATASETS / "crm_customers.yaml").read_text()
    text += (
        "  - {name: tier2, source: T2, dataType: STRING, columnType: DIMENSION, nullable: false}\n"
    )
    (tmp_path / "d.yaml").write_text(text)
    diff = definition_diff(load_definition(tmp_path / "d.yaml"), as_amc_returns_it())
    assert diff.differences == (
        "column 'tier2' is new but cannot be added: it is not nullable "
        "(rows already uploaded have no value)",
    )


def test_field_differences_are_precise():
    amc = as_amc_returns_it()
    columns = {c["name"]: c for c in amc["dataSet"]["columns"]}
    columns["lifetime_value"]["dataType"] = "LONG"
    columns["email"]["externalUserIdType"] = {"hashedPii": "PHONE"}
    columns["zip"]["nullable"] = False
    columns["loyalty_tier"]["columnType"] = "METRIC"
    amc["dataSet"]["period"] = "P1M"
    amc["dataSet"]["countryCode"] = "GB"
    diff = definition_diff(DEFN, amc)
    assert set(diff.differences) == {
        "period is P1M in AMC, P1D in the definition",
        "countryCode is GB in AMC, US in the definition",
        "column 'lifetime_value': dataType is LONG in AMC, DECIMAL in the definition",
        "column 'email': hashedPii is PHONE in AMC, EMAIL in the definition",
        "column 'zip': nullable is false in AMC, true in the definition",
        "column 'loyalty_tier': columnType is METRIC in AMC, DIMENSION in the definition",
    }


def test_column_only_in_amc_is_never_deleted():
    amc = as_amc_returns_it()
    amc["dataSet"]["columns"].append(
        {"name": "legacy_segment", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    diff = definition_diff(DEFN, amc)
    assert diff.differences == (
        "column 'legacy_segment' exists in AMC but not in the definition "
        "(columns are never deleted; add it back to the definition)",
    )


def test_description_changes_are_reported_apart():
    amc = as_amc_returns_it()
    amc["dataSet"]["description"] = "old text"
    next(c for c in amc["dataSet"]["columns"] if c["name"] == "email")["description"] = "old"
    diff = definition_diff(DEFN, amc)
    assert diff.is_compatible
    assert diff.description_changes == (
        "dataset description differs", "column 'email': description differs",
    )  # fmt: skip


def test_dimension_dataset_ignores_a_defaulted_period():
    defn = load_definition(DATASETS / "crm_customers_list.yaml")
    amc = as_amc_returns_it(defn)
    amc["dataSet"]["period"] = "P1D"  # AMC may fill its default
    assert definition_diff(defn, amc).is_identical
