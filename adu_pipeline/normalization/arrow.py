"""Arrow arrays and scalars built from buffers, so that `adu hash` never imports pandas.

pyarrow imports pandas (about 0.9 CPU-seconds) the first time it converts a Python object:
pa.array of a list or of a numpy array, pa.scalar, or a Python literal handed to a compute
function (pc.equal(x, ""), pc.fill_null(x, False)); and Array.to_numpy() always does. These
constructors go through `Array.from_buffers` and `as_numpy` reads the buffers back; pass their
scalars to compute functions in place of literals.
"""

from collections.abc import Iterable
from functools import cache

import numpy as np
import pyarrow as pa


def bools(mask: np.ndarray) -> pa.BooleanArray:
    """A null-free boolean array of a numpy mask."""
    mask = np.asarray(mask, dtype=bool)
    bits = pa.py_buffer(np.packbits(mask, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, bits])


def int64s(values: np.ndarray) -> pa.Int64Array:
    """A null-free int64 array of numpy integers (no copy when already int64, contiguous)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def strings(values: Iterable[str | None]) -> pa.StringArray:
    """A string array of Python strings, None as null (for small lists: tables, labels)."""
    values = list(values)
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    validity = None
    if any(v is None for v in values):
        validity = pa.py_buffer(
            np.packbits(np.array([v is not None for v in values]), bitorder="little")
        )
    return pa.Array.from_buffers(
        pa.string(), len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def labels(values: np.ndarray, valid: np.ndarray) -> pa.StringArray:
    """Per row the string in `values` (a numpy array of str) where `valid`, else null:
    distinct labels are encoded once, then spread by index."""
    picked = np.asarray(values)[valid].astype(str)
    distinct, index = np.unique(picked, return_inverse=True)
    out = np.full(len(valid), -1, dtype=np.int64)
    out[valid] = index
    indices = pa.Array.from_buffers(
        pa.int64(),
        len(out),
        [pa.py_buffer(np.packbits(valid, bitorder="little")), pa.py_buffer(out)],
    )
    return strings(distinct.tolist()).take(indices)


def as_numpy(values: pa.Array, fill: bool | int | None = None) -> np.ndarray:
    """A boolean or integer array as numpy (read from its buffers); nulls become `fill`,
    which is required when there are nulls."""
    n, start = len(values), values.offset
    validity, data = values.buffers()[:2]
    if pa.types.is_boolean(values.type):
        if n == 0:
            return np.zeros(0, dtype=bool)
        bits = np.frombuffer(data, dtype=np.uint8)
        out = np.unpackbits(bits, count=start + n, bitorder="little")[start:].view(bool)
    elif pa.types.is_integer(values.type):
        kind = "i" if pa.types.is_signed_integer(values.type) else "u"
        dtype = np.dtype(f"{kind}{values.type.bit_width // 8}")
        if n == 0:
            return np.zeros(0, dtype=dtype)
        out = np.frombuffer(data, dtype=dtype)[start : start + n]
    else:
        raise TypeError(f"as_numpy reads boolean and integer arrays, not {values.type}")
    if values.null_count:
        if fill is None:
            raise ValueError("as_numpy: the array has nulls and no fill value was given")
        present = np.unpackbits(
            np.frombuffer(validity, dtype=np.uint8), count=start + n, bitorder="little"
        )[start:].view(bool)
        out = np.where(present, out, fill).astype(out.dtype)
    return out


@cache
def string(value: str | None) -> pa.StringScalar:
    """A string scalar (None: the null string)."""
    return strings([value])[0]


@cache
def boolean(value: bool) -> pa.BooleanScalar:
    return bools(np.array([value]))[0]


@cache
def int64(value: int) -> pa.Int64Scalar:
    return int64s(np.array([value]))[0]


NULL_STRING = string(None)
