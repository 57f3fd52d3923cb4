"""External identity formats. RampID examples: LiveRamp, "Interpreting RampID, LiveRamp's
People-Based Identifier" and "Identity Translation" (docs.liveramp.com)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from adu_pipeline.privacy.external_ids import check_external_id, malformed_reason

MAINTAINED = "XY1005wXyWPB1SgpMUKIpzA0I3UaLEz-2lg0wFAr1PWK7FMhs"
DERIVED = "Xi1005p_iYcKP7ZlvFwwK9EwR8GKl_VJqIWUhEaAFmHLAjNOQ9b6OQzSkA43XiVFcTYQ9X"


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (
            "MAID",
            ["38400000-8cf0-11bd-b23e-10b96e40000d", "6D92078A-8246-4BA4-AE5B-76104861E7DC"],
            [
                "38400000-8cf0-11bd-b23e-10b96e40000",
                "not-a-uuid",
                "38400000x8cf0x11bdxb23ex10b96e40000d",
            ],
        ),
        ("IDFA", ["6D92078A-8246-4BA4-AE5B-76104861E7DC"], ["6D92078A82464BA4AE5B76104861E7DC"]),
        (
            "LIVERAMP",
            [MAINTAINED, DERIVED, "hY" + MAINTAINED[2:]],
            [
                MAINTAINED[:-1],
                DERIVED + "A",
                "XYabcd" + MAINTAINED[6:],
                MAINTAINED[:10] + "+" + MAINTAINED[11:],
            ],
        ),
        ("EXPERIAN", ["1234567890", "LUID-00042_x"], ["has space", "x" * 257, "tab\there"]),
        ("NEUSTAR", ["E1:abc"], ["é"]),
    ],
)
def test_formats(kind, good, bad):
    values = pa.array([f" {g} " for g in good] + bad + [None, ""])
    check = check_external_id(values, kind)
    reason = malformed_reason(kind)
    assert check.reasons.to_pylist() == [None] * len(good) + [reason] * len(bad) + [None, None]
    assert check.values.to_pylist() == [*good] + [None] * (len(bad) + 2)


def test_reason_names_and_unknown_type():
    assert malformed_reason("LIVERAMP") == "external_id_malformed_liveramp"
    with pytest.raises(ValueError):
        check_external_id(pa.array(["x"]), "COOKIE")
