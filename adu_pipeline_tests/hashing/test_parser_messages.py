"""Parser errors are rewritten so no text from the file reaches the message, whatever its shape."""

from pathlib import Path

import pyarrow as pa
import pytest

from adu_pipeline.hashing.readers import _describe_text_error
from adu_pipeline_tests.hashing.conftest import CANARY


@pytest.mark.parametrize(
    "raw",
    [
        f"CSV parse error: Expected 3 columns, got 4: {CANARY},x,y,z",  # row after the colon
        f"row {CANARY} could not be parsed",  # no ':' at all: free text must not pass through
        f"{CANARY}: unexpected",  # the file's text before the first ':'
    ],
)
def test_parser_message_never_carries_file_text(raw):
    error = _describe_text_error(Path("export.csv"), "utf-8", pa.ArrowInvalid(raw), "CSV")
    assert CANARY not in str(error)
    assert str(error).startswith("malformed CSV in export.csv: ")


def test_known_parser_phrase_is_kept():
    error = _describe_text_error(
        Path("export.csv"), "utf-8", pa.ArrowInvalid("CSV parse error: Expected 3 columns"), "CSV"
    )
    assert str(error) == "malformed CSV in export.csv: CSV parse error"
