"""data/instances.yaml: the shipped file, and one message per problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from adu_pipeline.dataset import DefinitionError, load_instances

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "instances.yaml"
US = {"key": "us", "region": "NA", "instance_id": "amcus01", "account_id": "ENTITY1",
      "marketplace_id": "ATVPDKIKX0DER", "dsp_advertisers": ["5838912345678"]}  # fmt: skip
EU = {**US, "key": "eu", "region": "EU", "instance_id": "amceu01"}


def write(tmp_path: Path, instances) -> Path:
    path = tmp_path / "instances.yaml"
    path.write_text(yaml.safe_dump({"instances": instances}, sort_keys=False), encoding="utf-8")
    return path


def problems(tmp_path: Path, instances) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_instances(write(tmp_path, instances))
    return info.value.problems


def test_shipped_instances():
    us, eu = load_instances(SHIPPED)
    assert (us.key, us.region, us.instance_id, us.dsp_advertisers) == (
        "us", "NA", "amcemulator01", ("5838912345678",),
    )  # fmt: skip
    assert (eu.key, eu.region, eu.marketplace_id, eu.dsp_advertisers) == (
        "eu", "EU", "A1F83G8C2ARO7P", ("5838912349999",),
    )  # fmt: skip
    assert us.account_id == "ENTITY1AMCEMULATOR" and us.description == "US instance"


def test_numeric_advertisers_and_optional_fields(tmp_path):
    raw = {k: v for k, v in US.items() if k != "dsp_advertisers"}
    (bare,) = load_instances(write(tmp_path, [raw]))
    assert bare.dsp_advertisers == () and bare.description == ""
    (numeric,) = load_instances(write(tmp_path, [{**US, "dsp_advertisers": [5838912345678]}]))
    assert numeric.dsp_advertisers == ("5838912345678",)


@pytest.mark.parametrize(
    ("instances", "expected"),
    [
        ([{**US, "key": "US-1"}], "instances[0].key: must be lowercase letters, digits and '_'"),
        ([{**US, "region": "APAC"}], "instances[0].region: 'APAC' must be one of NA, EU, FE"),
        ([{**US, "instance_id": "amc 01"}], "instances[0].instance_id: must be letters, digits"),
        ([{k: v for k, v in US.items() if k != "account_id"}], "instances[0].account_id: required"),
        ([US, {**EU, "key": "us"}], "instances[1].key: 'us' is also the key of instances[0]"),
        (
            [US, {**EU, "instance_id": "amcus01"}],
            "instances[1].instance_id: 'amcus01' is also the instance_id of instances[0]",
        ),
        ([], "instances: must list at least one instance"),
        ([{**US, "advertiser": "1"}], "instances[0]: unknown key 'advertiser'"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_has_one_message(tmp_path, instances, expected):
    found = problems(tmp_path, instances)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_every_problem_at_once(tmp_path):
    found = problems(tmp_path, [{**US, "key": "Bad"}, {**EU, "region": "XX", "marketplace_id": 3}])
    assert [p.split(":")[0] for p in found] == [
        "instances[0].key", "instances[1].region", "instances[1].marketplace_id",
    ]  # fmt: skip


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DefinitionError, match="file not found") as info:
        load_instances(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(info.value)


def test_a_top_level_list_is_refused(tmp_path):
    path = tmp_path / "instances.yaml"
    path.write_text(yaml.safe_dump([copy.deepcopy(US)]), encoding="utf-8")
    with pytest.raises(DefinitionError, match="must hold a YAML mapping"):
        load_instances(path)
