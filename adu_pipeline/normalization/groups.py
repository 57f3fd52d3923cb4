"""Rows of a batch grouped by their normalized country, once, for every PII column.

normalize_pii sorts the rows by country, normalizes each country's rows as one contiguous
slice and puts the row indices of the values to hash back in row order with one take. The
sort and its inverse depend only on the countries, so a batch computes them once
(`country_groups`) and passes the result to every column instead of the raw country array.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.arrow import NULL_STRING, as_numpy, int64s
from adu_pipeline.normalization.countries import normalize_countries

_NULL = NULL_STRING


@dataclass(frozen=True)
class Grouping:
    """Row order sorted by group; group -1 (no usable country) first, then `names` in order."""

    names: tuple[str, ...]
    all_one: bool  # every row is in group 0: no sort needed
    order: pa.Array | None
    bounds: np.ndarray | None  # slice i of the sorted rows is [bounds[i], bounds[i + 1])
    back: pa.Array | None  # take(back) restores row order

    @classmethod
    def of(cls, group: np.ndarray, names: list[str]) -> "Grouping":
        if len(names) == 1 and bool((group == 0).all()):
            return cls(tuple(names), True, None, None, None)
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(-1, len(names) + 1))
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return cls(tuple(names), False, int64s(order), bounds, int64s(inverse))


@dataclass(frozen=True)
class CountryGroups:
    """Per-row ISO codes and country reasons, with the two groupings hash_pii uses."""

    codes: pa.Array
    reasons: pa.Array

    def __len__(self) -> int:
        return len(self.codes)

    @cached_property
    def by_country(self) -> Grouping:
        """One group per usable country (the rules that depend on the country)."""
        usable = pc.is_null(self.reasons)
        encoded = pc.dictionary_encode(pc.if_else(usable, self.codes, _NULL))
        group = as_numpy(encoded.indices, fill=-1).astype(np.int64)
        return Grouping.of(group, encoded.dictionary.to_pylist())

    @cached_property
    def usable(self) -> Grouping:
        """One group of every row with a usable country (rules that ignore the country)."""
        group = np.where(as_numpy(pc.is_null(self.reasons)), 0, -1).astype(np.int64)
        return Grouping.of(group, ["US"])


def country_groups(countries: pa.Array | pa.ChunkedArray) -> CountryGroups:
    """Group a batch's per-row countries (codes, raw spellings or null) once."""
    codes, reasons = normalize_countries(countries)
    return CountryGroups(codes, reasons)
