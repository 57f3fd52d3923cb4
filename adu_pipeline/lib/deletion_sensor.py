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
from adu_pipeline.lib.resources import AmcResource
from adu_pipeline.lib.status_sensors import _check, _Clients, _poll_terminal, collect_new

DELETION_SENSOR = "amc_deletion_status"
ID_FIELD = "request_id"


def receipts(meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The deletion requests one user_deletions materialization sent (id -> details)."""
    return [
        (
            str(receipt.get(ID_FIELD) or ""),
            {"instance": meta.get("instance"), "identities": int(receipt.get("identities") or 0)},
        )
        for receipt in meta.get("receipts") or []
    ]


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
            collect_new(context.instance, key, state, ID_FIELD, receipts)
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
