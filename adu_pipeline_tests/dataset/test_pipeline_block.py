"""The `pipeline:` block of a dataset definition: defaults, each rule, never sent to AMC."""

from __future__ import annotations

import copy

import pytest

from adu_pipeline.dataset import DefinitionError, parse_definition
from adu_pipeline_tests.dataset.test_definition_rules import GOOD


def with_pipeline(pipeline: dict | None, fact: bool = True) -> dict:
    data = copy.deepcopy(GOOD)
    if pipeline is not None:
        data["pipeline"] = pipeline
    if not fact:
        data["columns"] = data["columns"][1:]
        del data["period"]
    return data


def problems(data: dict) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    return info.value.problems


def test_defaults():
    defn = parse_definition(with_pipeline(None))
    options = defn.pipeline
    assert (options.landing, options.encoding, options.delimiter) == (
        "shop_customers",
        "utf-8",
        ",",
    )
    assert (options.instances, options.update_strategy, options.s3_prefix) == ((), None, None)
    assert defn.update_strategy == "OVERLAP_REPLACE"
    assert parse_definition(with_pipeline(None, fact=False)).update_strategy == "FULL_REPLACE"
    assert parse_definition(with_pipeline({"landing": None})).pipeline.landing == "shop_customers"


def test_every_key_is_kept():
    pipeline = {
        "landing": "crm_export",
        "encoding": "cp1252",
        "delimiter": ";",
        "instances": ["us", "eu"],
        "update_strategy": "ADDITIVE",
        "s3_prefix": "adu/x",
    }
    defn = parse_definition(with_pipeline(pipeline))
    assert defn.pipeline.model_dump() == {
        **pipeline,
        "instances": ("us", "eu"),
        "require_consent_for": (),  # needs a consent column: test_privacy_columns.py
    }
    assert defn.update_strategy == "ADDITIVE"
    assert "pipeline" not in defn.create_body()["dataSet"]


@pytest.mark.parametrize(
    ("pipeline", "fact", "expected"),
    [
        ({"landing": "crm export"}, True, "pipeline.landing: must hold only letters, digits"),
        ({"encoding": "utf-99"}, True, "pipeline.encoding: is not an encoding Python knows"),
        ({"delimiter": ";;"}, True, "pipeline.delimiter: must be exactly one character"),
        ({"delimiter": ""}, True, "pipeline.delimiter: must be exactly one character"),
        ({"instances": ["US"]}, True, "pipeline.instances: instance keys are lowercase"),
        ({"instances": ["us", "us"]}, True, "pipeline.instances: names an instance more than once"),
        ({"instances": "us"}, True, "pipeline.instances: must be a list"),
        ({"update_strategy": "REPLACE"}, True, "pipeline.update_strategy: 'REPLACE' must be one"),
        (
            {"update_strategy": "OVERLAP_REPLACE"},
            False,
            "pipeline.update_strategy: OVERLAP_REPLACE is only valid for FACT datasets",
        ),
        (
            {"update_strategy": "OVERLAP_KEEP"},
            False,
            "pipeline.update_strategy: OVERLAP_KEEP is only valid for FACT datasets",
        ),
        ({"s3_prefix": "my prefix"}, True, "pipeline.s3_prefix: must be a non-empty S3 key"),
        ({"landing_dir": "x"}, True, "pipeline: unknown key 'landing_dir' (did you mean"),
        ("crm_export", True, "pipeline: must be a mapping"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_has_one_message(pipeline, fact, expected):
    found = problems(with_pipeline(pipeline, fact))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_dimension_datasets_may_replace_in_full_or_add():
    for strategy in ("FULL_REPLACE", "ADDITIVE"):
        defn = parse_definition(with_pipeline({"update_strategy": strategy}, fact=False))
        assert defn.update_strategy == strategy


def test_several_problems_in_one_file_are_reported_together():
    data = with_pipeline({"delimiter": "||", "instances": ["EU"], "encoding": "nope"})
    data["id"] = "Shop"
    data["columns"][1]["dataType"] = "TEXT"
    data["columns"].append(dict(data["columns"][3]))  # a second 'spend': a cross-column rule
    found = problems(data)
    assert sorted(p.split(":")[0] for p in found) == [
        "columns[1].dataType", "columns[4].name", "columns[4].source", "id",
        "pipeline.delimiter", "pipeline.encoding", "pipeline.instances",
    ]  # fmt: skip


def test_long_values_are_not_echoed():
    secret = "x" * 200
    found = problems(with_pipeline({"update_strategy": secret}))
    assert secret not in " ".join(found) and "str must be one of" in found[0]
