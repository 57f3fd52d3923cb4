"""Segment SQL bound locally in DuckDB over the datasets' AMC columns before AMC sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adu_pipeline.dataset import load_catalog
from adu_pipeline.dataset.sql_check import sql_problems

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(
        REPO_DATA / "datasets", REPO_DATA / "segments", REPO_DATA / "instances.yaml"
    )


def test_the_shipped_segments_bind(catalog):
    for segment in catalog.segments.values():
        assert catalog.check_segment(segment) == [], segment.key


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT user_id FROM crm_customers WHERE loyalty_teir = 'GOLD'", "loyalty_teir"),
        ("SELECT user_id FROM crm_customer", "crm_customer does not exist"),
        ("SELECT c.user_id FROM crm_customers c JOIN offline_conversions o ON c.nope = o.user_id",
         "nope"),
    ],
)  # fmt: skip
def test_a_misspelt_name_is_a_problem_naming_it(catalog, sql, expected):
    datasets = {d: catalog.datasets[d] for d in ("crm_customers", "offline_conversions")}
    [problem] = sql_problems(sql, datasets)
    assert problem.startswith("sql: ") and expected in problem


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT user_id FROM crm_customers WHERE amc_only_function(user_id) > 0",
        "SELECT DISTINCT user_id FROM crm_customers WHERE lifetime_value > 100;",
    ],
)
def test_amc_functions_duckdb_lacks_and_valid_sql_pass(catalog, sql):
    assert sql_problems(sql, {"crm_customers": catalog.datasets["crm_customers"]}) == []
