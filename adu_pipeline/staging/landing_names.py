"""Why a file in the landing folder is not read: one sentence a person can act on.

The landing name rule lives in `landing.parse_landing_name`; this module only explains a name
that fails it (or names a stem no dataset reads), so no file is ignored silently.
"""

from __future__ import annotations

import re
from datetime import date

from adu_pipeline.staging.landing import EXTENSIONS, landing_name, parse_landing_name

_COMPACT_DATE = re.compile(r"^(?P<stem>.+?)_(?P<date>\d{8})(?P<ext>\..+)$")
_DASHED_DATE = re.compile(r"^(?P<stem>.+?)_(?P<date>\d{4}-\d{2}-\d{2})(?P<ext>\..+)$")
_ANY_EXT = re.compile(r"(\.csv\.gz|\.[A-Za-z0-9]+(\.gz)?)$", re.IGNORECASE)
READ = ", ".join(EXTENSIONS)


def unusable_reason(name: str, stems: set[str]) -> str | None:
    """None when a dataset reads this file name; else why not, with the name that would work."""
    parsed = parse_landing_name(name)
    expected = " or ".join(f"{s}_YYYY-MM-DD.csv" for s in sorted(stems)) or "no dataset"
    if parsed is not None:
        stem, day = parsed
        if stem in stems:
            return None
        same_case = [s for s in stems if s.lower() == stem.lower()]
        if same_case:
            suggestion = landing_name(same_case[0], day, name[len(stem) + 11 :])
            return f"names are case-sensitive: rename it to {suggestion}"
        return f"no dataset reads the stem {stem!r} (expected {expected})"
    ext = _ANY_EXT.search(name)
    extension = ext.group(0) if ext else ""
    if extension and extension.lower() in EXTENSIONS and extension != extension.lower():
        fixed = name[: -len(extension)] + extension.lower()
        again = unusable_reason(fixed, stems)
        return f"the extension must be lower case: rename it to {fixed}" + (
            f"; then {again}" if again else ""
        )
    if extension.lower() not in EXTENSIONS:
        shown = extension or "(none)"
        return f"extension {shown} is not read: use one of {READ} (expected {expected})"
    compact = _COMPACT_DATE.match(name)
    if compact:
        raw = compact.group("date")
        try:
            day = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            return f"{raw} is not a date: the name needs YYYY-MM-DD (expected {expected})"
        fixed = landing_name(compact.group("stem"), day, compact.group("ext"))
        return f"the date must be written YYYY-MM-DD: rename it to {fixed}"
    dashed = _DASHED_DATE.match(name)
    if dashed:
        return f"{dashed.group('date')} is not a valid date (expected {expected})"
    return f"the name has no _YYYY-MM-DD date before the extension (expected {expected})"
