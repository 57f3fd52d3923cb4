"""When a SUCCEEDED audience refreshes next, or is deactivated (API.md 6.2 "Refresh behaviour").

Pure functions over epoch seconds, so the worker and the emulator-only line-item route agree:

- `refreshRateDays` 0: never refreshed; DEACTIVATED 30 days after creation.
- attached to a DSP line item: every `refreshRateDays` days.
- not attached (the default): Amazon slows the refresh as the audience ages: at least every
  2 days after 14 days, 7 days after 30 days, and no refresh at all after 100 days.
- a static time window (`timeWindowRelative` false) refreshes at most every 7 days after 30 days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

DAY = 86400.0
DEACTIVATE_AFTER_DAYS = 30
DEACTIVATED_REASON = (
    "Audiences with refreshRateDays 0 are deactivated 30 days after they are created."
)


def next_event_at(
    created: float, refreshed: float, refresh_rate_days: int, relative: bool, line_item: bool
) -> float | None:
    """When the audience next changes: its next refresh, its deactivation, or None (never)."""
    if refresh_rate_days == 0:
        return created + DEACTIVATE_AFTER_DAYS * DAY
    age_days = (refreshed - created) / DAY
    interval = float(refresh_rate_days)
    if not line_item:
        if age_days >= 100:
            return None
        if age_days >= 30:
            interval = max(interval, 7)
        elif age_days >= 14:
            interval = max(interval, 2)
    if not relative and age_days >= 30:
        interval = max(interval, 7)
    return refreshed + interval * DAY


def window_shift(created: float, now: float, relative: bool) -> float:
    """Seconds a relative time window has slid forward since creation (0 for a static one)."""
    return max(0.0, now - created) if relative else 0.0


def next_event_for(audience: Mapping[str, Any], refreshed: float) -> float | None:
    """`next_event_at` for a stored audience row (its body, create_time and line_item)."""
    spec = json.loads(audience["body"])
    return next_event_at(
        audience["create_time"],
        refreshed,
        int(spec.get("refreshRateDays", 21)),
        bool(spec.get("timeWindowRelative")),
        bool(audience["line_item"]),
    )
