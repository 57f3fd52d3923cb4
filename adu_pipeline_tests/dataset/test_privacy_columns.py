"""Consent and external identity columns in a definition: `pipeline.require_consent_for`, and a
dataset whose only identities are external ids is valid and hashes (nothing to hash) end to end."""

from __future__ import annotations

import copy

import pyarrow.parquet as pq
import pytest

from adu_pipeline.dataset import DefinitionError, parse_definition
from adu_pipeline.dataset.regions import EEA_COUNTRIES, EU_COUNTRIES
from adu_pipeline.dataset.schema import arrow_to_frame
from adu_pipeline.hashing import HashPlan, hash_file
from adu_pipeline_tests.dataset.test_definition_rules import GOOD

TCF = {"name": "tcf", "source": "TCF", "dataType": "STRING", "columnType": "DIMENSION",
       "consentType": "TCF"}  # fmt: skip
MAID = {"name": "maid", "source": "MAID", "dataType": "STRING", "columnType": "DIMENSION",
        "externalIdentity": "MAID"}  # fmt: skip
RAMP = {"name": "ramp_id", "source": "RampID", "dataType": "STRING", "columnType": "DIMENSION",
        "externalIdentity": "LIVERAMP"}  # fmt: skip


def definition(require=None, columns_extra=(TCF,), **top):
    data = copy.deepcopy(GOOD)
    data["columns"] = [*data["columns"], *copy.deepcopy(list(columns_extra))]
    if require is not None:
        data["pipeline"] = {"require_consent_for": require}
    data.update(top)
    return data


def problems(data) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    return info.value.problems


def test_require_consent_for_expands_regions():
    defn = parse_definition(definition(["EU", "GB"]))
    assert defn.pipeline.require_consent_for == ("EU", "GB")
    assert defn.consent_required_countries == EU_COUNTRIES | {"GB"}
    assert len(EU_COUNTRIES) == 27
    assert EEA_COUNTRIES.difference(EU_COUNTRIES) == {"IS", "LI", "NO"}
    assert parse_definition(definition(["EEA"])).consent_required_countries == EEA_COUNTRIES
    assert parse_definition(definition()).consent_required_countries == frozenset()
    assert [c.name for c in parse_definition(definition()).consent_columns] == ["tcf"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (definition(["UK"]), "'UK' is not ISO-3166"),
        (definition(["Europe"]), "regions EU and EEA only"),
        (definition([False]), "quote country codes"),
        (definition(["GB"], columns_extra=()), "needs at least one column with a consentType"),
    ],
)
def test_require_consent_for_problems(data, expected):
    found = problems(data)
    assert any(expected in p and "require_consent_for" in p for p in found), found


def test_require_consent_needs_a_country():
    data = definition(["GB"], countryCode=None)
    data["columns"] = [c for c in data["columns"] if not c.get("isCountryCode")]
    assert any("needs the row country" in p for p in problems(data))


def test_a_dataset_with_only_external_identities_loads_and_hashes(tmp_path):
    data = {
        "id": "device_ids",
        "countryCode": "US",
        "columns": [copy.deepcopy(MAID), copy.deepcopy(RAMP),
                    {"name": "segment", "source": "Segment", "dataType": "STRING",
                     "columnType": "DIMENSION"}],
    }  # fmt: skip
    defn = parse_definition(data)
    assert defn.pii_columns == () and [c.name for c in defn.external_identity_columns] == [
        "maid",
        "ramp_id",
    ]
    columns = defn.create_body()["dataSet"]["columns"]
    assert columns[0]["externalUserIdType"] == {"externalIdentity": "MAID"}
    source = tmp_path / "in.csv"
    source.write_text(
        "MAID,RampID,Segment\n"
        "38400000-8cf0-11bd-b23e-10b96e40000d,XY1005wXyWPB1SgpMUKIpzA0I3UaLEz-2lg0wFAr1PWK7FMhs,a\n"
        ",,b\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.parquet"
    summary = hash_file(source, out, HashPlan.from_definition(defn))
    assert summary.rows_out == 2
    table = pq.read_table(out)
    assert table.column("maid").to_pylist()[0] == "38400000-8cf0-11bd-b23e-10b96e40000d"
    assert defn.validate_output(arrow_to_frame(table))["valid"]
