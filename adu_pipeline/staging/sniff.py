"""A look at an export's header line, to turn "no column 'Email'" into the likely fix.

Only the first line is read: column names, never a row of customer data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

CANDIDATES = (",", ";", "\t", "|")
NAMES = {",": "','", ";": "';'", "\t": "tab ('\\t')", "|": "'|'"}
HEADER_BYTES = 64 * 1024


def header_line(path: Path, encoding: str = "utf-8") -> str | None:
    """The first line of a CSV export (gzip or plain), or None for other formats."""
    name = path.name.lower()
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        return None
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.readline(HEADER_BYTES)
    except OSError:
        return None
    return raw.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")


def likely_delimiter(header: str) -> str | None:
    """The candidate that splits the header into the most fields (None if nothing splits it)."""
    counts = {d: header.count(d) for d in CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def delimiter_hint(path: Path, configured: str, encoding: str = "utf-8") -> str:
    """'' or a sentence naming the delimiter the header seems to use, when it is not the
    configured one (appended to a missing-column error)."""
    header = header_line(path, encoding)
    if header is None:
        return ""
    found = likely_delimiter(header)
    if found is None or found == configured:
        return ""
    return (
        f" (the header line looks {NAMES[found]}-delimited, but the dataset reads "
        f"{NAMES.get(configured, repr(configured))}: set `pipeline.delimiter` in its definition)"
    )
