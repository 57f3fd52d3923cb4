"""amc_audience_health: every managed audience (one per segment file) is still being refreshed.

Amazon refreshes an audience every `refreshRateDays` (default 21) while it is attached to a line
item; without one the rate decays (every 2 days after 14 days, every 7 after 30, none after 100),
and a `refreshRateDays=0` audience is deactivated 30 days after creation (API.md 6.2). An audience
is stale when its `lastRefreshedTime` is older than the slower of its own rate and that decayed
rate, plus a margin; a DEACTIVATED one is reported as such. The sensor writes the segment's
`amc_audience_fresh` check only when its state changes (fresh, stale, deactivated), so the UI
shows the reason without a new evaluation at every tick.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from adu_pipeline.amc.bodies import DEFAULT_REFRESH_RATE_DAYS, parse_amc_timestamp
from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.audience_assets import partition_audience, segment_partitions
from adu_pipeline.lib.catalog import scan_segments
from adu_pipeline.lib.check_records import ready_for_storage
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.status_sensors import _check, _Clients
from adu_pipeline.settings import Settings

HEALTH_SENSOR = "amc_audience_health"
STALE_MARGIN_DAYS = 1.0
ZERO_RATE_LIFETIME_DAYS = 30  # refreshRateDays=0: deactivated 30 days after creation
DECAY = ((100, None), (30, 7), (14, 2))  # (days without a line item, refresh every N days)
FRESH, STALE, DEACTIVATED = "fresh", "stale", "deactivated"
_DAY = 86400.0


@dataclass(frozen=True)
class Health:
    state: str  # FRESH, STALE or DEACTIVATED
    reason: str
    metadata: dict[str, Any]


def audience_health(audience: Any, now: datetime, margin_days: float = STALE_MARGIN_DAYS):
    """The health of a SUCCEEDED or DEACTIVATED audience; None for any other status (the
    amc_audience_status sensor reports those) or without the timestamps to judge by."""
    status = audience.status_raw.strip().upper()
    raw = audience.raw or {}
    rate = audience.refresh_rate_days
    rate = DEFAULT_REFRESH_RATE_DAYS if rate is None else rate
    meta: dict[str, Any] = {
        "audience_id": audience.audience_id,
        "status": audience.status_raw,
        "refresh_rate_days": rate,
        "last_refreshed_time": str(raw.get("lastRefreshedTime") or ""),
    }
    if status == "DEACTIVATED":
        why = audience.status_reason or (
            "refreshRateDays=0 audiences are deactivated 30 days after creation"
            if rate == 0
            else "no reason given"
        )
        return Health(DEACTIVATED, f"AMC deactivated audience {audience.audience_id}: {why}", meta)
    if status != "SUCCEEDED":
        return None
    created_text = audience.create_time or raw.get("createTime")
    last_text = raw.get("lastRefreshedTime") or created_text
    if not last_text or not created_text:
        return None
    created = parse_amc_timestamp(str(created_text), "createTime")
    last = parse_amc_timestamp(str(last_text), "lastRefreshedTime")
    age, since = (now - created).total_seconds() / _DAY, (now - last).total_seconds() / _DAY
    meta.update(days_since_refresh=round(since, 2), age_days=round(age, 1))
    if rate == 0:
        if age > ZERO_RATE_LIFETIME_DAYS + margin_days:
            return Health(
                STALE,
                f"refreshRateDays=0 and created {age:.0f} days ago: Amazon deactivates such an "
                f"audience after {ZERO_RATE_LIFETIME_DAYS} days",
                meta,
            )
        return Health(FRESH, "refreshRateDays=0, inside its 30 days", meta)
    allowed, why = float(rate), f"refreshRateDays {rate}"
    for after_days, every in DECAY:
        if age >= after_days:
            if every is None:
                return _stale_if(
                    since > rate + margin_days,
                    f"not refreshed for {since:.1f} days and {age:.0f} days old: Amazon stops "
                    "refreshing an audience without a line item after 100 days",
                    meta,
                )
            if every > allowed:
                allowed, why = float(every), f"every {every} days without a line item"
            break
    meta["expected_refresh_days"] = allowed
    return _stale_if(
        since > allowed + margin_days,
        f"last refreshed {since:.1f} days ago ({last_text}); expected within {allowed:g} days "
        f"({why}) + {margin_days:g} day margin",
        meta,
    )


def _stale_if(stale: bool, reason: str, meta: dict[str, Any]) -> Health:
    return Health(STALE, reason, meta) if stale else Health(FRESH, "refreshed in time", meta)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def audience_health_sensor(
    settings: Settings, catalog: Any, now: Callable[[], datetime] | None = None
):
    clock = now or _utc_now

    @dg.sensor(
        name=HEALTH_SENSOR,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reports a stale or DEACTIVATED segment audience as a failed "
        f"{keys.FRESH_CHECK} check with the reason (only when its state changes).",
    )
    def _sensor(context: dg.SensorEvaluationContext, amc: AmcResource) -> dg.SensorResult:
        state = cursor.load(context.cursor)
        known = set(context.instance.get_dynamic_partitions(keys.SEGMENT_PARTITIONS))
        events: list[Any] = []
        clients = _Clients(amc, catalog)
        moment = clock()
        try:
            for key, segment in sorted(scan_segments(settings, catalog).segments.items()):
                if key not in known:
                    continue
                found = clients.audiences(context, catalog.segment_instance_of(segment))
                audience = found.get(segment.name)
                health = audience_health(audience, moment) if audience is not None else None
                if health is None or state.get(key) == health.state:
                    continue
                state[key] = health.state
                passed = health.state == FRESH
                meta = {**health.metadata, "segment": key, "state": health.state}
                events.append(
                    _check(keys.AUDIENCE, keys.FRESH_CHECK, key, passed, meta, health.reason)
                )
                if not passed:
                    context.log.warning(f"audience of segment {key}: {health.reason}")
        finally:
            clients.close()
        return dg.SensorResult(
            asset_events=ready_for_storage(context.instance, events),
            cursor=cursor.dump(state),
            skip_reason=None if events else "no audience changed state",
        )

    return _sensor


def audience_fresh_check(catalog: Any) -> dg.AssetChecksDefinition:
    """Reported by the amc_audience_health sensor; run by hand, it asks AMC now."""

    @dg.asset_check(
        asset=keys.AUDIENCE,
        name=keys.FRESH_CHECK,
        partitions_def=segment_partitions,
        description="This segment's audience is refreshed on time and not DEACTIVATED.",
    )
    def _check_now(context: dg.AssetCheckExecutionContext, amc: AmcResource) -> dg.AssetCheckResult:
        audience = partition_audience(context, catalog, amc)
        if isinstance(audience, dg.AssetCheckResult):
            return audience
        health = audience_health(audience, _utc_now())
        if health is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"audience {audience.audience_id} is {audience.status_raw}: "
                "not live yet, so not judged",
            )
        return dg.AssetCheckResult(
            passed=health.state == FRESH, metadata=health.metadata, description=health.reason
        )

    return _check_now
