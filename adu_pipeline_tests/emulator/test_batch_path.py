"""The batch path (models/screen.py) stores exactly what the row path stores, and a bad batch
still fails with the row path's message.

Each case runs the same upload through two emulators on the same S3 objects: one with the batch
path (the default), one reading every row through the row path (`batch_ingest=False`). Batches
are made small here (a few dozen rows) so an upload spans many of them and a doubt in the middle
of an object hands the rest of it to the row path.
"""

from __future__ import annotations

import gzip
import json
import random

import pytest

from adu_pipeline.emulator.config import EmulatorConfig, Timing
from adu_pipeline.emulator.models import batches
from adu_pipeline.emulator.models.matching import known_below
from adu_pipeline_tests.emulator.conftest import Api, sha, start_with, upload_body

ROWS = 400
BAD_ROW = 300  # a data row well past the first batches


def _dataset() -> dict:
    def column(name: str, data_type: str = "STRING", **extra) -> dict:
        kind = "METRIC" if data_type in ("DECIMAL", "INTEGER", "LONG") else "DIMENSION"
        return {"name": name, "columnType": kind, "dataType": data_type, **extra}

    def pii(name: str, kind: str) -> dict:
        return column(name, externalUserIdType={"hashedPii": kind})

    return {
        "dataSetId": "events",
        "period": "PT1H",
        "countryCode": "US",
        "columns": [
            column("order_id", nullable=False),
            column("event_time", "TIMESTAMP", isMainEventTime=True, nullable=False),
            pii("email", "EMAIL"),
            pii("email2", "EMAIL"),
            pii("phone", "PHONE"),
            pii("first_name", "FIRST_NAME"),
            pii("last_name", "LAST_NAME"),
            pii("address", "ADDRESS"),
            pii("zip", "ZIP"),
            column("maid", externalUserIdType={"externalIdentity": "MAID"}),
            column("ramp_id", externalUserIdType={"externalIdentity": "LIVERAMP"}),
            column("country", isCountryCode=True),
            column("note"),
            column("amount", "DECIMAL"),
            column("quantity", "INTEGER"),
            column("points", "LONG"),
            column("first_seen", "DATE"),
        ],
    }


def _rows(seed: int, count: int) -> list[dict]:
    """Random rows: nulls everywhere they are allowed, every identity kind, odd but valid values."""
    rng = random.Random(seed)

    def maybe(value: str, share: float = 0.25) -> str:
        return "" if rng.random() < share else value

    rows = []
    for i in range(count):
        hour = rng.randrange(0, 72)
        rows.append(
            {
                "order_id": f"o{i}",
                "event_time": f"2024-03-{1 + hour // 24:02d}T{hour % 24:02d}:{i % 60:02d}:07"
                + ("Z" if i % 5 else ".25Z"),
                "email": maybe(sha(f"p{rng.randrange(300)}@x.com")),
                "email2": maybe(sha(f"q{i}@y.com"), 0.7),
                "phone": maybe(sha(f"+1555{rng.randrange(10**7):07d}")),
                "first_name": maybe(sha(f"first{i % 90}")),
                "last_name": maybe(sha(f"last{i % 70}")),
                "address": maybe(sha(f"{i} main st")),
                "zip": maybe(sha(f"{90000 + i % 40}"), 0.5),
                "maid": maybe(f"6D92078A-8246-4BA4-AE5B-76104861E7D{i % 10}", 0.6),
                "ramp_id": maybe(rng.choice([f"XY{i}Ab", sha(f"r{i}").upper()]), 0.6),
                "country": maybe(rng.choice(["US", "DE", "GB", "FR"]), 0.4),
                "note": maybe(rng.choice(["plain", "caf\u00e9 cr\u00e8me", "tab\there", "x y"])),
                "amount": maybe(rng.choice(["12", "-0.5", "+7.25", "0012.10", "-0"])),
                "quantity": maybe(rng.choice(["0", "-2147483648", "2147483647", "+17", "007"])),
                "points": maybe(str(rng.randrange(-(10**17), 10**17))),
                "first_seen": maybe(rng.choice(["2020-02-29", "0999-12-31", "2024-01-01"])),
            }
        )
    return rows


def _csv(rows: list[dict], quoted: bool) -> bytes:
    header = list(rows[0])

    def field(value: str) -> str:
        return f'"{value}"' if quoted and value and not value[0].isdigit() else value

    lines = [",".join(f'"{h}"' if quoted else h for h in header)]
    lines += [",".join(field(r[h]) for h in header) for r in rows]
    return ("\r\n" if quoted else "\n").join(lines).encode() + b"\n"


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(batches, "READ_BYTES", 4096)
    monkeypatch.setattr(batches, "BATCH_BYTES", 8192)


@pytest.fixture
def both(emulator_factory, small_batches):
    """(batch-path Api, row-path Api), each with the events dataset."""
    apis = []
    for batch_ingest in (True, False):
        config = EmulatorConfig(timing=Timing(step_seconds=0.05), batch_ingest=batch_ingest)
        api = Api(start_with(emulator_factory, config))
        assert api.create_dataset(_dataset()).status_code == 200
        apis.append(api)
    yield apis
    for api in apis:
        api.http.close()


def _stored(api: Api) -> list[tuple]:
    rows = api.emulator.app.store.all(
        "SELECT partition, data, identities FROM rows WHERE instance_id=? ORDER BY id",
        (api.instance,),
    )
    return [(r["partition"], json.loads(r["data"]), json.loads(r["identities"])) for r in rows]


def _compact(api: Api) -> list[bool]:
    """Which stored rows the batch path wrote: its JSON has no spaces, json.dumps' has."""
    rows = api.emulator.app.store.all("SELECT data FROM rows ORDER BY id")
    return [", " not in r["data"] for r in rows]


def _both_upload(both, s3_client, s3_bucket, objects: dict[str, bytes], compression="NONE"):
    for key, body in objects.items():
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=body)
    body = upload_body(s3_bucket, prefix="in/", compression=compression, strategy="ADDITIVE")
    done = [api.upload_and_wait("events", body) for api in both]
    return done


def test_same_rows_identities_partitions_and_user_ids_through_both_paths(
    both, s3_client, s3_bucket
):
    objects = {
        "in/a.csv.gz": gzip.compress(_csv(_rows(1, ROWS), quoted=True)),
        "in/b.csv.gz": gzip.compress(_csv(_rows(2, ROWS), quoted=False))
        + gzip.compress(b""),  # a second (empty) gzip member
    }
    batch, rows = _both_upload(both, s3_client, s3_bucket, objects, "GZIP")
    assert batch["status"] == rows["status"] == "SUCCESS", (batch, rows)
    assert batch["metrics"] == rows["metrics"] == {"OutputRowCount": 2 * ROWS}
    stored = _stored(both[0])
    assert stored == _stored(both[1])
    assert all(_compact(both[0])) and not any(_compact(both[1]))  # each path did the work
    users = [data["user_id"] for _, data, _ in stored]
    assert 0 < sum(u is None for u in users) < len(users) / 2  # some rows resolve, not all
    assert len({p for p, _, _ in stored}) > 24  # hourly partitions over three days
    kinds = {key.split("|")[0] for _, _, identities in stored for key in identities}
    assert kinds == {"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "ZIP", "MAID",
                     "LIVERAMP"}  # fmt: skip


def test_without_a_default_country_rows_without_one_stay_unresolved_in_both(
    emulator_factory, small_batches, s3_client, s3_bucket
):
    dataset = {k: v for k, v in _dataset().items() if k != "countryCode"}
    apis = []
    for batch_ingest in (True, False):
        config = EmulatorConfig(timing=Timing(step_seconds=0.05), batch_ingest=batch_ingest)
        api = Api(start_with(emulator_factory, config))
        assert api.create_dataset(dataset).status_code == 200
        apis.append(api)
    s3_client.put_object(Bucket=s3_bucket, Key="in/a.csv", Body=_csv(_rows(3, ROWS), False))
    batch, rows = _both_upload(apis, s3_client, s3_bucket, {})
    assert batch["status"] == rows["status"] == "SUCCESS"
    stored = _stored(apis[0])
    assert stored == _stored(apis[1]) and all(_compact(apis[0]))
    assert all(data["user_id"] is None for _, data, _ in stored if data["country"] is None)


def _with(row: dict, **changes: str) -> dict:
    return {**row, **changes}


# (what is wrong with data row BAD_ROW, how the row is changed; None: a raw text edit instead)
BAD = {
    "hash not hex": {"email": "Z" * 64},
    "hash uppercase": {"phone": sha("x").upper()},
    "country lowercase": {"country": "us"},
    "impossible date": {"first_seen": "2023-02-29"},
    "year 0": {"first_seen": "0000-01-01"},
    "timestamp without Z": {"event_time": "2024-03-01T10:00:00"},
    "hour 24": {"event_time": "2024-03-01T24:00:00Z"},
    "integer out of range": {"quantity": "2147483648"},
    "integer with a dot": {"quantity": "3.0"},
    "null main event time": {"event_time": ""},
    "null in a non-nullable column": {"order_id": ""},
    "decimal text": {"amount": "12.5.1"},
}
# valid for the row path, but nothing the screen takes: the rest of the object goes row by row
ODD_BUT_VALID = {
    "decimal with exponent": {"amount": "1e3"},
    "decimal with three places": {"amount": "2.675"},
    "integer with spaces": {"quantity": " 42 "},
    "quoted comma": {"note": '"a, b"'},
    "doubled quote": {"note": '"say ""hi"""'},
    "escaped quote": {"note": 'back\\"slash'},
    "MAID with non-ASCII": {"maid": "\u00c9T\u00c9"},
}


@pytest.mark.parametrize("case", sorted(BAD) + sorted(ODD_BUT_VALID))
def test_a_doubtful_row_gets_the_row_paths_answer(both, s3_client, s3_bucket, case):
    rows = _rows(4, ROWS)
    rows[BAD_ROW - 1] = _with(rows[BAD_ROW - 1], **(BAD.get(case) or ODD_BUT_VALID[case]))
    batch, by_row = _both_upload(both, s3_client, s3_bucket, {"in/a.csv": _csv(rows, False)})
    assert (batch["status"], batch.get("message")) == (by_row["status"], by_row.get("message"))
    if case in BAD:
        assert batch["status"] == "FAILED"
        assert f"row {BAD_ROW} column " in batch["message"], batch["message"]
        assert _stored(both[0]) == [] == _stored(both[1])
    else:
        assert batch["status"] == "SUCCESS", batch.get("message")
        assert _stored(both[0]) == _stored(both[1])
        compact = _compact(both[0])
        assert compact[0] and not compact[-1]  # batches before the doubt, the row path after


RAW = {  # data row BAD_ROW starts with "o299" (quoted)
    "field count": lambda text: text.replace('\n"o299",', '\n"o299",extra,', 1),
    "empty line": lambda text: text.replace('\n"o299"', '\n\n"o299"', 1),
    "quote after a closing quote": lambda text: text.replace('\n"o299"', '\n"o2"99', 1),
    "unknown column": lambda text: text.replace("order_id", "order_no", 1),
    "user_id uploaded": lambda text: text.replace("order_id", "user_id", 1),
    "invalid UTF-8": None,
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_a_malformed_file_gets_the_row_paths_answer(both, s3_client, s3_bucket, case):
    text = _csv(_rows(5, ROWS), quoted=False).decode().replace("\no299", '\n"o299"', 1)
    if RAW[case] is None:
        data = text.encode().replace(b'\n"o299"', b'\n"o\xff299"', 1)
    else:
        data = RAW[case](text).encode()
    assert data != text.encode()
    batch, by_row = _both_upload(both, s3_client, s3_bucket, {"in/a.csv": data})
    assert (batch["status"], batch.get("message"), batch.get("metrics")) == (
        by_row["status"],
        by_row.get("message"),
        by_row.get("metrics"),
    )
    assert _stored(both[0]) == _stored(both[1])


@pytest.mark.parametrize("share", [0.0, 0.5, 0.55, 0.6, 0.7, 1 / 3, 1.0])
def test_known_below_is_the_fraction_rule_in_integers(share):
    below = known_below(share)
    assert not below / 2**64 < share
    assert below == 0 or (below - 1) / 2**64 < share
