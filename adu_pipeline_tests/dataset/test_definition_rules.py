"""Each rule of the dataset definition validator: one bad file, one specific message."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from adu_pipeline.dataset import DefinitionError, load_definition
from adu_pipeline.errors import AduError

GOOD = {
    "id": "shop_customers",
    "description": "test dataset",
    "period": "P1D",
    "countryCode": "US",
    "columns": [
        {"name": "export_date", "dataType": "DATE", "columnType": "DIMENSION",
         "isMainEventTime": True, "nullable": False},
        {"name": "email", "source": "Email", "dataType": "STRING", "columnType": "DIMENSION",
         "hashedPii": "EMAIL"},
        {"name": "country_code", "source": "Country", "dataType": "STRING",
         "columnType": "DIMENSION", "isCountryCode": True},
        {"name": "spend", "source": "Spend", "dataType": "DECIMAL", "columnType": "METRIC"},
    ],
}  # fmt: skip


def write(tmp_path: Path, data: dict, name: str = "dataset.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, data: dict) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(write(tmp_path, data))
    return info.value.problems


def variant(**changes) -> dict:
    data = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def with_column(index: int, **changes) -> dict:
    data = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            data["columns"][index].pop(key, None)
        else:
            data["columns"][index][key] = value
    return data


def test_good_definition_loads(tmp_path):
    defn = load_definition(write(tmp_path, GOOD))
    assert defn.id == "shop_customers"
    assert defn.is_fact and defn.main_event_time.name == "export_date"
    assert defn.country_column.name == "country_code"
    assert defn.source_mapping() == {"Email": "email", "Country": "country_code", "Spend": "spend"}


def test_error_is_an_adu_error_naming_the_file_and_each_problem(tmp_path):
    data = with_column(1, dataType="LONG")
    data["id"] = "Bad-Id"
    path = write(tmp_path, data)
    with pytest.raises(AduError) as info:
        load_definition(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid dataset definition (2 problems): ")
    assert "id: 'Bad-Id' must match ^[a-z0-9_]+$" in message
    assert "columns[1].dataType: an identity column must be STRING, not LONG" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (variant(id=None), "id: required"),
        (variant(id="Customers"), "id: 'Customers' must match ^[a-z0-9_]+$"),
        (variant(id="crm customers"), "id: 'crm customers' must match ^[a-z0-9_]+$"),
        (variant(id="list"), "id: must not be 'list' (AMC reserves it for the list operation)"),
        (variant(id=42), "id: must be a string"),
        (variant(description="x" * 256), "description: has 256 characters; AMC allows at most 255"),
        (variant(columns=None), "columns: required"),
        (variant(columns=[]), "columns: must be a non-empty list"),
        (variant(period="P1W"), "period: 'P1W' must be one of PT1H, P1D, P1M"),
        (variant(countryCode="us"), "countryCode: 'us' must be an ISO-3166 alpha-2 code"),
        (variant(countryCode="USA"), "countryCode: 'USA' must be an ISO-3166 alpha-2 code"),
        (variant(countryCode="UK"), "countryCode: 'UK' is not ISO-3166: use 'GB'"),
        (variant(countryCode=False), "countryCode: must be a string (quote it"),
        (variant(countryCode="BR"), "countryCode: 'BR' has no PII normalization rules here"),
        (variant(tablename="x"), "unknown key 'tablename'"),
        (variant(country_code="US"), "unknown key 'country_code' (did you mean 'countryCode'?)"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_dataset_level_rules(tmp_path, data, expected):
    problems = problems_of(tmp_path, data)
    assert len(problems) == 1, problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_column(1, name=None), "columns[1].name: required"),
        (with_column(1, name="e-mail"), "columns[1].name: must start with a letter or '_'"),
        (with_column(1, name="user_id"), "columns[1].name: 'user_id' is reserved"),
        (with_column(1, dataType=None), "columns[1].dataType: required (one of STRING"),
        (with_column(1, dataType="TEXT"), "columns[1].dataType: 'TEXT' must be one of"),
        (
            with_column(3, columnType=None),
            "columns[3].columnType: required (one of DIMENSION, METRIC)",
        ),
        (with_column(3, columnType="MEASURE"), "columns[3].columnType: 'MEASURE' must be"),
        (with_column(1, hashedPii="SSN"), "columns[1].hashedPii: 'SSN' must be one of"),
        (
            with_column(1, hashedPii="COUNTRY_CODE"),
            "columns[1].hashedPii: COUNTRY_CODE is not supported",
        ),
        (
            with_column(1, externalIdentity="MAID"),
            "columns[1]: hashedPii and externalIdentity are mutually exclusive",
        ),
        (
            with_column(1, hashedPii=None, externalIdentity="UID2"),
            "columns[1].externalIdentity: 'UID2' must be one of",
        ),
        (
            with_column(1, dataType="LONG"),
            "columns[1].dataType: an identity column must be STRING, not LONG",
        ),
        (
            with_column(1, columnType="METRIC"),
            "columns[1].columnType: an identity column must be DIMENSION, not METRIC",
        ),
        (
            with_column(0, dataType="STRING"),
            "columns[0].dataType: the main event time must be DATE or TIMESTAMP, not STRING",
        ),
        (with_column(1, nullable="yes"), "columns[1].nullable: must be true or false"),
        (with_column(2, isCountryCode="true"), "columns[2].isCountryCode: must be true or false"),
        (
            with_column(2, dataType="INTEGER"),
            "columns[2].dataType: a country code column must be STRING",
        ),
        (
            with_column(1, isCountryCode=True),
            "columns[1]: a country code column cannot also be an identity column",
        ),
        (with_column(3, consentType="ACS"), "columns[3].consentType: 'ACS' must be one of"),
        (with_column(3, consentType="TCF"), "columns[3].dataType: a consent column must be STRING"),
        (with_column(1, source=None), "columns[1].source: required (the CRM export column"),
        (with_column(1, source="  "), "columns[1].source: must be a non-empty string"),
        (with_column(1, description=["x"]), "columns[1].description: must be a string"),
        (
            with_column(1, isMainUserId=True),
            "columns[1].isMainUserId: not allowed in an upload definition",
        ),
        (
            with_column(1, isMainUserIdType=True),
            "columns[1].isMainUserIdType: not allowed in an upload definition",
        ),
        (
            with_column(1, data_type="STRING"),
            "columns[1]: unknown key 'data_type' (did you mean 'dataType'?)",
        ),
        (with_column(1, requiresOneWayHashing=True), "columns[1]: unknown key"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_column_rules(tmp_path, data, expected):
    problems = problems_of(tmp_path, data)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def cross(extra_columns=(), **changes) -> dict:
    data = variant(**changes)
    data["columns"] = data["columns"] + list(extra_columns)
    return data


TCF = {"name": "tcf", "source": "TCF", "dataType": "STRING", "columnType": "DIMENSION",
       "consentType": "TCF"}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            cross(
                [{"name": "email", "source": "E2", "dataType": "STRING", "columnType": "DIMENSION"}]
            ),
            "columns[4].name: 'email' is also the name of columns[1]",
        ),
        (
            cross(
                [
                    {
                        "name": "email2",
                        "source": "Email",
                        "dataType": "STRING",
                        "columnType": "DIMENSION",
                    }
                ]
            ),
            "columns[4].source: 'Email' is also the source of columns[1]",
        ),
        (
            cross(
                [
                    {
                        "name": "ts",
                        "dataType": "TIMESTAMP",
                        "columnType": "DIMENSION",
                        "isMainEventTime": True,
                    }
                ]
            ),
            "columns[4].isMainEventTime: only one column may have isMainEventTime: true "
            "(columns[0]",
        ),
        (
            cross(
                [
                    {
                        "name": "country2",
                        "source": "C2",
                        "dataType": "STRING",
                        "columnType": "DIMENSION",
                        "isCountryCode": True,
                    }
                ]
            ),
            "columns[4].isCountryCode: only one column may have isCountryCode: true (columns[2]",
        ),
        (
            cross([TCF, {**TCF, "name": "tcf2", "source": "TCF2"}]),
            "columns[5].consentType: TCF is also used by columns[4]",
        ),
        (cross(period="PT1H"), "period: PT1H needs a TIMESTAMP main event time"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_cross_column_rules(tmp_path, data, expected):
    problems = problems_of(tmp_path, data)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_period_only_for_fact_datasets(tmp_path):
    data = copy.deepcopy(GOOD)
    data["columns"] = data["columns"][1:]  # drop the main event time: a DIMENSION dataset
    problems = problems_of(tmp_path, data)
    assert problems == [
        "period: only allowed for FACT datasets (a column with isMainEventTime: true); "
        "leave it out for a DIMENSION dataset"
    ]
    del data["period"]
    assert not load_definition(write(tmp_path, data)).is_fact


def test_main_event_time_is_the_only_column_that_may_omit_source(tmp_path):
    defn = load_definition(write(tmp_path, GOOD))
    assert defn.main_event_time.source is None
    assert "export_date" not in defn.source_mapping().values()


def test_country_code_needs_identity_columns(tmp_path):
    data = variant()
    data["columns"] = [c for c in data["columns"] if "hashedPii" not in c]
    data["columns"][1].pop("isCountryCode")
    assert problems_of(tmp_path, data) == [
        "countryCode: only allowed when the dataset has identity columns "
        "(hashedPii or externalIdentity)"
    ]


def test_at_most_100_columns(tmp_path):
    extra = [
        {"name": f"c{i}", "source": f"C{i}", "dataType": "STRING", "columnType": "DIMENSION"}
        for i in range(96)
    ]
    assert load_definition(write(tmp_path, cross(extra))).columns[-1].name == "c95"
    extra.append({"name": "c96", "source": "C96", "dataType": "STRING", "columnType": "DIMENSION"})
    assert problems_of(tmp_path, cross(extra)) == [
        "columns: has 101 entries; AMC allows at most 100"
    ]


def test_all_violations_are_reported_together(tmp_path):
    data = variant(id="list", period="P2D", surprise=1)
    data["columns"][1]["dataType"] = "LONG"
    data["columns"][3]["columnType"] = "SUM"
    problems = problems_of(tmp_path, data)
    assert len(problems) == 5
    assert any("unknown key 'surprise'" in p for p in problems)
    assert any(p.startswith("id: must not be 'list'") for p in problems)
    assert any(p.startswith("period: 'P2D'") for p in problems)
    assert any(p.startswith("columns[1].dataType:") for p in problems)
    assert any(p.startswith("columns[3].columnType:") for p in problems)


def test_unreadable_files_are_definition_errors(tmp_path):
    with pytest.raises(DefinitionError, match="file not found"):
        load_definition(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ncolumns: [\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"YAML syntax error at line \d+"):
        load_definition(bad)
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="must hold a YAML mapping"):
        load_definition(bad)
    bad.write_text("id: a\nid: b\ncolumns: []\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="duplicate key 'id'"):
        load_definition(bad)
