"""amc_deletion_status: follows every userDeletionRequest the deletion assets sent to a terminal
state, with a JSON cursor like the upload and audience status sensors (whose helpers it uses).

Per request: SUCCEEDED -> an observation and a passed `amc_user_deletion_succeeded` check on
`privacy/<instance>/user_deletions`; FAILED (not in Amazon's spec, read as terminal) or unknown
to AMC -> a failed check saying so. The observation is how a later tick without a cursor knows
the request was reported. Requests still PENDING stay in the cursor for the next tick.
"""

from typing import Any

import dagster as dg

from adu_pipeline.amc import AmcNotFoundError
from adu_pipeline.amc.deletions import UserDeletions
from adu_pipeline.lib import cursor, keys
from adu_pipeline.lib.metadata import values
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.status_sensors import (
    MAX_NEW_RECORDS,
    REPORTED_BY,
    _check,
    _Clients,
    _poll_terminal,
    _status_reported,
)

DELETION_SENSOR = "amc_deletion_status"
ID_FIELD = "request_id"


def collect_requests(instance: dg.DagsterInstance, key: dg.AssetKey, state: dict[str, Any]) -> None:
    """Every request id of the materializations after the cursor into `pending`, leaving out
    those whose terminal status is already in the event log."""
    after = state.setdefault("after", {})
    name = key.to_user_string()
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, after_storage_id=after.get(name)),
        limit=MAX_NEW_RECORDS,
        ascending=True,
    )
    pending = state.setdefault("pending", {})
    for record in result.records:
        after[name] = record.storage_id
        event = record.asset_materialization
        if event is None or REPORTED_BY in event.metadata:
            continue
        meta = values(event)
        for receipt in meta.get("receipts") or []:
            request_id = str(receipt.get(ID_FIELD) or "")
            if request_id and not _status_reported(instance, key, record, ID_FIELD, request_id):
                pending[request_id] = {
                    "asset": name,
                    "instance": meta.get("instance"),
                    "identities": int(receipt.get("identities") or 0),
                }


def deletion_status_sensor(catalog: Any, instance_keys: list[str]):
    asset_keys = [keys.user_deletions(k) for k in instance_keys]

    @dg.sensor(
        name=DELETION_SENSOR,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Follows AMC user deletion requests to SUCCEEDED (or FAILED).",
    )
    def _sensor(context: dg.SensorEvaluationContext, amc: AmcResource) -> dg.SensorResult:
        state = cursor.load(context.cursor)
        for key in asset_keys:
            collect_requests(context.instance, key, state)
        events: list[Any] = []
        clients = _Clients(amc, catalog)
        try:
            finished = _poll_terminal(
                context,
                state,
                "user deletion request",
                lambda request_id, info: UserDeletions(clients(info.get("instance"))).get(
                    request_id
                ),
            )
            for request_id, info, deletion in finished:
                asset = dg.AssetKey.from_user_string(info["asset"])
                meta: dict[str, Any] = {
                    ID_FIELD: request_id,
                    "instance": info.get("instance") or "",
                    "identities": info.get("identities") or 0,
                }
                if isinstance(deletion, AmcNotFoundError):
                    meta["status"] = "UNKNOWN"
                    text = f"user deletion request {request_id} is unknown to AMC: {deletion}"
                    passed = False
                else:
                    meta["status"] = deletion.status_raw
                    passed = deletion.status.is_success
                    text = None if passed else f"AMC user deletion {request_id} {meta['status']}"
                events += [
                    dg.AssetObservation(asset_key=asset, metadata=meta),
                    _check(asset, keys.DELETION_CHECK, None, passed, meta, text),
                ]
                if not passed:
                    context.log.error(text)
        finally:
            clients.close()
        return dg.SensorResult(
            asset_events=events,
            cursor=cursor.dump(state),
            skip_reason=None
            if events
            else f"{len(state.get('pending', {}))} user deletion requests pending",
        )

    return _sensor
