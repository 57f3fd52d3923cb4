"""The simulated identity resolution: deterministic, documented shares, waterfall, stable ids."""

from __future__ import annotations

from adu_pipeline.emulator.config import MatchShares
from adu_pipeline.emulator.models.matching import IdentityColumns, resolve, user_id_for
from adu_pipeline_tests.emulator.conftest import (
    crm_dataset,
    csv_bytes,
    customer_rows,
    sha,
    upload_body,
)

COLUMNS = crm_dataset()["columns"]
IDENTITY = IdentityColumns.of(COLUMNS)
SHARES = MatchShares()


def _share(kind: str, n: int = 20_000) -> float:
    only = {"email": "email", "phone": "phone"}[kind]
    hits = sum(
        resolve({only: sha(f"{kind}{i}")}, IDENTITY, SHARES, True)[0] is not None for i in range(n)
    )
    return hits / n


def test_documented_default_shares():
    assert (SHARES.email, SHARES.phone, SHARES.name_address) == (0.70, 0.60, 0.50)
    assert abs(_share("email") - 0.70) < 0.015
    assert abs(_share("phone") - 0.60) < 0.015
    rows = [
        {"first_name": sha(f"f{i}"), "last_name": sha(f"l{i}"), "address": sha(f"a{i}")}
        for i in range(20_000)
    ]
    hits = sum(resolve(r, IDENTITY, SHARES, True)[0] is not None for r in rows)
    assert abs(hits / len(rows) - 0.50) < 0.015


def test_same_identifier_same_user_and_deterministic():
    row = {"email": sha("jane@example.com")}
    first = resolve(row, IDENTITY, SHARES, True)
    assert first == resolve(dict(row), IdentityColumns.of(COLUMNS), MatchShares(), True)
    matched = next(
        sha(f"m{i}@x.com")
        for i in range(100)
        if resolve({"email": sha(f"m{i}@x.com")}, IDENTITY, SHARES, True)[0]
    )
    uid, kind = resolve({"email": matched, "loyalty_tier": "gold"}, IDENTITY, SHARES, True)
    assert uid == user_id_for("email", matched) and kind == "adUserId"
    assert resolve({"email": matched, "phone": sha("1")}, IDENTITY, SHARES, True)[0] == uid


def test_waterfall_falls_back_to_phone_then_name_address():
    emails = [sha(f"w{i}@x.com") for i in range(200)]
    unmatched_email = next(
        e for e in emails if resolve({"email": e}, IDENTITY, SHARES, True)[0] is None
    )
    phones = [sha(f"+1555{i}") for i in range(200)]
    matched_phone = next(p for p in phones if resolve({"phone": p}, IDENTITY, SHARES, True)[0])
    uid, _ = resolve({"email": unmatched_email, "phone": matched_phone}, IDENTITY, SHARES, True)
    assert uid == user_id_for("phone", matched_phone)
    unmatched_phone = next(
        p for p in phones if not resolve({"phone": p}, IDENTITY, SHARES, True)[0]
    )
    tuple_row = {"email": unmatched_email, "phone": unmatched_phone}
    for i in range(200):
        parts = {"first_name": sha(f"f{i}"), "last_name": sha(f"l{i}"), "address": sha(f"a{i}")}
        uid, _ = resolve({**tuple_row, **parts}, IDENTITY, SHARES, True)
        if uid:
            key = "|".join([parts["first_name"], parts["last_name"], parts["address"]])
            assert uid == user_id_for("name_address", key)
            break
    else:
        raise AssertionError("no name+address tuple matched in 200 tries")


def test_no_country_no_match_and_shares_configurable():
    row = {"email": sha("someone@x.com")}
    assert resolve(row, IDENTITY, SHARES, has_country=False) == (None, None)
    everyone = MatchShares(email=1.0, phone=1.0, name_address=1.0, external_id=1.0)
    nobody = MatchShares(email=0.0, phone=0.0, name_address=0.0, external_id=0.0)
    assert resolve(row, IDENTITY, everyone, True)[0] is not None
    assert resolve(row, IDENTITY, nobody, True)[0] is None


def test_uploads_resolve_identically_across_datasets(api, s3_client, s3_bucket):
    rows = customer_rows(300)
    known = next(
        i for i, r in enumerate(rows) if resolve({"email": r["email"]}, IDENTITY, SHARES, True)[0]
    )
    rows[known + 1]["email"] = rows[known]["email"]  # the same (matched) person twice
    s3_client.put_object(Bucket=s3_bucket, Key="m.csv", Body=csv_bytes(rows))
    for ds in ("first_copy", "second_copy"):
        api.create_dataset(crm_dataset(ds))
        upload = api.upload_and_wait(ds, upload_body(s3_bucket, key="m.csv"))
        assert upload["status"] == "SUCCESS", upload.get("message")
    first = [r["user_id"] for r in api.stored_rows("first_copy")]
    second = [r["user_id"] for r in api.stored_rows("second_copy")]
    assert first == second
    expected = [resolve(r, IDENTITY, SHARES, True)[0] for r in rows]
    assert first == expected
    assert first[known] == first[known + 1] == user_id_for("email", rows[known]["email"])
    assert 0.85 < sum(u is not None for u in first) / len(first) < 1.0


def test_dataset_without_country_stays_unresolved(api, s3_client, s3_bucket):
    body = crm_dataset("no_country")
    del body["countryCode"]
    api.create_dataset(body)
    s3_client.put_object(Bucket=s3_bucket, Key="n.csv", Body=csv_bytes(customer_rows(50)))
    upload = api.upload_and_wait("no_country", upload_body(s3_bucket, key="n.csv"))
    assert upload["status"] == "SUCCESS"
    assert all(r["user_id"] is None for r in api.stored_rows("no_country"))
    with_country = api.upload_and_wait(
        "no_country", upload_body(s3_bucket, key="n.csv", countryCode="US")
    )
    assert with_country["countryCode"] == "US"
    assert any(r["user_id"] for r in api.stored_rows("no_country"))
