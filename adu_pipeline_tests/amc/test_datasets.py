"""Dataset operations against the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from adu_pipeline.amc import (
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


def test_find_or_create_dataset_is_idempotent(client, hooks):
    body = load_definition(CRM_DEFINITION).create_body()
    first = client.find_or_create_dataset(body)
    assert first.created and first.diff.matches, first.diff.lines()
    second = client.find_or_create_dataset(body)
    assert not second.created and second.diff.matches, second.diff.lines()
    assert hooks.count("POST", "/dataSets") - hooks.count("POST", "/dataSets/list") == 1
    assert [d.dataset_id for d in client.list_datasets()] == ["crm_customers"]


def test_find_or_create_dataset_resolves_an_ambiguous_create(client, hooks):
    """A 500 on create (outcome unknown) is resolved by reading the dataset back."""
    body = small_dataset("ambiguous_ds")
    hooks.fail("/dataSets", 500, count=1, method="POST")
    with pytest.raises(AmcServerError):  # a create is never retried blindly after a 5xx
        client.create_dataset(body)
    assert client.find_dataset("ambiguous_ds") is None
    result = client.find_or_create_dataset(body)
    assert result.created and result.dataset.dataset_id == "ambiguous_ds"


def test_dataset_differences_report_changed_and_new_columns(client):
    client.create_dataset(small_dataset("diff_ds"))
    existing = client.get_dataset("diff_ds")
    wanted = small_dataset("diff_ds")
    wanted["dataSet"]["columns"][1]["dataType"] = "LONG"
    wanted["dataSet"]["columns"].append(
        {"name": "new_col", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    diff = dataset_differences(wanted, existing)
    assert not diff.matches
    lines = diff.lines()
    assert any("'tier' dataType" in line for line in lines)
    assert any("'new_col' is not in AMC" in line for line in lines)
    only_new = small_dataset("diff_ds")
    only_new["dataSet"]["columns"].append(
        {"name": "new_col", "dataType": "STRING", "columnType": "DIMENSION"}
    )
    assert dataset_differences(only_new, existing).only_addable_columns
