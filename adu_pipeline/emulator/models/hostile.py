"""Hostile behaviour on demand (config `Hostile`): token-bucket throttling, injected faults,
added latency, jobs forced to FAILED, and the counters a soak script reads.

No HTTP here: the server asks `Hostility` what to do and answers in the route's error shape.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from adu_pipeline.emulator.config import Hostile, RateLimit

FAULT_STATUSES = (429, 500, 502, 503, 504)
AFTER_COMMIT_STATUSES = (500, 504)
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per (route key, caller); `take` answers None (go) or the seconds to wait."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, route_key: str, caller: str, limit: RateLimit) -> float | None:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault((route_key, caller), _Bucket(limit.burst, now))
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / limit.rate


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After in whole seconds (HTTP delta-seconds), never 0."""
    return str(max(1, math.ceil(wait_seconds)))


def share_hit(seed: int, kind: str, item_id: str, share: float) -> bool:
    """A repeatable die per job: the same upload or audience gets the same answer after a
    restart (SHA-256 of seed, kind and id as a fraction of 2^64, below `share`)."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"amc-emulator/hostile/{seed}/{kind}/{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


class Hostility:
    """The dice, the buckets and the counters of one emulator run."""

    def __init__(self, config: Hostile, clock: Callable[[], float]):
        self.config = config
        seed = config.seed
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._rng = random.Random(self.seed)
        self._rng_lock = threading.Lock()
        self.buckets = TokenBuckets(clock)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        with self._counts_lock:
            self._counts[name] += n

    def stats(self) -> dict:
        """Counters since start: requests, 429s from the buckets, faults by status, ..."""
        with self._counts_lock:
            counts = dict(self._counts)
        faults = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("fault:")}
        after = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("after:")}
        return {
            "requests": counts.get("requests", 0),
            "throttled": counts.get("throttled", 0),
            "faultsInjected": sum(faults.values()),
            "faultsByStatus": dict(sorted(faults.items())),
            "faultsAfterCommit": sum(after.values()),
            "faultsAfterCommitByStatus": dict(sorted(after.items())),
            "uploadsForcedFailed": counts.get("upload_failed", 0),
            "audiencesForcedFailed": counts.get("audience_failed", 0),
            "seed": self.seed,
        }

    def _roll(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def _choice(self, options: tuple[int, ...]) -> int:
        with self._rng_lock:
            return self._rng.choice(options)

    def latency(self) -> float:
        """Seconds to wait before serving a request."""
        extra = self.config.latency_jitter_seconds
        return self.config.latency_seconds + (self._roll() * extra if extra else 0.0)

    def throttle(self, route_key: str, caller: str) -> float | None:
        """None to serve, else the seconds until the caller's bucket holds a token again."""
        if not self.config.rate_limits:
            return None
        wait = self.buckets.take(route_key, caller, self.config.limit_for(route_key))
        if wait is not None:
            self.count("throttled")
        return wait

    def fault_before(self) -> int | None:
        """A status to answer instead of serving the request, or None."""
        if self.config.fault_share <= 0 or self._roll() >= self.config.fault_share:
            return None
        status = self._choice(FAULT_STATUSES)
        self.count(f"fault:{status}")
        return status

    def fault_after(self, route_key: str, method: str, status: int) -> int | None:
        """A 500/504 to answer after a write that succeeded (its effect is kept), or None.
        The POST list routes are reads."""
        share = self.config.fault_after_commit_share
        if method not in WRITE_METHODS or route_key.endswith(".list") or share <= 0:
            return None
        if not 200 <= status < 300:
            return None
        if self._roll() >= share:
            return None
        fault = self._choice(AFTER_COMMIT_STATUSES)
        self.count(f"after:{fault}")
        return fault

    def upload_fails(self, upload_id: str) -> bool:
        hit = share_hit(self.seed, "upload", upload_id, self.config.upload_failure_share)
        if hit:
            self.count("upload_failed")
        return hit

    def audience_fails(self, audience_id: str) -> bool:
        hit = share_hit(self.seed, "audience", audience_id, self.config.audience_failure_share)
        if hit:
            self.count("audience_failed")
        return hit
