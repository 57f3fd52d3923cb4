"""DuckDB's sha256 over Arrow equals hashlib, keeps nulls and row order."""

import hashlib
import os

import pyarrow as pa

from adu_pipeline.normalization.sha256 import sha256_hex


def test_sha256_matches_hashlib_on_awkward_strings():
    values = ["abc@example.com", "a\x00b", "é", "\U0001f600", "", "x" * 10_000, None]
    expected = [None if v is None else hashlib.sha256(v.encode()).hexdigest() for v in values]
    assert sha256_hex(pa.array(values)).to_pylist() == expected
    assert expected[0] == "9eceb13483d7f187ec014fd6d4854d1420cfc634328af85f51d0323ba8622e21"


def test_sha256_keeps_row_order_on_large_input():
    values = [f"value-{i}" for i in range(300_000)]
    hashes = sha256_hex(pa.array(values))
    assert hashes.type == pa.string() and len(hashes) == len(values)
    for i in range(0, len(values), 7919):
        assert hashes[i].as_py() == hashlib.sha256(values[i].encode()).hexdigest()


def test_duckdb_uses_one_thread_inside_a_worker_thread():
    from concurrent.futures import ThreadPoolExecutor

    from adu_pipeline.normalization.sha256 import hash_threads

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(hash_threads, {}).result() == 1
    assert hash_threads({}) == min(2, os.cpu_count() or 1)
    assert hash_threads({"ADU_HASH_THREADS": "3"}) == 3
