"""One status vocabulary for uploads and audiences, tolerant of every spelling AMC has used."""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger("adu_pipeline.amc")

# API.md 3.6 (uploads) and 6.2 (audiences): the spellings seen in the spec, the guides and the wild.
_ALIASES = {
    "SUBMITTED": "PENDING",
    "PENDING": "PENDING",
    "QUEUED": "PENDING",
    "IN_PROGRESS": "RUNNING",
    "RUNNING": "RUNNING",
    "SUCCESS": "SUCCEEDED",
    "SUCCEEDED": "SUCCEEDED",
    "COMPLETED": "SUCCEEDED",
    "FAILED": "FAILED",
    "DEACTIVATED": "DEACTIVATED",
}


class JobStatus(StrEnum):
    """Canonical state of an AMC job. `JobStatus("SUCCESS") is JobStatus.SUCCEEDED`.

    Unknown spellings become PENDING (keep polling) rather than crashing a sensor; the raw
    string stays on the model (`status_raw`) for display.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    DEACTIVATED = "DEACTIVATED"

    @classmethod
    def _missing_(cls, value: object) -> JobStatus:
        text = str(value or "").strip().upper().replace("-", "_").replace(" ", "_")
        canonical = _ALIASES.get(text)
        if canonical is None:
            logger.warning("unknown AMC status %r treated as PENDING", str(value)[:40])
            return cls.PENDING
        return cls(canonical)

    @classmethod
    def parse(cls, value: str | None) -> JobStatus:
        return cls(value or "PENDING")

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEACTIVATED)

    @property
    def is_success(self) -> bool:
        return self is JobStatus.SUCCEEDED

    @property
    def is_failure(self) -> bool:
        return self is JobStatus.FAILED
