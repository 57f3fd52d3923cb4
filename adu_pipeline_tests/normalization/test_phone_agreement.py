"""The column phone rule agrees with reference.phone (parse + the row country's reading)."""

import numpy as np
import pyarrow as pa
import pytest

from adu_pipeline.normalization import phone, reference
from adu_pipeline_tests.normalization.phone_inputs import COUNTRIES, generate


@pytest.mark.parametrize("country", COUNTRIES)
def test_phone_column_agrees_with_phonenumbers(country):
    values = generate(country, 3000)
    got_values, got_reasons = phone.phone(pa.array(values), country)
    want = [reference.phone(v, country) for v in values]
    got = list(zip(got_values.to_pylist(), got_reasons.to_pylist(), strict=True))
    diffs = [
        (v, g, wv, wr)
        for v, g, (wv, wr) in zip(values, got, want, strict=True)
        if g != (wv, None if wr is None else wr.value)
    ]
    assert diffs == [], f"{len(diffs)} of {len(values)} differ, e.g. {diffs[:3]}"
    assert sum(w[0] is not None for w in want) > 500  # the inputs include plenty of valid numbers


@pytest.mark.parametrize("country", COUNTRIES)
def test_most_numbers_take_the_vectorized_path(country):
    """Only other calling codes and odd shapes are handed to phonenumbers value by value."""
    values = [v for v in generate(country, 3000) if not v.startswith("+")]
    arr = pa.array(values)
    fast = np.asarray(pa.compute.match_substring_regex(arr, phone._FAST_SHAPE))
    _, _, handover = phone._vector(pa.compute.filter(arr, pa.array(fast)), country)
    assert fast.mean() > 0.9
    assert handover.mean() < 0.2


def test_the_byte_shape_test_agrees_with_the_shape_pattern():
    """phone() picks its column rows by bytes; the pattern says what the shape is."""
    values = [v for country in COUNTRIES for v in generate(country, 400)]
    values += ["", "+", "++1", "1+2", "(+44) 20", " +1 206", "+1 (206) 555-0100", "206+", "x1"]
    values += ["0800 ١٢٣", "+１ 206", "(206) 555-0100 ext 7", "206/555.0100", "- - -", None]
    arr = pa.array(values)
    want = pa.compute.fill_null(pa.compute.match_substring_regex(arr, phone._FAST_SHAPE), False)
    assert phone._shape(arr).tolist() == want.to_pylist()
    assert phone._shape(arr.slice(3, 40)).tolist() == want.to_pylist()[3:43]
