"""A daily schedule runs the current export date, when its landing file is there."""

import os

import dagster as dg

from adu_pipeline.defs.jobs import export_job
from adu_pipeline.defs.landing import scan_landing
from adu_pipeline.defs.resources import PipelineSettings

DEFAULT_CRON = "0 6 * * *"


@dg.schedule(
    job=export_job,
    cron_schedule=os.environ.get("ADU_SCHEDULE_CRON", "").strip() or DEFAULT_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day: run today's export date if its landing file has arrived.",
)
def daily_export_schedule(
    context: dg.ScheduleEvaluationContext, settings: PipelineSettings
) -> dg.RunRequest | dg.SkipReason:
    today = context.scheduled_execution_time.date().isoformat()
    if not any(f.partition_key == today for f in scan_landing(settings.landing_path)):
        return dg.SkipReason(f"no landing file for {today} yet")
    return dg.RunRequest(run_key=f"schedule:{today}", partition_key=today)
