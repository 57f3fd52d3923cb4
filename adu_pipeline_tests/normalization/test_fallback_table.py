"""The stored Python-vs-Arrow Unicode exception table matches this Python and pyarrow."""

import json
from importlib import resources

from adu_pipeline.normalization import fallback


def test_fallback_table_is_current():
    text = resources.files("adu_pipeline.normalization").joinpath("tables", "fallback_chars.json")
    stored = json.loads(text.read_text(encoding="utf-8"))["fields"]
    assert fallback.compute() == stored, (
        "regenerate: python -c 'from adu_pipeline.normalization.fallback import write; write()'"
    )
