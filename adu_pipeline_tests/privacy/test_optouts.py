"""Opt-out files -> hashes with the pipeline's normalizer -> the append-only store -> the mask."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from adu_pipeline.dataset import load_definition
from adu_pipeline.errors import InputError
from adu_pipeline.normalization import PiiType, hash_pii
from adu_pipeline.privacy.optouts import is_optout_file, read_optout_file
from adu_pipeline.privacy.store import (
    OptOutList,
    OptOutStore,
    deletion_identities,
    optout_columns,
)

CRM = Path(__file__).resolve().parents[2] / "data" / "datasets" / "crm_customers.yaml"
RAW_EMAIL = "  Jane.Doe+News@Example.COM "
RAW_PHONE = "(206) 555-0142"
OPTOUTS = (
    "Email,phone,hashed_email,hashed_phone,country\n"
    f"{RAW_EMAIL},{RAW_PHONE},,,US\n"
    f",020 7946 0018,,,UK\n"  # a GB national number
    f",,{'A' * 64},,\n"  # upper-case hex is accepted, written lower-case
    "not-an-email,,,,US\n"
    ",12,,,US\n"
    ",,xyz,,\n"
    ",,,,\n"
    f"{RAW_EMAIL},,,,DE\n"  # the same person again
)


def email_hash(value: str) -> str:
    return hash_pii(pa.array([value]), PiiType.EMAIL, "US").hashes[0].as_py()


def phone_hash(value: str, country: str) -> str:
    return hash_pii(pa.array([value]), PiiType.PHONE, country).hashes[0].as_py()


@pytest.fixture
def optout_file(tmp_path):
    path = tmp_path / "optouts_2026-12-01.csv"
    path.write_text(OPTOUTS, encoding="utf-8")
    return path


def test_file_names():
    assert is_optout_file("optouts_2026-12-01.csv") and is_optout_file("optouts_2026-12-01.csv.gz")
    assert not is_optout_file("optouts_2026-13-01.csv")
    assert not is_optout_file("crm_export_2026-12-01.csv")
    assert not is_optout_file("optouts_2026-12-01.parquet")


def test_rows_become_the_pipelines_hashes_and_every_row_is_counted(optout_file):
    result = read_optout_file(optout_file)
    assert result.rows_in == 8
    assert result.rows_accepted == 4
    assert result.rejected == {
        "invalid_email": 1,
        "invalid_phone": 1,
        "invalid_hash": 1,
        "no_identifier": 1,
    }
    assert result.rows_in == result.rows_accepted + result.rows_rejected
    ids = result.identities
    got = set(zip(ids["hashed_type"].to_pylist(), ids["sha256"].to_pylist(), strict=True))
    assert got == {
        ("EMAIL", email_hash(RAW_EMAIL)),
        ("PHONE", phone_hash(RAW_PHONE, "US")),
        ("PHONE", phone_hash("020 7946 0018", "GB")),
        ("EMAIL", "a" * 64),
    }
    flat = result.to_dict()
    assert flat["identities"] == 4 and flat["rejected.no_identifier"] == 1
    assert RAW_EMAIL.strip().lower() not in repr(result) and "jane" not in str(flat).lower()


def test_a_phone_without_any_country_is_rejected_with_that_reason(tmp_path):
    path = tmp_path / "optouts_2026-12-01.csv"
    path.write_text("phone\n2065550142\n", encoding="utf-8")
    assert read_optout_file(path).rejected == {"country_missing": 1}
    assert read_optout_file(path, default_country="US").rows_accepted == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,jane@example.com\nx,y\n", "column name(s) this format does not know"),
        ("country\nUS\n", "no identifier column"),
    ],
)
def test_bad_headers_are_one_line_without_values(tmp_path, text, message):
    path = tmp_path / "optouts_2026-12-01.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_optout_file(path)
    assert message in str(err.value) and "jane" not in str(err.value)


def test_store_is_append_only_idempotent_and_holds_no_raw_value(tmp_path, optout_file):
    store = OptOutStore.in_output_dir(tmp_path / "output")
    first = store.ingest(optout_file)
    assert not first.already_ingested and first.identities_added == 4
    again = store.ingest(optout_file)
    assert again.already_ingested and again.identities_added == 0 and again.summary is None
    renamed = optout_file.with_name("optouts_2026-12-02.csv")
    renamed.write_bytes(optout_file.read_bytes())
    assert store.ingest(renamed).already_ingested  # same content, other name
    later = tmp_path / "optouts_2026-12-03.csv"
    later.write_text(f"email\n{RAW_EMAIL}\nsomeone@example.org\n", encoding="utf-8")
    third = store.ingest(later)
    assert third.identities_added == 1  # only the new person
    assert store.identities().num_rows == 5
    from_third = store.identities(source_sha256=third.content_sha256)
    assert from_third.column("sha256").to_pylist() == [email_hash("someone@example.org")]
    files = store.files()
    assert [f["source_file"] for f in files] == [optout_file.name, later.name]
    assert files[0]["rows_in"] == 8 and files[0]["identities_added"] == 4
    data = store.path.read_bytes()
    for raw in ("jane", "Jane", "example.com", "7946", "555"):
        assert raw.encode() not in data


def test_mask_marks_rows_with_any_listed_hash(tmp_path, optout_file):
    store = OptOutStore.in_output_dir(tmp_path)
    store.ingest(optout_file)
    listed = store.optout_list()
    assert len(listed) == 4
    jane = email_hash(RAW_EMAIL)
    phone = phone_hash(RAW_PHONE, "US")
    other = "b" * 64
    hashed = {
        "email": pa.array([jane, other, None, other, None]),
        "phone": pa.chunked_array([[None, phone, None], [other, None]]),
        "first_name": pa.array([other, jane, jane, other, None]),  # a FIRST_NAME never matches
    }
    types = {"email": "EMAIL", "phone": "PHONE", "first_name": "FIRST_NAME"}
    assert listed.mask(hashed, types).to_pylist() == [True, True, False, False, False]
    empty = OptOutList.from_identities(store.identities().slice(0, 0))
    assert empty.mask(hashed, types).to_pylist() == [False] * 5


def test_definition_columns_and_deletion_identities(tmp_path, optout_file):
    assert optout_columns(load_definition(CRM)) == {"email": "EMAIL", "phone": "PHONE"}
    store = OptOutStore.in_output_dir(tmp_path)
    store.ingest(optout_file)
    identities = deletion_identities(store.identities())
    assert len(identities) == 4
    assert {"hashedIdentity": {"EMAIL": email_hash(RAW_EMAIL)}} in identities
