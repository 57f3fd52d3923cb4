"""The AMC status checks. The status sensors report them as soon as AMC reaches a terminal state;
run by hand, each asks AMC once about the newest upload or audience."""

import dagster as dg

from adu_pipeline.amc import AmcApiError
from adu_pipeline.defs.checks import AUDIENCE_CHECK, UPLOAD_CHECK
from adu_pipeline.defs.resources import AmcResource
from adu_pipeline.defs.retries import amc_failure


def _newest(instance: dg.DagsterInstance, key: str) -> dict | None:
    records = instance.fetch_materializations(dg.AssetKey(key), limit=1).records
    if not records or records[0].asset_materialization is None:
        return None
    event = records[0].asset_materialization
    return {"partition": event.partition, **{k: v.value for k, v in event.metadata.items()}}


@dg.asset_check(
    asset="amc_upload",
    name=UPLOAD_CHECK,
    pool="amc_api",
    description="AMC ingested the upload (SUCCESS, OutputRowCount); FAILED carries its message.",
)
def amc_upload_succeeded(context: dg.AssetCheckExecutionContext, amc: AmcResource):
    newest = _newest(context.instance, "amc_upload")
    if newest is None:
        return dg.AssetCheckResult(passed=False, description="no upload has been started yet")
    try:
        with amc.client(budget_seconds=20) as client:
            upload = client.get_upload(str(newest["dataset_id"]), str(newest["upload_id"]))
    except AmcApiError as exc:
        raise amc_failure("AMC upload status", exc) from None
    return dg.AssetCheckResult(
        passed=upload.status.is_success,
        metadata={
            "partition": newest["partition"] or "",
            "upload_id": upload.upload_id,
            "status": upload.status_raw,
            "OutputRowCount": upload.output_row_count or 0,
        },
        description=upload.message,
    )


@dg.asset_check(
    asset="amc_audience",
    name=AUDIENCE_CHECK,
    pool="amc_api",
    description="The audience reached SUCCEEDED (size, DSP id); FAILED carries AMC's reason.",
)
def amc_audience_succeeded(context: dg.AssetCheckExecutionContext, amc: AmcResource):
    newest = _newest(context.instance, "amc_audience")
    if newest is None:
        return dg.AssetCheckResult(passed=False, description="no audience has been created yet")
    try:
        with amc.client(budget_seconds=20) as client:
            audience = client.get_audience(str(newest["audience_id"]))
    except AmcApiError as exc:
        raise amc_failure("AMC audience status", exc) from None
    return dg.AssetCheckResult(
        passed=audience.status.is_success,
        metadata={
            "segment": newest["partition"] or "",
            "audience_id": audience.audience_id,
            "status": audience.status_raw,
            "audience_count": audience.audience_count or 0,
            "dsp_audience_id": audience.dsp_audience_id or "",
        },
        description=audience.status_reason if audience.status.is_failure else None,
    )
