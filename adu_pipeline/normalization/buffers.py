"""Byte-level work on Arrow string buffers with numpy: the fast path for ASCII-dominated data.

A string column is (data: uint8 bytes, offsets: int64, starting at 0). Filters, case tables and
per-row sums run over the whole buffer at once instead of value by value. Multi-byte UTF-8
characters are never split: every byte-level rule here only inspects or changes ASCII bytes.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Strings = tuple[np.ndarray, np.ndarray]  # (data uint8, offsets int64)

_BYTES = np.arange(256, dtype=np.uint8)
UPPER = np.where((_BYTES >= 97) & (_BYTES <= 122), _BYTES - 32, _BYTES).astype(np.uint8)


def byte_class(chars: str) -> np.ndarray:
    """A 256-entry boolean table that is True for the given ASCII characters."""
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars.encode("ascii"), dtype=np.uint8)] = True
    return table


DIGITS = byte_class("0123456789")
LETTERS = byte_class("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
LOWER_ALNUM = byte_class("abcdefghijklmnopqrstuvwxyz0123456789")
ALNUM = DIGITS | LETTERS


def to_numpy(values: pa.Array) -> Strings:
    """Zero-copy view of a null-free string array's bytes and offsets (rebased to 0)."""
    wide = pa.types.is_large_string(values.type)
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[values.offset : values.offset + len(values) + 1].astype(np.int64)
    if data_buf is None or len(values) == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(len(values) + 1, dtype=np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data, offsets - offsets[0]


def from_numpy(data: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """A string array over the given bytes and offsets."""
    n = len(offsets) - 1
    if offsets[-1] >= 2**31:
        return pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(data)
        )
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )


def lengths(offsets: np.ndarray) -> np.ndarray:
    return np.diff(offsets)


def row_sums(flags: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per row, how many bytes are flagged (reduceat: no per-byte running total)."""
    n = len(offsets) - 1
    sums = np.zeros(n, dtype=np.int64)
    # Rows starting before the end of the buffer form a prefix; the rest are empty.
    k = int(np.searchsorted(offsets[:-1], len(flags), side="left"))
    if k:
        sums[:k] = np.add.reduceat(flags, offsets[:k], dtype=np.int64)
        sums[:k][np.diff(offsets[: k + 1]) == 0] = 0
    return sums


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values, as np.unique gives them; np.unique without options imports
    numpy.ma (about 0.04 CPU-seconds of start-up) to check for a masked array."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def keep(strings: Strings, mask: np.ndarray) -> Strings:
    """Drop the bytes where mask is False."""
    data, offsets = strings
    if mask.all():  # common for clean columns: no copy, no per-row sums
        return data, offsets
    kept = row_sums(mask, offsets)
    return data[mask], np.concatenate(([0], np.cumsum(kept)))


def position_in_row(offsets: np.ndarray) -> np.ndarray:
    """Each byte's index inside its own value."""
    total = int(offsets[-1])
    return np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1], np.diff(offsets))


def truncate(strings: Strings, max_bytes: int) -> Strings:
    """Keep the first max_bytes bytes of each value."""
    return keep(strings, position_in_row(strings[1]) < max_bytes)


def on_subset(values: pa.Array, mask: pa.Array, transform) -> pa.Array:
    """Apply an Arrow transform to the rows where mask is True only (e.g. non-ASCII rows)."""
    if not pc.any(mask).as_py():
        return values
    changed = transform(pc.filter(values, mask))
    return pc.replace_with_mask(values, mask, changed.cast(values.type))
