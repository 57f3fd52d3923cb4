"""Counts of what happened to every row and every checked column; never a value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from adu_pipeline.hashing.casts import MISSING
from adu_pipeline.hashing.transform import HASHED, OK, PASSED_THROUGH


@dataclass
class ColumnStats:
    """Outcomes of one PII / typed / country column over the rows written."""

    kind: str
    counts: Counter = field(default_factory=Counter)

    @property
    def hashed(self) -> int:
        return self.counts[HASHED]

    @property
    def passed_through(self) -> int:
        return self.counts[PASSED_THROUGH]

    @property
    def valid(self) -> int:
        return self.counts[HASHED] + self.counts[PASSED_THROUGH] + self.counts[OK]

    @property
    def null(self) -> int:
        return sum(self.counts.values()) - self.valid

    @property
    def missing(self) -> int:
        return self.counts[MISSING]

    @property
    def invalid(self) -> dict[str, int]:
        """Nulls by reason, excluding plain missing values."""
        skip = {HASHED, PASSED_THROUGH, OK, MISSING}
        return {k: v for k, v in sorted(self.counts.items()) if k not in skip and v}


@dataclass
class HashSummary:
    """What hash_file did. Invariant: rows_in == rows_out + rows_rejected + duplicates_dropped."""

    input_path: str
    output_path: str
    rows_in: int = 0
    rows_out: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)
    duplicates_dropped: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else 0.0

    def check(self) -> None:
        """Nothing lost: every input row is written, rejected or a counted duplicate."""
        accounted = self.rows_out + self.rows_rejected + self.duplicates_dropped
        if self.rows_in != accounted:
            raise AssertionError(f"row accounting broken: {self.rows_in} in, {accounted} out")

    def to_dict(self) -> dict[str, int | float]:
        """Flat numeric values, e.g. for Dagster materialization metadata."""
        out: dict[str, int | float] = {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_rejected": self.rows_rejected,
            "duplicates_dropped": self.duplicates_dropped,
            "seconds": round(self.seconds, 3),
        }
        for reason, n in sorted(self.rejected_by_reason.items()):
            out[f"rejected.{reason}"] = n
        for name, stats in self.columns.items():
            if stats.kind == "pii":
                out[f"{name}.hashed"] = stats.hashed
                out[f"{name}.passed_through"] = stats.passed_through
            else:
                out[f"{name}.valid"] = stats.valid
            out[f"{name}.null"] = stats.null
            out[f"{name}.missing"] = stats.missing
            for reason, n in stats.invalid.items():
                out[f"{name}.invalid.{reason}"] = n
        return out

    def format(self) -> str:
        """Human summary for stderr (counts only)."""
        lines = [
            f"rows in: {self.rows_in:,}  rows out: {self.rows_out:,}  "
            f"rejected: {self.rows_rejected:,}  duplicates dropped: {self.duplicates_dropped:,}  "
            f"({self.seconds:.1f}s, {self.rows_per_second:,.0f} rows/s)"
        ]
        for reason, n in sorted(self.rejected_by_reason.items()):
            lines.append(f"  rejected {reason}: {n:,}")
        width = max((len(name) for name in self.columns), default=0)
        for name, stats in self.columns.items():
            if stats.kind == "pii":
                head = f"hashed {stats.hashed:,}, passed through {stats.passed_through:,}"
            else:
                head = f"valid {stats.valid:,}"
            detail = [f"missing {stats.missing:,}"] if stats.missing else []
            detail += [f"{reason} {n:,}" for reason, n in stats.invalid.items()]
            tail = f" ({', '.join(detail)})" if detail else ""
            lines.append(f"  {name:<{width}}  {head}, null {stats.null:,}{tail}")
        return "\n".join(lines)
