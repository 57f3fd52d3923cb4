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


class LenientStatus(StrEnum):
    """A status AMC reports: read leniently so that a new or odd spelling never crashes a sensor.

    A value is upper-cased (`-` and spaces as `_`), mapped through `_aliases()`, and must then
    name a member; anything else becomes PENDING (keep polling) with a warning. Every subclass has
    a PENDING member; the raw string stays on the model (`status_raw`) for display.
    """

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {}

    @classmethod
    def _missing_(cls, value: object) -> LenientStatus:
        text = str(value or "").strip().upper().replace("-", "_").replace(" ", "_")
        canonical = cls._aliases().get(text, text)
        if canonical in cls.__members__:
            return cls[canonical]
        logger.warning("unknown %s %r treated as PENDING", cls.__name__, str(value)[:40])
        return cls["PENDING"]


class JobStatus(LenientStatus):
    """An AMC upload's or audience's state: `JobStatus("SUCCESS") is JobStatus.SUCCEEDED`."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    DEACTIVATED = "DEACTIVATED"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return _ALIASES

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
