"""Every definition of one dataset: its assets, the AMC status checks, its export job and (FACT)
its daily schedule. data/datasets/*.yaml each become one of these."""

from typing import Any

import dagster as dg

from adu_pipeline.lib import keys
from adu_pipeline.lib.amc_assets import amc_dataset_asset, upload_asset, upload_status_check
from adu_pipeline.lib.landing_sensor import already_landed
from adu_pipeline.lib.local_assets import hashed_asset, landing_spec, s3_object_asset
from adu_pipeline.lib.plan import DatasetPlan
from adu_pipeline.staging.landing import scan_landing


def dataset_definitions(plan: DatasetPlan) -> dg.Definitions:
    assets: list[dg.AssetsDefinition | dg.AssetSpec] = [
        landing_spec(plan),
        hashed_asset(plan),
        s3_object_asset(plan),
    ]
    checks = []
    for instance in plan.instances:
        assets += [amc_dataset_asset(plan, instance), upload_asset(plan, instance)]
        checks.append(upload_status_check(plan, instance))
    job = export_job(plan)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[job],
        schedules=[daily_schedule(plan, job)] if plan.partitioned else [],
    )


def export_job(plan: DatasetPlan) -> Any:
    """Hash locally, check, write to S3, ensure the dataset and upload, on every instance.

    In-process: the steps of one run are sequential and I/O bound, so one process per run
    (parallelism comes from running several dates) starts far faster than one per step."""
    uploads = [keys.upload(plan.id, i.key) for i in plan.instances]
    selection = dg.AssetSelection.assets(
        keys.hashed(plan.id),
        keys.s3_object(plan.id),
        *(keys.amc_dataset(plan.id, i.key) for i in plan.instances),
        *uploads,
    ) - dg.AssetSelection.checks(*(dg.AssetCheckKey(u, keys.UPLOAD_CHECK) for u in uploads))
    return dg.define_asset_job(
        keys.export_job(plan.id),
        selection=selection,
        description=f"{plan.id}: hash, check, write to S3, ensure the AMC dataset, upload.",
        executor_def=dg.in_process_executor,
        tags={"dataset": plan.id},
    )


def daily_schedule(plan: DatasetPlan, job: Any) -> dg.ScheduleDefinition:
    stem = plan.defn.pipeline.landing

    @dg.schedule(
        name=keys.schedule(plan.id),
        job=job,
        cron_schedule=plan.settings.schedule_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Every day: run today's {plan.id} export if its landing file has arrived.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        today = context.scheduled_execution_time.date().isoformat()
        landed = [
            f for f in scan_landing(plan.settings.landing_dir, stem) if f.partition_key == today
        ]
        if not landed:
            return dg.SkipReason(f"no {stem} landing file for {today} yet")
        if all(already_landed(context.instance, plan, f, today) for f in landed):
            # the landing sensor recorded this very file and requested its run: not twice
            return dg.SkipReason(f"{landed[0].path.name} was already run by landing_file_sensor")
        return dg.RunRequest(run_key=f"schedule:{plan.id}:{today}", partition_key=today)

    return _schedule
