"""Read bit fields of many base64url strings at once (TCF and GPP encode their fields that way).

Each row is a base64url string (6 bits per character, no padding); a field is `width` bits at a
per-row bit position. Every read also says, per row, whether the field lies inside the string,
so a truncated value is a malformed one, never a read past its end into the next row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SIXBITS = np.full(256, 255, dtype=np.uint8)
SIXBITS[np.frombuffer(_ALPHABET, dtype=np.uint8)] = np.arange(64, dtype=np.uint8)
MAX_WIDTH = 36  # the widest TCF field (a deciseconds timestamp)


class Base64Bits:
    """The 6-bit values of a string array's characters, addressed per row by bit position.

    `lengths` (characters per row) limits each row to a prefix, e.g. the first '.' segment.
    Characters are translated only where a field is read; callers check the alphabet first.
    """

    def __init__(self, strings: pa.Array, lengths: np.ndarray | None = None) -> None:
        if not pa.types.is_string(strings.type):
            strings = strings.cast(pa.string())
        n = len(strings)
        _, offsets_buf, data_buf = strings.buffers()
        first = strings.offset
        offsets = np.frombuffer(offsets_buf, dtype=np.int32)[first : first + n + 1]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0)
        self.data = data if len(data) else np.zeros(1, dtype=np.uint8)
        self.starts = offsets[:-1].astype(np.int64)
        chars = (offsets[1:] - offsets[:-1]).astype(np.int64)
        if lengths is not None:
            chars = np.minimum(chars, lengths)
        self.nbits = chars * 6
        self._last = len(self.data) - 1

    def __len__(self) -> int:
        return len(self.starts)

    def read(self, rows: np.ndarray, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(value, inside) of the `width`-bit field at bit `pos` of each row in `rows`."""
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"width must be 1..{MAX_WIDTH}")
        pos = np.asarray(pos, dtype=np.int64)
        first = self.starts[rows] + pos // 6
        skip = pos % 6
        chars = (5 + width) // 6 + 1
        acc = np.zeros(len(rows), dtype=np.uint64)
        for k in range(chars):
            index = np.minimum(first + k, self._last)
            six = SIXBITS[self.data[index]].astype(np.uint64) & np.uint64(63)
            acc = (acc << np.uint64(6)) | six
        shift = (chars * 6 - skip - width).astype(np.uint64)
        value = (acc >> shift) & np.uint64((1 << width) - 1)
        inside = pos + width <= self.nbits[rows]
        return value.astype(np.int64), inside
