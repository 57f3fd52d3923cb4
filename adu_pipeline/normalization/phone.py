"""PHONE over Arrow columns (placeholder: the scalar reference, value by value)."""

import pyarrow as pa

from adu_pipeline.normalization import reference
from adu_pipeline.normalization.text import Column, scalar


def phone(values: pa.Array, country: str) -> Column:
    return scalar(values, lambda v: reference.phone(v, country))
