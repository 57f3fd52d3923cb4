"""Byte-buffer helpers: per-row sums and byte filters, including empty and trailing rows."""

import random

import numpy as np
import pyarrow as pa

from adu_pipeline.normalization.buffers import DIGITS, from_numpy, keep, row_sums, to_numpy


def test_row_sums_and_keep_match_python():
    rng = random.Random(3)
    for _ in range(500):
        values = [
            "".join(rng.choice("ab12 ") for _ in range(rng.choice([0, 0, 1, 3, 7])))
            for _ in range(rng.randint(0, 8))
        ]
        arr = pa.array(values, pa.string())
        data, offsets = to_numpy(arr)
        mask = DIGITS[data]
        assert row_sums(mask, offsets).tolist() == [sum(c.isdigit() for c in v) for v in values]
        assert from_numpy(*keep((data, offsets), mask)).to_pylist() == [
            "".join(c for c in v if c.isdigit()) for v in values
        ]


def test_to_numpy_respects_slices():
    arr = pa.array(["xx", "a1", "", "b22", "yy"]).slice(1, 3)
    data, offsets = to_numpy(arr)
    assert bytes(data) == b"a1b22" and offsets.tolist() == [0, 2, 2, 5]
    assert np.array_equal(row_sums(DIGITS[data], offsets), [1, 0, 2])
