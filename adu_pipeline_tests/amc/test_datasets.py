"""Dataset operations against the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from adu_pipeline.amc import (
    AmcApiError,
    AmcDatasetConflict,
    AmcNotFoundError,
    AmcServerError,
    AmcValidationError,
    dataset_differences,
)
from adu_pipeline.dataset import load_definition

REPO = Path(__file__).resolve().parents[2]
CRM_DEFINITION = REPO / "data" / "datasets" / "crm_customers.yaml"


def small_dataset(dataset_id: str, **extra) -> dict:
    return {
        "dataSet": {
            "dataSetId": dataset_id,
            "description": "test dataset",
            "columns": [
                {
                    "name": "email",
                    "dataType": "STRING",
                    "columnType": "DIMENSION",
                    "externalUserIdType": {"hashedPii": "EMAIL"},
                },
                {"name": "tier", "dataType": "STRING", "columnType": "DIMENSION"},
            ],
            **extra,
        }
    }


def test_create_get_update_add_column_delete(client):
    assert client.create_dataset(small_dataset("customers_a")) == "customers_a"
    ds = client.get_dataset("customers_a")
    assert ds.dataset_id == "customers_a"
    assert {"email", "tier"} <= set(ds.column_names)
    updated = client.update_dataset("customers_a", description="new words")
    assert updated.description == "new words"
    grown = client.add_column(
        "customers_a",
        {"name": "score", "dataType": "LONG", "columnType": "METRIC", "nullable": True},
    )
    assert "score" in grown.column_names
    assert "score" in client.get_dataset("customers_a").column_names
    client.delete_dataset("customers_a")
    with pytest.raises(AmcNotFoundError) as info:
        client.get_dataset("customers_a")
    assert info.value.status == 404 and info.value.request_id
    assert client.find_dataset("customers_a") is None


def test_list_follows_next_token_across_pages(client, hooks):
    for i in range(5):
        client.create_dataset(small_dataset(f"paged_{i}"))
    before = hooks.count("POST", "/dataSets/list")
    names = [d.dataset_id for d in client.list_datasets(page_size=2)]
    assert sorted(names) == [f"paged_{i}" for i in range(5)]
    assert hooks.count("POST", "/dataSets/list") - before == 3  # 2 + 2 + 1


def test_validation_error_carries_details_and_errors(client):
    bad = small_dataset("Bad Id!")
    bad["dataSet"]["columns"][1]["dataType"] = "TEXT"
    with pytest.raises(AmcValidationError) as info:
        client.create_dataset(bad)
    err = info.value
    assert err.status == 400
    assert err.code and err.request_id
    assert err.details or err.errors
    assert str(err).startswith("AMC 400 ")
    assert "(requestId " in str(err)


def test_duplicate_create_is_a_validation_error(client):
    client.create_dataset(small_dataset("dup_ds"))
    with pytest.raises(AmcValidationError):
        client.create_dataset(small_dataset("dup_ds"))


def test_ensure_dataset_is_idempotent(client, hooks):
    body = load_definition(CRM_DEFINITION).create_body()
    first = client.ensure_dataset(body)
    assert first.action == "created" and first.diff.is_identical, first.diff.format()
    second = client.ensure_dataset(body)
    assert second.action == "unchanged" and second.diff.is_identical, second.diff.format()
    assert second.columns_added == ()
    assert hooks.count("POST", "/dataSets") - hooks.count("POST", "/dataSets/list") == 1
    assert [d.dataset_id for d in client.list_datasets()] == ["crm_customers"]


def test_ensure_dataset_resolves_an_ambiguous_create(client, hooks):
    """A 500 on create (outcome unknown) is resolved by reading the dataset back."""
    body = small_dataset("ambiguous_ds")
    hooks.fail("/dataSets", 500, count=1, method="POST")
    with pytest.raises(AmcServerError):  # a create is never retried blindly after a 5xx
        client.create_dataset(body)
    assert client.find_dataset("ambiguous_ds") is None
    hooks.fail("/dataSets", 500, count=1, method="POST")
    result = client.ensure_dataset(body)
    assert result.action == "created" and result.dataset.dataset_id == "ambiguous_ds"
    creates = hooks.count("POST", "/dataSets") - hooks.count("POST", "/dataSets/list")
    assert creates == 3  # the plain create, then ensure's 500 and one create after looking


def test_ensure_dataset_adds_new_nullable_columns(client, hooks):
    client.create_dataset(small_dataset("grow_ds"))
    wanted = small_dataset("grow_ds")
    wanted["dataSet"]["columns"].append(
        {"name": "score", "dataType": "LONG", "columnType": "METRIC", "nullable": True}
    )
    kept = client.ensure_dataset(wanted, add_columns=False)
    assert kept.action == "unchanged" and kept.diff.addable_names == ("score",)
    assert "score" not in client.get_dataset("grow_ds").column_names
    grown = client.ensure_dataset(wanted)
    assert grown.action == "updated" and grown.columns_added == ("score",)
    assert "score" in grown.dataset.column_names
    assert client.ensure_dataset(wanted).action == "unchanged"
    assert hooks.count("POST", "/dataSets/grow_ds/columns") == 1


def test_ensure_dataset_refuses_any_other_difference_listing_each(client, hooks):
    client.create_dataset(small_dataset("drift_ds"))
    wanted = small_dataset("drift_ds", countryCode="US")
    wanted["dataSet"]["columns"][1]["dataType"] = "LONG"
    wanted["dataSet"]["columns"].append(
        {"name": "new_col", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    with pytest.raises(AmcDatasetConflict) as info:
        client.ensure_dataset(wanted)
    conflict = info.value
    assert set(conflict.diff.differences) == {
        "countryCode is not set in AMC, US in the definition",
        "column 'tier': dataType is STRING in AMC, LONG in the definition",
    }
    assert str(conflict).startswith("dataset drift_ds exists in AMC and differs")
    for line in conflict.diff.differences:
        assert line in str(conflict)
    assert not isinstance(conflict, AmcApiError)  # nothing to retry: a person decides
    assert hooks.count("POST", "/dataSets/drift_ds/columns") == 0  # nothing changed
    assert "new_col" not in client.get_dataset("drift_ds").column_names


def test_dataset_differences_against_a_real_get_dataset(client):
    client.create_dataset(small_dataset("diff_ds"))
    existing = client.get_dataset("diff_ds")
    assert dataset_differences(small_dataset("diff_ds"), existing).is_identical
    wanted = small_dataset("diff_ds", description="new words")
    wanted["dataSet"]["columns"].append(
        {"name": "new_col", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    diff = dataset_differences(wanted, existing)
    assert diff.is_compatible and not diff.is_identical
    assert diff.addable_names == ("new_col",)
    assert diff.notes == ("dataset description differs",)
