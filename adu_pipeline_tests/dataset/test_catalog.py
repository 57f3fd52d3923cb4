"""The catalog: the shipped project loads; every cross-file rule, all problems in one error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from adu_pipeline.dataset import Catalog, DefinitionError, load_catalog, load_segment

DATA = Path(__file__).resolve().parents[2] / "data"
SEGMENT = {"name": "adu s", "advertiser_id": "5838912345678", "relative_days": 30,
           "sql": "SELECT user_id FROM crm_customers"}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped data/ folder (datasets, segments, instances.yaml)."""
    for name in ("datasets", "segments"):
        shutil.copytree(DATA / name, tmp_path / name)
    shutil.copy(DATA / "instances.yaml", tmp_path / "instances.yaml")
    return tmp_path


def load(root: Path, segments: bool = True) -> Catalog:
    return load_catalog(root / "datasets", root / "segments" if segments else None,
                        root / "instances.yaml")  # fmt: skip


def problems(root: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load(root)
    return info.value.problems


def write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def edit(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    write(path, data)


def test_the_shipped_project():
    catalog = load(DATA)
    assert list(catalog.datasets) == ["crm_customers", "crm_customers_list", "offline_conversions"]
    assert list(catalog.instances) == ["us", "eu"] and catalog.default_instance == "us"
    assert catalog.dataset_instances("crm_customers") == ("us", "eu")
    assert catalog.dataset_instances("offline_conversions") == ("us",)
    assert set(catalog.segments) == {
        "eu_loyal_customers", "gold_customers", "loyal_customers", "recent_buyers",
    }  # fmt: skip
    assert catalog.segment_instance("eu_loyal_customers") == "eu"
    assert catalog.segment_datasets("recent_buyers") == ("offline_conversions",)
    assert catalog.segment_datasets("gold_customers") == ("crm_customers",)  # not ..._list
    assert catalog.datasets["crm_customers_list"].pipeline.landing == "crm_export"


def test_defaults_first_instance_and_no_segments_folder(project):
    edit(project / "datasets" / "offline_conversions.yaml", pipeline={})
    shutil.rmtree(project / "segments")
    catalog = load(project)
    assert catalog.segments == {}
    assert catalog.dataset_instances("offline_conversions") == ("us",)
    assert load(project, segments=False).segments == {}


def test_segment_without_instance_runs_in_the_first(project):
    write(project / "segments" / "plain.yaml", SEGMENT)
    catalog = load(project)
    assert catalog.segments["plain"].instance is None
    assert catalog.segment_instance("plain") == "us"


def test_unknown_instance_of_a_dataset_and_of_a_segment(project):
    edit(project / "datasets" / "crm_customers_list.yaml", pipeline={"instances": ["us", "jp"]})
    write(project / "segments" / "far.yaml", {**SEGMENT, "instance": "fe"})
    assert problems(project) == [
        "datasets/crm_customers_list.yaml: pipeline.instances: jp not in the instances file "
        "(known: us, eu)",
        "segments/far.yaml: instance: 'fe' is not in the instances file (known: us, eu)",
    ]


def test_bad_instance_key(project):
    write(project / "segments" / "bad.yaml", {**SEGMENT, "instance": "EU"})
    (found,) = problems(project)
    assert found.startswith("segments/bad.yaml: instance: must be an instance key")


def test_advertiser_not_linked_to_the_instance(project):
    write(project / "segments" / "wrong_adv.yaml", {**SEGMENT, "instance": "eu"})
    assert problems(project) == [
        "segments/wrong_adv.yaml: advertiser_id: 5838912345678 is not a DSP advertiser linked "
        "to instance eu (linked: 5838912349999)"
    ]
    text = (project / "instances.yaml").read_text(encoding="utf-8")
    (project / "instances.yaml").write_text(
        text.replace('dsp_advertisers: ["5838912349999"]', "dsp_advertisers: []"), encoding="utf-8"
    )
    assert load(project).segment_instance("wrong_adv") == "eu"  # an empty list checks nothing


def test_segment_reading_an_unknown_dataset_or_one_not_in_its_instance(project):
    write(project / "segments" / "other.yaml", {**SEGMENT, "sql": "SELECT user_id FROM orders"})
    write(project / "segments" / "eu_buyers.yaml", {
        **SEGMENT, "name": "adu eu buyers", "instance": "eu", "advertiser_id": "5838912349999",
        "sql": "SELECT user_id FROM offline_conversions",
    })  # fmt: skip
    assert problems(project) == [
        "segments/eu_buyers.yaml: sql: reads offline_conversions, which is not uploaded to "
        "instance eu (it goes to us)",
        "segments/other.yaml: sql: reads none of the datasets crm_customers, crm_customers_list, "
        "offline_conversions",
    ]


def test_audience_names_are_unique_per_instance(project):
    loyal = yaml.safe_load((project / "segments" / "loyal_customers.yaml").read_text())
    write(project / "segments" / "copy_in_eu.yaml",
          {**loyal, "instance": "eu", "advertiser_id": "5838912349999"})  # fmt: skip
    load(project)  # the same name in another instance is another audience
    write(project / "segments" / "copy_in_us.yaml", {**loyal, "instance": None})
    assert problems(project) == [
        "segments/loyal_customers.yaml: audience name 'adu loyal customers' is also used by "
        "copy_in_us in instance us (audiences are matched by name)"
    ]


def test_duplicate_dataset_ids(project):
    shutil.copy(project / "datasets" / "crm_customers.yaml", project / "datasets" / "z.yaml")
    assert problems(project) == [
        "datasets/z.yaml: id: 'crm_customers' is also the id of datasets/crm_customers.yaml"
    ]


def test_every_problem_of_every_file_at_once(project):
    edit(project / "datasets" / "crm_customers.yaml", period="P1W", pipeline={"delimiter": ""})
    write(project / "segments" / "bad.yaml", {**SEGMENT, "refresh_days": 99, "instance": "nope"})
    (project / "instances.yaml").write_text("instances:\n  - key: us\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load(project)
    found = info.value.problems
    assert str(info.value).startswith(f"{project}: invalid project definitions ({len(found)} ")
    labels = [p.split(": ")[0] for p in found]
    assert labels.count(str(project / "instances.yaml")) == 4  # region, 3 ids missing
    assert "datasets/crm_customers.yaml" in labels and "segments/bad.yaml" in labels
    assert any("pipeline.delimiter" in p for p in found) and any("period" in p for p in found)
    assert any("refresh_days" in p for p in found)


def test_missing_instances_file_and_datasets_folder(tmp_path):
    with pytest.raises(DefinitionError) as info:
        load(tmp_path)
    assert info.value.problems == [
        f"{tmp_path / 'instances.yaml'}: file not found",
        f"{tmp_path / 'datasets'}: dataset folder not found",
    ]


def test_segment_checks_for_segments_read_later(project):
    """The Dagster layer reads segment files at each tick and checks them against the catalog."""
    catalog = load(project, segments=False)
    path = project / "segments" / "later.yaml"
    write(path, {**SEGMENT, "instance": "eu"})
    segment = load_segment(path)
    assert catalog.segment_instance_of(segment) == "eu"
    assert catalog.segment_datasets_of(segment) == ("crm_customers",)
    assert catalog.check_segment(segment) == [
        "advertiser_id: 5838912345678 is not a DSP advertiser linked to instance eu "
        "(linked: 5838912349999)"
    ]
