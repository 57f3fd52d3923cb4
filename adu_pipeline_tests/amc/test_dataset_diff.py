"""dataset_differences: what ensure_dataset may add, and what must stop it (the cases
definition_diff covered, ported here), with wanted bodies from the definition YAML files."""

from __future__ import annotations

import copy
from pathlib import Path

from adu_pipeline.amc import Dataset, dataset_differences
from adu_pipeline.dataset import load_definition, parse_definition

DATASETS = Path(__file__).resolve().parents[2] / "data" / "datasets"
DEFN = load_definition(DATASETS / "crm_customers.yaml")
WANTED = DEFN.create_body()


def as_amc_returns_it(defn=DEFN) -> dict:
    """GetDataSet's dataSet: spec fields with defaults filled, plus the user columns AMC adds."""
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
    return data_set


def diff(amc: dict, wanted=WANTED):
    return dataset_differences(wanted, Dataset.from_api(amc))


def columns(amc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in amc["columns"]}


def test_identical_dataset_has_no_diff():
    result = diff(as_amc_returns_it())
    assert result.is_identical and result.is_compatible
    assert result.format() == "no differences"


def test_bare_body_and_old_isnullable_spelling_are_accepted():
    amc = as_amc_returns_it()
    for column in amc["columns"]:
        column["isNullable"] = column.pop("nullable", True)
    assert diff(amc, wanted=WANTED["dataSet"]).is_identical


def test_new_nullable_column_can_be_added():
    amc = as_amc_returns_it()
    amc["columns"] = [c for c in amc["columns"] if c["name"] != "loyalty_tier"]
    result = diff(amc)
    assert result.addable_names == ("loyalty_tier",)
    assert result.addable_columns == tuple(
        c for c in WANTED["dataSet"]["columns"] if c["name"] == "loyalty_tier"
    )  # the AddColumn body, exactly the column of the CreateDataSet body
    assert result.is_compatible and not result.is_identical
    assert "column 'loyalty_tier' can be added (new, nullable)" in result.format()


def test_new_columns_that_cannot_be_added():
    amc = as_amc_returns_it()
    amc["columns"] = [c for c in amc["columns"] if c["name"] not in {"export_date", "country_code"}]
    result = diff(amc)
    assert not result.is_compatible and result.addable_columns == ()
    assert (
        "column 'export_date' is new but cannot be added: a main event time column changes "
        "the dataset's type" in result.differences
    )
    assert any(d.startswith("column 'country_code' is new but cannot") for d in result.differences)


def test_non_nullable_new_column_cannot_be_added():
    import yaml

    data = yaml.safe_load((DATASETS / "crm_customers.yaml").read_text())
    data["columns"].append(
        {"name": "tier2", "source": "T2", "dataType": "STRING", "columnType": "DIMENSION",
         "nullable": False}
    )  # fmt: skip
    result = diff(as_amc_returns_it(), wanted=parse_definition(data).create_body())
    assert result.differences == (
        "column 'tier2' is new but cannot be added: it is not nullable "
        "(rows already uploaded have no value)",
    )


def test_field_differences_are_precise():
    amc = as_amc_returns_it()
    by_name = columns(amc)
    by_name["lifetime_value"]["dataType"] = "LONG"
    by_name["email"]["externalUserIdType"] = {"hashedPii": "PHONE"}
    by_name["zip"]["nullable"] = False
    by_name["loyalty_tier"]["columnType"] = "METRIC"
    amc["period"] = "P1M"
    amc["countryCode"] = "GB"
    assert set(diff(amc).differences) == {
        "period is P1M in AMC, P1D in the definition",
        "countryCode is GB in AMC, US in the definition",
        "column 'lifetime_value': dataType is LONG in AMC, DECIMAL in the definition",
        "column 'email': hashedPii is PHONE in AMC, EMAIL in the definition",
        "column 'zip': nullable is false in AMC, true in the definition",
        "column 'loyalty_tier': columnType is METRIC in AMC, DIMENSION in the definition",
    }


def test_flags_and_consent_are_compared():
    amc = as_amc_returns_it()
    by_name = columns(amc)
    by_name["loyalty_tier"]["isCountryCode"] = True
    by_name["loyalty_tier"]["consentType"] = "GPP"
    assert set(diff(amc).differences) == {
        "column 'loyalty_tier': isCountryCode is true in AMC, false in the definition",
        "column 'loyalty_tier': consentType is GPP in AMC, not set in the definition",
    }


def test_another_dataset_id_is_a_difference():
    amc = as_amc_returns_it()
    amc["dataSetId"] = "other"
    assert diff(amc).differences == ("dataSetId is other in AMC, crm_customers in the definition",)


def test_column_only_in_amc_is_never_deleted():
    amc = as_amc_returns_it()
    amc["columns"].append(
        {"name": "legacy_segment", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    assert diff(amc).differences == (
        "column 'legacy_segment' exists in AMC but not in the definition "
        "(columns are never deleted; add it back to the definition)",
    )


def test_description_changes_are_notes_not_differences():
    amc = as_amc_returns_it()
    amc["description"] = "old text"
    columns(amc)["email"]["description"] = "old"
    result = diff(amc)
    assert result.is_compatible and result.is_identical
    assert result.notes == ("dataset description differs", "column 'email': description differs")
    assert result.format() == (
        "- dataset description differs\n- column 'email': description differs"
    )


def test_dimension_dataset_ignores_a_defaulted_period():
    defn = load_definition(DATASETS / "crm_customers_list.yaml")
    amc = as_amc_returns_it(defn)
    amc["period"] = "P1D"  # AMC may fill its default
    assert diff(amc, wanted=defn.create_body()).is_identical
