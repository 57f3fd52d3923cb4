"""Opt-outs in Dagster: the opt-out folder, the hashed opt-out list, deletions in every instance.

- `privacy/optouts` (unpartitioned): ingests every opt-out file of ADU_OPTOUT_DIR into the
  append-only OptOutStore (hashes only). Unpartitioned because the list is one cumulative set,
  not a slice per date: a file adds people, never replaces a day, and ingestion is idempotent per
  file content, so a re-run or a re-delivered file changes nothing.
- `privacy/<instance>/user_deletions` (one per instance that receives a dataset): sends the
  identities of every ingested file not yet sent to that instance as userDeletionRequests of at
  most 1,000 identities; the receipts (request ids, identities per request, status) are its
  metadata, and the `amc_deletion_status` sensor follows them to a terminal state.
- `optout_file_sensor`: a new or changed opt-out file requests the run of both.

Raw values never leave the landing file: metadata and logs carry counts, file names and the
files' content SHA-256 only.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcApiError
from adu_pipeline.amc.deletions import DeletionStatus, UserDeletions
from adu_pipeline.errors import AduError
from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.audience_health import audience_fresh_check, audience_health_sensor
from adu_pipeline.lib.build import project_definitions
from adu_pipeline.lib.deletion_sensor import deletion_status_sensor
from adu_pipeline.lib.metadata import latest_metadata, values
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.retries import AMC_RETRY_POLICY, amc_failure, status_check_result
from adu_pipeline.lib.writer_lock import amc_writer
from adu_pipeline.privacy.optouts import is_optout_file
from adu_pipeline.privacy.store import OptOutStore, deletion_identities
from adu_pipeline.settings import Settings, load_settings

OPTOUT_SENSOR = "optout_file_sensor"
MAX_HISTORY = 1000  # materializations of a deletion asset read to know which files were sent


def optout_files(settings: Settings) -> list[Any]:
    """The opt-out files of the folder, oldest name first."""
    folder = settings.optout_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_optout_file(p.name))


def optouts_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.OPTOUTS,
        group_name="privacy",
        kinds={"python", "sqlite"},
        owners=keys.OWNERS,
        description=(
            "The opt-out list: every optouts_YYYY-MM-DD.csv of ADU_OPTOUT_DIR normalized and "
            "hashed with the pipeline's normalizer into an append-only store of hashes. Raw "
            "values never leave the landing file; later uploads drop listed people."
        ),
    )
    def _optouts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        store = OptOutStore.in_output_dir(settings.output_dir)
        totals: dict[str, int] = {}
        ingested, already = [], []
        for path in optout_files(settings):
            try:
                result = store.ingest(path)
            except AduError as exc:  # names the file and the column problem, never a value
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            except Exception as exc:
                raise dg.Failure(
                    description=f"{path.name}: reading failed ({type(exc).__name__}; the "
                    "message is withheld because it may quote the file)",
                    allow_retries=False,
                ) from None
            if result.summary is None:
                already.append(path.name)
                continue
            ingested.append(path.name)
            counts = {**result.summary.to_dict(), "identities_added": result.identities_added}
            for name, count in counts.items():
                totals[name] = totals.get(name, 0) + int(count)
            context.log.info(
                f"{path.name}: {counts['rows_in']} rows, {counts['rows_accepted']} accepted, "
                f"{counts['rows_rejected']} rejected, {counts['identities_added']} new identities"
            )
        list_size = store.identities().num_rows
        return dg.MaterializeResult(
            metadata={
                **{k: totals.get(k, 0) for k in ("rows_in", "rows_accepted", "rows_rejected")},
                **{k: v for k, v in sorted(totals.items()) if "." in k},
                "identities_added": totals.get("identities_added", 0),
                "files_ingested": dg.MetadataValue.json(ingested),
                "files_already_in": dg.MetadataValue.json(already),
                "list_size": list_size,
                "store_path": dg.MetadataValue.path(str(store.path)),
            }
        )

    return _optouts


def sent_files(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[str]:
    """Content SHA-256 of every opt-out file whose identities a run sent to this instance."""
    records = instance.fetch_materializations(key, limit=MAX_HISTORY).records
    sent: set[str] = set()
    for record in records:
        event = record.asset_materialization
        if event is not None:
            sent.update(values(event).get("files_sent") or [])
    return sent


def user_deletions_asset(settings: Settings, instance: Any) -> dg.AssetsDefinition:
    key = keys.user_deletions(instance.key)
    pool = keys.deletion_pool(instance.key)

    @dg.asset(
        key=key,
        deps=[keys.OPTOUTS],
        group_name="privacy",
        kinds={"amazon"},
        owners=keys.OWNERS,
        pool=pool,
        retry_policy=AMC_RETRY_POLICY,
        description=(
            f"userDeletionRequests in AMC instance {instance.key}: every opted-out identity not "
            "sent there yet, at most 1,000 per request; AMC deletes the matched users from every "
            "dataset. Receipts (request ids, identities, status) are the metadata."
        ),
    )
    def _deletions(
        context: dg.AssetExecutionContext, amc: AmcResource
    ) -> Iterator[dg.MaterializeResult]:
        # What was sent lives in this asset's materializations, so the result is yielded with
        # the lock still held: Dagster stores it before the next run can read `sent_files`.
        store = OptOutStore.in_output_dir(settings.output_dir)
        receipts: list[dict[str, Any]] = []
        files: list[str] = []
        with amc_writer(context, pool), amc.client(instance) as client:
            done = sent_files(context.instance, key)  # read under the lock
            todo = [f for f in store.files() if f["content_sha256"] not in done]
            deletions = UserDeletions(client)
            for row in todo:
                identities = deletion_identities(
                    store.identities(source_sha256=row["content_sha256"])
                )
                if identities:
                    try:
                        sent = deletions.submit(identities)
                    except AmcApiError as exc:
                        raise amc_failure(
                            f"AMC user deletion ({row['source_file']})", exc
                        ) from None
                    receipts += [
                        {"request_id": r.request_id, "identities": r.identity_count} for r in sent
                    ]
                files.append(row["content_sha256"])
                context.log.info(
                    f"{row['source_file']}: {len(identities)} identities sent to {instance.key}"
                )
            yield dg.MaterializeResult(
                metadata={
                    "instance": instance.key,
                    "requests": len(receipts),
                    "identities_sent": sum(r["identities"] for r in receipts),
                    "request_ids": dg.MetadataValue.json([r["request_id"] for r in receipts]),
                    "receipts": dg.MetadataValue.json(receipts),
                    "files_sent": dg.MetadataValue.json(files),
                    "status": DeletionStatus.PENDING.value if receipts else "NOTHING_TO_SEND",
                    "sent_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )

    return _deletions


def deletion_status_check(instance: Any) -> dg.AssetChecksDefinition:
    """Reported per request by the amc_deletion_status sensor; run by hand, it asks AMC about
    every request of the newest run."""
    key = keys.user_deletions(instance.key)

    @dg.asset_check(
        asset=key,
        name=keys.DELETION_CHECK,
        description="The user deletion requests reached SUCCEEDED in AMC (FAILED if ever sent).",
    )
    def _check(context: dg.AssetCheckExecutionContext, amc: AmcResource) -> dg.AssetCheckResult:
        newest = latest_metadata(context.instance, key, None) or {}
        ids = list(newest.get("request_ids") or [])
        if not ids:
            return dg.AssetCheckResult(passed=True, description="no deletion request to follow")
        try:
            with amc.client(instance, budget_seconds=20) as client:
                found = [UserDeletions(client).get(i) for i in ids]
        except AmcApiError as exc:
            raise amc_failure("AMC user deletion status", exc) from None
        worst = next((d for d in found if d.status is DeletionStatus.FAILED), None)
        worst = worst or next((d for d in found if not d.status.is_terminal), found[0])
        meta = {
            "requests": len(found),
            "succeeded": sum(d.status.is_success for d in found),
            "status": worst.status_raw,
        }
        failed = f"user deletion request {worst.request_id} {worst.status_raw}"
        return status_check_result(
            worst.status, meta, failed if worst.status is DeletionStatus.FAILED else None,
            f"user deletion request {worst.request_id}",
        )  # fmt: skip

    return _check


def optout_sensor(settings: Settings, job: Any):
    @dg.sensor(
        name=OPTOUT_SENSOR,
        jobs=[job],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A new or changed opt-out file requests the opt-out list and deletion run.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        seen = cursor.load(context.cursor)
        new = []
        for path in optout_files(settings):
            stat = path.stat()
            fingerprint = f"{stat.st_mtime_ns}:{stat.st_size}"
            if seen.get(path.name) != fingerprint:
                seen[path.name] = fingerprint
                new.append(f"{path.name}:{fingerprint}")
        if not new:
            return dg.SensorResult(cursor=cursor.dump(seen), skip_reason="no new opt-out file")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key="optouts:" + ",".join(new), job_name=job.name)],
            cursor=cursor.dump(seen),
        )

    return _sensor


def receiving_instances(catalog: Any, plans: Any) -> list[Any]:
    """Every instance some dataset is sent to, in instances.yaml order."""
    wanted = {i.key for p in plans for i in p.instances}
    return [i for k, i in catalog.instances.items() if k in wanted]


def privacy_definitions(
    settings: Settings, catalog: Any, plans: Any, now: Callable[[], datetime] | None = None
) -> dg.Definitions:
    """Everything of the privacy lifecycle for one configuration."""
    instances = receiving_instances(catalog, plans)
    deletion_keys = [keys.user_deletions(i.key) for i in instances]
    job = dg.define_asset_job(
        keys.OPTOUT_JOB,
        selection=dg.AssetSelection.assets(keys.OPTOUTS, *deletion_keys)
        - dg.AssetSelection.checks(
            *(dg.AssetCheckKey(k, keys.DELETION_CHECK) for k in deletion_keys)
        ),
        description="Ingest the opt-out files, then send user deletions to every instance.",
        executor_def=dg.in_process_executor,
    )
    return dg.Definitions(
        assets=[optouts_asset(settings), *(user_deletions_asset(settings, i) for i in instances)],
        asset_checks=[
            *(deletion_status_check(i) for i in instances),
            audience_fresh_check(catalog),
        ],
        jobs=[job],
        sensors=[
            optout_sensor(settings, job),
            deletion_status_sensor(catalog, [i.key for i in instances]),
            audience_health_sensor(settings, catalog, now=now),
        ],
    )


_BUILT: dict[int, tuple[Any, dg.Definitions]] = {}


def project_privacy(settings: Settings | None = None) -> dg.Definitions:
    """The privacy definitions of the project's configuration, built once per
    `project_definitions` build (so every load shares the same job and sensor objects)."""
    project = project_definitions(settings or load_settings())
    built = _BUILT.get(id(project))
    if built is None or built[0] is not project:
        built = (
            project,
            privacy_definitions(settings or load_settings(), project.catalog, project.plans),
        )
        _BUILT[id(project)] = built
    return built[1]
