"""Retry policy and time budget: backoff with full jitter, never sleeping past the budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from adu_pipeline.amc.errors import AmcApiError, AmcThrottledError

Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries. `budget_seconds` bounds one call's attempts, waits included."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    budget_seconds: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.budget_seconds <= 0:
            raise ValueError("budget_seconds must be positive")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(0.0, ceiling)

    def delay_for(self, error: AmcApiError, attempt: int, rng: random.Random) -> float:
        """429 with Retry-After waits what the server asked; everything else backs off."""
        if isinstance(error, AmcThrottledError) and error.retry_after is not None:
            return error.retry_after
        return self.backoff(attempt, rng)


class Deadline:
    """An absolute point on a monotonic clock; `remaining()` never goes below zero."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    @staticmethod
    def earliest(*deadlines: Deadline | None) -> Deadline | None:
        present = [d for d in deadlines if d is not None]
        return min(present, key=lambda d: d.at) if present else None
