"""RowChecks: what the hashing engine runs per batch for consent and external ids."""

from __future__ import annotations

import copy

import pyarrow as pa

from adu_pipeline.dataset import parse_definition
from adu_pipeline.privacy.row_checks import RowChecks
from adu_pipeline_tests.dataset.test_definition_rules import GOOD
from adu_pipeline_tests.privacy.test_consent import REFERENCE

COLUMNS = [
    {"name": "tcf", "source": "TCF", "dataType": "STRING", "columnType": "DIMENSION",
     "consentType": "TCF"},
    {"name": "ad_storage", "source": "Ads", "dataType": "STRING", "columnType": "DIMENSION",
     "consentType": "AMZN_AD_STORAGE"},
    {"name": "maid", "source": "MAID", "dataType": "STRING", "columnType": "DIMENSION",
     "externalIdentity": "MAID"},
]  # fmt: skip
UUID = "38400000-8cf0-11bd-b23e-10b96e40000d"


def checks(require=("EU", "GB")) -> RowChecks:
    data = copy.deepcopy(GOOD)
    data["columns"] += copy.deepcopy(COLUMNS)
    data["pipeline"] = {"require_consent_for": list(require)}
    return RowChecks.from_definition(parse_definition(data))


def test_reasons_per_row_first_failing_column_wins():
    rc = checks()
    assert rc.columns == ("tcf", "ad_storage", "maid")
    columns = {
        "tcf": pa.array([REFERENCE, "bad", None, None, None, "bad", None]),
        "ad_storage": pa.array([None, "GRANTED", "granted", "maybe", None, None, None]),
        "maid": pa.array([UUID, UUID, "nope", None, None, None, None]),
    }
    countries = pa.array(["DE", "US", "FR", "US", "GB", "US", "US"])
    result = rc.apply(columns, countries)
    assert result.reasons.to_pylist() == [
        None,
        "tcf:consent_malformed_tcf",
        "maid:external_id_malformed_maid",
        "ad_storage:consent_invalid_flag",
        "tcf:consent_missing",  # GB row without any consent value
        "tcf:consent_malformed_tcf",
        None,  # US: consent not required
    ]
    assert result.reject.to_pylist() == [r is not None for r in result.reasons.to_pylist()]
    assert result.rejected == 5
    assert result.values["ad_storage"].to_pylist()[:3] == [None, "GRANTED", "GRANTED"]
    assert result.values["maid"].to_pylist()[0] == UUID


def test_dataset_country_when_no_row_countries():
    rc = checks(require=("US",))
    columns = {"tcf": pa.array([None, REFERENCE]), "ad_storage": pa.array([None, None]),
               "maid": pa.array([None, None])}  # fmt: skip
    assert rc.apply(columns).reasons.to_pylist() == ["tcf:consent_missing", None]  # countryCode US
    assert checks(require=()).apply(columns).rejected == 0
