"""Every compressionFormat and file format the spec lists is served: real files through moto."""

from __future__ import annotations

import bz2
import io
import json
import zipfile

import pyarrow as pa
import pytest

from adu_pipeline_tests.emulator.conftest import (
    crm_dataset,
    csv_bytes,
    customer_rows,
    gz,
    jsonl_bytes,
    parquet_bytes,
    upload_body,
)

# --- snappy files as writers make them (python-snappy's framing format, Hadoop's codec) ---------


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def snappy_framed(data: bytes, chunk: int = 65536) -> bytes:
    """The snappy framing format: stream identifier, then compressed chunks with masked CRCs."""
    codec = pa.Codec("snappy")
    out = bytearray(b"\xff\x06\x00\x00sNaPpY")
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        crc = _crc32c(piece)
        masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
        body = masked.to_bytes(4, "little") + codec.compress(piece, asbytes=True)
        out += b"\x00" + len(body).to_bytes(3, "little") + body
    return bytes(out)


def snappy_hadoop(data: bytes, block: int = 100_000) -> bytes:
    """Hadoop's SnappyCodec stream: per block, its length, then one length-prefixed chunk."""
    codec = pa.Codec("snappy")
    out = bytearray()
    for start in range(0, len(data), block):
        piece = data[start : start + block]
        packed = codec.compress(piece, asbytes=True)
        out += len(piece).to_bytes(4, "big") + len(packed).to_bytes(4, "big") + packed
    return bytes(out)


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


ROWS = customer_rows(40)
CSV = csv_bytes(ROWS)
HALF = len(CSV) // 2  # mid-row: the members join into one stream
CSV_FMT = {"csvDataFormat": {}}
JSONL_FMT = {"jsonDataFormat": "LINES"}
DOC_FMT = {"jsonDataFormat": "DOCUMENT"}
PARQUET_FMT = {"parquetDataFormat": "PARQUET_DATA_FORMAT"}

SERVED = {
    "csv none": (CSV, CSV_FMT, "NONE", 40),
    "csv gzip": (gz(CSV), CSV_FMT, "GZIP", 40),
    "csv gzip multi-member": (gz(CSV[:HALF]) + gz(CSV[HALF:]), CSV_FMT, "GZIP", 40),
    "csv bzip": (bz2.compress(CSV), CSV_FMT, "BZIP", 40),
    "csv snappy framed": (snappy_framed(CSV, chunk=1000), CSV_FMT, "SNAPPY", 40),
    "csv snappy hadoop": (snappy_hadoop(CSV, block=1500), CSV_FMT, "SNAPPY", 40),
    "csv zip two members": (
        zipped(("a.csv", csv_bytes(ROWS[:15])), ("b.csv", csv_bytes(ROWS[15:]))),
        CSV_FMT,
        "ZIP",
        40,
    ),
    "json lines bzip": (bz2.compress(jsonl_bytes(ROWS)), JSONL_FMT, "BZIP", 40),
    "json document array": (json.dumps(ROWS, indent=2).encode(), DOC_FMT, "NONE", 40),
    "json document objects": (
        gz("\n".join(json.dumps(r, indent=1) for r in ROWS).encode()),
        DOC_FMT,
        "GZIP",
        40,
    ),
    "json document one object": (json.dumps(ROWS[0]).encode(), DOC_FMT, "NONE", 1),
    "parquet none": (parquet_bytes(ROWS), PARQUET_FMT, "NONE", 40),
    "parquet declared snappy": (parquet_bytes(ROWS), PARQUET_FMT, "SNAPPY", 40),
    "parquet gzipped": (gz(parquet_bytes(ROWS)), PARQUET_FMT, "GZIP", 40),
    "parquet zipped": (zipped(("p.parquet", parquet_bytes(ROWS))), PARQUET_FMT, "ZIP", 40),
}


@pytest.mark.parametrize("case", sorted(SERVED))
def test_every_listed_compression_and_format_is_served(api, s3_client, s3_bucket, case):
    data, fmt, compression, expected = SERVED[case]
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="in/file", Body=data)
    body = upload_body(s3_bucket, key="in/file", fmt=fmt, compression=compression)
    upload = api.upload_and_wait("crm_customers", body)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"] == {"OutputRowCount": expected}
    assert upload["compressionFormat"] == compression
    stored = api.stored_rows("crm_customers")
    assert sorted(r["loyalty_tier"] for r in stored) == sorted(
        r["loyalty_tier"] for r in ROWS[:expected]
    )


def _with_delimiters(rows: list[dict], field: str, record: str) -> bytes:
    header = list(rows[0])
    lines = [field.join(header)] + [field.join(str(r[h]) for h in header) for r in rows]
    return (record.join(lines) + record).encode()


@pytest.mark.parametrize(
    ("field", "record"),
    [("||", "\n"), ("\t", "\n"), ("<sep>", "\r\n"), (",", "|\n"), ("::", "\u0001")],
)
def test_any_field_and_record_delimiter(api, s3_client, s3_bucket, field, record):
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="d.csv", Body=_with_delimiters(ROWS, field, record))
    options = {"fieldDelimiter": field, "recordDelimiter": record}
    body = upload_body(s3_bucket, key="d.csv", fmt={"csvDataFormat": options})
    upload = api.upload_and_wait("crm_customers", body)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"]["OutputRowCount"] == 40
    stored = api.stored_rows("crm_customers")
    assert [r["lifetime_value"] for r in stored] == [f"{i % 500}.25" for i in range(40)]


def test_multi_character_delimiter_with_quotes_and_comments(api, s3_client, s3_bucket):
    api.create_dataset(crm_dataset())
    header = "||".join(ROWS[0])
    first = ROWS[0] | {"loyalty_tier": '"gold || ""vip""\nline2"'}
    lines = [
        "# a comment line",
        header,
        "||".join(str(v) for v in first.values()),
        "# another",
        "||".join(str(v) for v in ROWS[1].values()),
    ]
    s3_client.put_object(Bucket=s3_bucket, Key="q.csv", Body="\n".join(lines).encode())
    options = {"fieldDelimiter": "||", "commentCharacter": "#", "quoteEscapeCharacter": '"'}
    body = upload_body(s3_bucket, key="q.csv", fmt={"csvDataFormat": options})
    upload = api.upload_and_wait("crm_customers", body)
    assert upload["status"] == "SUCCESS", upload.get("message")
    assert upload["metrics"]["OutputRowCount"] == 2
    tiers = [r["loyalty_tier"] for r in api.stored_rows("crm_customers")]
    assert tiers == ['gold || "vip"\nline2', ROWS[1]["loyalty_tier"]]


WRONG = {
    "bzip declared, plain": (CSV, CSV_FMT, "BZIP", "not BZIP2-compressed"),
    "zip declared, plain": (CSV, CSV_FMT, "ZIP", "not a ZIP archive"),
    "snappy declared, plain": (CSV, CSV_FMT, "SNAPPY", "corrupt SNAPPY"),
    "bzip truncated": (bz2.compress(CSV)[:-20], CSV_FMT, "BZIP", "corrupt BZIP"),
    "gzip truncated": (gz(CSV)[:-30], CSV_FMT, "GZIP", "corrupt GZIP"),
    "none declared, bzip2": (bz2.compress(CSV), CSV_FMT, "NONE", "BZIP2-compressed but"),
    "json document not closed": (
        b"[" + json.dumps(ROWS[0]).encode(),
        DOC_FMT,
        "NONE",
        "not closed",
    ),
    "json document of numbers": (b"[1, 2]", DOC_FMT, "NONE", "must be a JSON object"),
    "parquet that is not": (b"PAR0 nothing", PARQUET_FMT, "NONE", "not a Parquet file"),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_or_corrupt_files_fail_in_one_line(api, s3_client, s3_bucket, case):
    data, fmt, compression, expected = WRONG[case]
    api.create_dataset(crm_dataset())
    s3_client.put_object(Bucket=s3_bucket, Key="w/file", Body=data)
    body = upload_body(s3_bucket, key="w/file", fmt=fmt, compression=compression)
    upload = api.upload_and_wait("crm_customers", body)
    assert upload["status"] == "FAILED"
    assert expected in upload["message"], upload["message"]
    assert "\n" not in upload["message"] and f"s3://{s3_bucket}/w/file" in upload["message"]
    assert api.stored_rows("crm_customers") == []
