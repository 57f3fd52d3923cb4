"""amc_audience: one rule-based AMC audience per segment (data/segments/*.yaml), live in DSP.

Idempotent by name: an existing audience is reused, a FAILED one is updated in place, none is
ever duplicated; a segment whose SQL or window differs from the audience AMC holds fails with
the diff (a successful audience cannot be edited at Amazon). The amc_audience_status sensor
follows it to SUCCEEDED (size, DSP id) or FAILED (AMC's reason).
"""

from datetime import UTC, datetime

import dagster as dg

from adu_pipeline.amc import AmcApiError
from adu_pipeline.dataset import segment_diff
from adu_pipeline.defs.assets.amc_dataset import AMC_POOL
from adu_pipeline.defs.definition import OWNERS, segments_at
from adu_pipeline.defs.partitions import segment_partitions
from adu_pipeline.defs.resources import AmcResource, PipelineSettings
from adu_pipeline.defs.retries import AMC_RETRY_POLICY, amc_failure


@dg.asset(
    partitions_def=segment_partitions,
    deps=[
        "amc_dataset",
        dg.AssetDep("amc_upload", partition_mapping=dg.AllPartitionMapping()),
    ],
    group_name="amc",
    kinds={"amazon"},
    owners=OWNERS,
    pool=AMC_POOL,
    retry_policy=AMC_RETRY_POLICY,
    description=(
        "A rule-based AMC audience per segment: SQL over the dataset's matched users, activated "
        "for the segment's DSP advertiser. Reused by name, never duplicated."
    ),
)
def amc_audience(
    context: dg.AssetExecutionContext, settings: PipelineSettings, amc: AmcResource
) -> dg.MaterializeResult:
    key = context.partition_key
    segments = segments_at(settings.path(settings.segments_dir))
    segment = segments.get(key)
    if segment is None:
        raise dg.Failure(
            description=f"no segment file {key}.yaml in {settings.segments_dir}",
            allow_retries=False,
        )
    body = segment.audience_body(datetime.now(UTC).date())
    with amc.client() as client:
        try:
            existing = client.find_audience(segment.name, advertiser_id=segment.advertiser_id)
            if existing is None:
                result = client.find_or_create_audience(body)
                audience, action = result.audience, result.action
            elif existing.status.is_failure:  # a FAILED audience may be replaced in place
                audience = client.update_audience(existing.audience_id, body)
                action = "updated"
            else:
                differences = segment_diff(segment, dict(existing.raw))
                if differences:
                    raise dg.Failure(
                        description=f"audience '{segment.name}' in AMC differs from segment "
                        f"{key}: " + "; ".join(differences),
                        metadata={"audience_id": existing.audience_id},
                        allow_retries=False,
                    )
                audience, action = existing, "reused"
        except AmcApiError as exc:
            raise amc_failure(f"AMC audience {segment.name!r}", exc) from None
    context.log.info(f"audience {segment.name!r}: {action} {audience.audience_id}")
    return dg.MaterializeResult(
        metadata={
            "audience_id": audience.audience_id,
            "audience_name": segment.name,
            "action": action,
            "status": audience.status_raw,
            "dsp_advertiser_id": segment.advertiser_id,
            "created": int(action == "created"),
            "updated": int(action == "updated"),
        }
    )
