"""amc_audience: one rule-based AMC audience per segment file (data/segments/*.yaml), live in DSP.

Segments are dynamic partitions: the segments sensor adds a partition when a file appears, so no
restart is needed, and reports (never deletes) the audience of a file that is removed. The client
owns idempotency by name (`ensure_audience`): reuse, update a FAILED one in place, or fail with
the diff when the segment changed (a successful audience cannot be edited at Amazon). Every
audience run shares one pool with a limit of 1, so two runs of a segment create one audience.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcApiError
from adu_pipeline.amc.reporting import count_distinct_users
from adu_pipeline.errors import AduError
from adu_pipeline.lib import keys
from adu_pipeline.lib.catalog import scan_segments
from adu_pipeline.lib.metadata import latest_metadata
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.retries import AMC_RETRY_POLICY, amc_failure, status_check_result
from adu_pipeline.lib.writer_lock import amc_writer
from adu_pipeline.settings import Settings

segment_partitions = dg.DynamicPartitionsDefinition(name=keys.SEGMENT_PARTITIONS)
AMC_MIN_AUDIENCE_USERS = 2000  # AMC fails a rule-based audience under this (API.md 6.2)


def preflight_audience_size(client, key: str, body: dict, settings: Settings) -> int:
    """Before creating an audience: the distinct users its SQL selects now (an AMC count query).
    Below AMC's minimum plus ADU_AUDIENCE_MARGIN the step fails with the count, so no audience
    that would FAIL is ever created."""
    minimum = AMC_MIN_AUDIENCE_USERS + settings.audience_margin
    try:
        users = count_distinct_users(
            client, str(body["query"]), body, timeout=settings.preflight_minutes * 60
        )
    except AmcApiError as exc:
        raise amc_failure(f"segment {key}: preflight count", exc) from None
    if users < minimum:
        raise dg.Failure(
            description=f"segment {key}: {users} distinct users, under the {minimum} a new "
            f"audience needs ({AMC_MIN_AUDIENCE_USERS} AMC minimum + {settings.audience_margin} "
            "ADU_AUDIENCE_MARGIN); no audience was created",
            metadata={"preflight_users": users, "preflight_minimum": minimum},
            allow_retries=False,
        )
    return users


def audience_asset(settings: Settings, catalog, plans: list[DatasetPlan]) -> dg.AssetsDefinition:
    deps = [
        dg.AssetDep(
            keys.upload(plan.id, i.key),
            partition_mapping=dg.AllPartitionMapping() if plan.partitioned else None,
        )
        for plan in plans
        for i in plan.instances
    ]

    @dg.asset(
        key=keys.AUDIENCE,
        partitions_def=segment_partitions,
        deps=deps,
        group_name="audiences",
        kinds={"amazon"},
        owners=keys.OWNERS,
        pool=keys.AUDIENCE_POOL,
        retry_policy=AMC_RETRY_POLICY,
        description=(
            "A rule-based AMC audience per segment file: SQL over the datasets' matched users in "
            "the segment's instance, activated for its DSP advertiser. Reused by name, never "
            "duplicated, never deleted."
        ),
    )
    def _audience(context: dg.AssetExecutionContext, amc: AmcResource) -> dg.MaterializeResult:
        key = context.partition_key
        scan = scan_segments(settings, catalog)
        segment = scan.segments.get(key)
        if segment is None:
            problems = [
                p for name, ps in scan.problems.items() if name.startswith(key + ".") for p in ps
            ]
            reason = "; ".join(problems) or f"no segment file {key}.yaml in {settings.segments_dir}"
            raise dg.Failure(description=f"segment {key}: {reason}", allow_retries=False)
        instance = catalog.instances[catalog.segment_instance_of(segment)]
        body = segment.audience_body(datetime.now(UTC))
        with amc_writer(context, keys.AUDIENCE_POOL), amc.client(instance) as client:
            try:
                found = client.find_audience(segment.name, advertiser_id=segment.advertiser_id)
                preflight = found is None and settings.preflight_minutes > 0
                users = preflight_audience_size(client, key, body, settings) if preflight else None
                result = client.ensure_audience(body)
            except AmcApiError as exc:
                raise amc_failure(f"AMC audience {segment.name!r}", exc) from None
            except AduError as exc:  # the audience in AMC differs from the segment
                raise dg.Failure(description=f"segment {key}: {exc}", allow_retries=False) from None
        audience = result.audience
        context.log.info(f"audience {segment.name!r}: {result.action} {audience.audience_id}")
        return dg.MaterializeResult(
            metadata={
                "audience_id": audience.audience_id,
                "audience_name": segment.name,
                "instance": instance.key,
                "action": result.action,
                "status_at_start": audience.status_raw,
                "dsp_advertiser_id": segment.advertiser_id,
                "created": int(result.action == "created"),
                "updated": int(result.action == "updated"),
                **({"preflight_users": users} if users is not None else {}),
            }
        )

    return _audience


def partition_audience(
    context: dg.AssetCheckExecutionContext, catalog: Any, amc: AmcResource
) -> Any:
    """The segment partition's newest audience as AMC has it now, for a check run by hand (or a
    failed result when there is none yet)."""
    newest = latest_metadata(context.instance, keys.AUDIENCE, context.partition_key)
    if newest is None:
        return dg.AssetCheckResult(passed=False, description="no audience has been created yet")
    instance = catalog.instances.get(str(newest.get("instance") or catalog.default_instance))
    try:
        with amc.client(instance, budget_seconds=20) as client:
            return client.get_audience(str(newest["audience_id"]))
    except AmcApiError as exc:
        raise amc_failure("AMC audience status", exc) from None


def audience_status_check(catalog) -> dg.AssetChecksDefinition:
    """Reported by the amc_audience_status sensor; run by hand, it asks AMC about the newest."""

    @dg.asset_check(
        asset=keys.AUDIENCE,
        name=keys.AUDIENCE_CHECK,
        partitions_def=segment_partitions,
        description="This segment's audience reached SUCCEEDED (size, DSP id); FAILED carries "
        "AMC's reason.",
    )
    def _check(context: dg.AssetCheckExecutionContext, amc: AmcResource) -> dg.AssetCheckResult:
        audience = partition_audience(context, catalog, amc)
        if isinstance(audience, dg.AssetCheckResult):
            return audience
        return status_check_result(
            audience.status,
            {
                "audience_id": audience.audience_id,
                "status": audience.status_raw,
                "audience_count": audience.audience_count or 0,
                "dsp_audience_id": audience.dsp_audience_id or "",
            },
            audience.status_reason if audience.status.is_failure else None,
            f"audience {audience.audience_id}",
        )

    return _check


audience_job = dg.define_asset_job(
    keys.AUDIENCE_JOB,
    # the audience only: its checks are reported by the status and health sensors
    selection=dg.AssetSelection.assets(keys.AUDIENCE).without_checks(),
    description="Create or reuse the AMC audience of one segment.",
    executor_def=dg.in_process_executor,
)
