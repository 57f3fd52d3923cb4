"""Characters whose Python and Arrow (RE2/utf8proc) Unicode behaviour differ, per field.

The column functions use Arrow's case mappings and RE2 classes; Python's (the reference) can
differ for a few hundred exotic characters (special-case upper casing like 'ﬁ' -> 'FI',
Unicode-version gaps, CJK numerals counted as numeric). A value containing one of them goes
through the scalar reference instead. The sets are precomputed in tables/fallback_chars.json
(read by `names.exotic_pattern`); this module computes them from the column functions, and a
test recomputes them so a Python or pyarrow upgrade can't make them stale silently.
Regenerate with: python -c "from adu_pipeline.normalization.fallback import write; write()"
"""

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization import address, email, names, reference, text
from adu_pipeline.normalization.names import FALLBACK_FILE

# Context-dependent lower-casing (final sigma) can't be seen one character at a time.
_CONTEXTUAL = {"email": "Σ", "address": "Σσς"}


def _all_chars() -> list[str]:
    return [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]


def _differ(chars: list[str], python: list, arrow: list) -> set[str]:
    return {c for c, p, a in zip(chars, python, arrow, strict=True) if p != a}


def compute() -> dict[str, list[list[int]]]:
    """Per field, the sorted code-point ranges where Python and Arrow disagree."""
    chars = _all_chars()
    arr = pa.array(chars, pa.string())
    sets: dict[str, set[str]] = {}
    sets["name"] = _differ(
        chars, [reference.name(c)[0] for c in chars], names.name_vector(arr)[0].to_pylist()
    )
    sets["city"] = _differ(
        chars, [reference.city(c)[0] for c in chars], names.city_vector(arr)[0].to_pylist()
    )
    not_upper = re.compile(r"[^A-Z]")
    sets["state"] = _differ(
        chars, [not_upper.sub("", c.upper()) for c in chars], names.state_letters(arr).to_pylist()
    )
    not_email = re.compile(r"[^\w.@-]")
    emails = email.email_chars(arr).to_pylist()
    sets["email"] = _differ(chars, [not_email.sub("", c.lower()) for c in chars], emails)
    upper = text.upper(arr)
    lower = pc.utf8_lower(upper).to_pylist()
    space, word = (
        pc.match_substring_regex(arr, f"^{cls}$").to_pylist()
        for cls in (address.SPACE_CLASS, address.WORD_CLASS)
    )
    sets["address"] = (
        _differ(chars, [c.upper() for c in chars], upper.to_pylist())
        | _differ(chars, [c.upper().lower() for c in chars], lower)
        | _differ(chars, [bool(re.match(r"\s", c)) for c in chars], space)
        | _differ(chars, [bool(re.match(r"\w", c)) for c in chars], word)
    )
    # The dash rule ('123-ABC') counts ASCII digits only; Python's isnumeric() knows more.
    sets["address_numeric"] = {c for c in chars if c.isnumeric()}
    for field, extra in _CONTEXTUAL.items():
        sets[field] |= set(extra)
    return {field: _ranges(found) for field, found in sorted(sets.items())}


def _ranges(chars: set[str]) -> list[list[int]]:
    out: list[list[int]] = []
    for cp in sorted(ord(c) for c in chars):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def write() -> Path:
    """Recompute and store the table next to the other normalization tables."""
    path = Path(__file__).parent / "tables" / FALLBACK_FILE
    doc = {"about": "see adu_pipeline/normalization/fallback.py", "fields": compute()}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
