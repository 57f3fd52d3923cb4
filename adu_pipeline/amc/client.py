"""The AMC API client: administration, ADU datasets and uploads, rule-based audiences.

Every call goes through `Transport.request` (auth, retries, budget). The client owns
find-or-create: `ensure_dataset`, `ensure_audience` and `find_or_create_upload` make the
non-idempotent creates safe to repeat: they look before they create and look again after an
ambiguous failure instead of blindly re-sending the POST.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from adu_pipeline.amc.bodies import same_data_source, wrap_dataset_body
from adu_pipeline.amc.config import AmcConfig, AmcConfigError
from adu_pipeline.amc.diffs import DatasetDiff, audience_differences, dataset_differences
from adu_pipeline.amc.errors import (
    AmcApiError,
    AmcAudienceConflict,
    AmcConnectionError,
    AmcDatasetConflict,
    AmcNotFoundError,
    AmcServerError,
    AmcTimeout,
    AmcValidationError,
)
from adu_pipeline.amc.models import Account, Advertiser, Audience, Dataset, Instance, Upload
from adu_pipeline.amc.retry import Clock, Deadline, RetryPolicy
from adu_pipeline.amc.status import JobStatus
from adu_pipeline.amc.transport import Transport

logger = logging.getLogger("adu_pipeline.amc")

# Spec media types (API.md 1.3/1.4; the OpenAPI documents win).
MT_DATASET = "application/vnd.amcadvertiserdataset.v1+json"
MT_COLUMN = "application/vnd.amcadvertiserdatasetcolumn.v1+json"
MT_UPLOAD = "application/vnd.amcadvertiserdataupload.v1+json"
MT_AUDIENCE = "application/vnd.amcquerybasedaudience.v1+json"
MT_AUDIENCE_ACCEPT = (
    "application/vnd.amcquerybasedaudience.v1.2+json, "
    "application/vnd.amcquerybasedaudience.v1.1+json;q=0.9, "
    "application/vnd.amcquerybasedaudience.v1+json;q=0.8, application/json;q=0.5"
)
MT_ACCOUNTS = "application/vnd.amcaudiencesconnections.v1+json"
MT_INSTANCES = "application/vnd.amcinstances.v1+json"

AMBIGUOUS_ERRORS = (AmcServerError, AmcTimeout, AmcConnectionError)
_STATUS_PREFERENCE = {
    JobStatus.SUCCEEDED: 0,
    JobStatus.RUNNING: 1,
    JobStatus.PENDING: 2,
    JobStatus.FAILED: 3,
    JobStatus.DEACTIVATED: 4,
}


@dataclass(frozen=True)
class DatasetResult:
    """What `ensure_dataset` did; `diff` is against the dataset as it was found (or created)."""

    dataset: Dataset
    action: str  # "created" | "updated" (columns added) | "unchanged"
    columns_added: tuple[str, ...] = ()
    diff: DatasetDiff = DatasetDiff()


@dataclass(frozen=True)
class UploadResult:
    upload: Upload
    created: bool
    reason: str = ""  # one line: why this upload was started or reused


@dataclass(frozen=True)
class AudienceResult:
    """What `ensure_audience` did; `differences` are those a FAILED audience was updated over."""

    audience: Audience
    action: str  # "created" | "reused" | "updated"
    differences: tuple[str, ...] = ()


class AmcClient:
    """Synchronous AMC client. Use as a context manager or call `close()`.

    `with_budget(seconds)` returns a view sharing the connection pool and token cache whose calls
    all finish (retries and waits included) before one deadline: make one per sensor tick.
    """

    def __init__(
        self,
        config: AmcConfig,
        *,
        retry: RetryPolicy | None = None,
        httpx_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        _transport: Transport | None = None,
        _deadline: Deadline | None = None,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self._t = _transport or Transport(
            config, httpx_transport=httpx_transport, sleep=sleep, clock=clock, rng=rng
        )
        self._deadline = _deadline
        self._owner = _transport is None

    # -- lifecycle and views ----------------------------------------------------------------

    def close(self) -> None:
        if self._owner:
            self._t.close()

    def __enter__(self) -> AmcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_budget(self, seconds: float) -> AmcClient:
        """A view whose calls share one deadline `seconds` from now (e.g. 20 s per sensor tick)."""
        deadline = Deadline.earliest(Deadline(seconds, self._t.clock), self._deadline)
        policy = RetryPolicy(
            self.retry.max_attempts,
            self.retry.base_delay,
            self.retry.max_delay,
            min(self.retry.budget_seconds, seconds),
        )
        return AmcClient(self.config, retry=policy, _transport=self._t, _deadline=deadline)

    def access_token(self) -> str:
        """A valid access token (cached; refreshed shortly before expiry)."""
        self.config.require(
            "client_id", "client_secret", "refresh_token", purpose="Login with Amazon"
        )
        return self._t.tokens.get(self.retry.budget_seconds)

    # -- plumbing ---------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.config.api_base_url + path

    def _call(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Any = None,
        body: Any = None,
        content_type: str | None = None,
        idempotent: bool = True,
    ) -> Any:
        response = self._t.request(
            method,
            self._url(path),
            policy=self.retry,
            deadline=self._deadline,
            headers=headers,
            params=params,
            json_body=body,
            content_type=content_type,
            idempotent=idempotent,
        )
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise AmcApiError(
                status=response.status_code,
                details="response is not JSON",
                method=method,
                path=httpx.URL(self._url(path)).path,
            ) from None

    def instance_request(
        self, method: str, api: str, path: str, *, media_type: str, **kwargs: Any
    ) -> Any:
        """One call under `/amc/{api}/{instance}{path}` (api: advertiserData, reporting) with the
        ADU headers and this client's auth, retries, budget and typed errors; for the calls that
        live beside the client (user deletions, reporting). kwargs: params, body, idempotent."""
        return self._call(
            method,
            f"/amc/{api}/{_seg(str(self.config.instance_id))}{path}",
            headers=self._adu_headers(media_type),
            content_type=media_type if "body" in kwargs else None,
            **kwargs,
        )

    def _adu_headers(self, media_type: str) -> dict[str, str]:
        cfg = self.config
        cfg.require(
            "client_id",
            "advertiser_id",
            "marketplace_id",
            "instance_id",
            purpose="Advertiser Data Upload",
        )
        headers = {
            "Amazon-Advertising-API-ClientId": cfg.client_id,
            "Amazon-Advertising-API-AdvertiserId": str(cfg.advertiser_id),
            "Amazon-Advertising-API-MarketplaceId": str(cfg.marketplace_id),
            "Accept": f"{media_type}, application/json;q=0.5",
        }
        if cfg.ads_account_id:
            headers["Amazon-Ads-AccountId"] = cfg.ads_account_id
        return headers

    def _audience_headers(self) -> dict[str, str]:
        cfg = self.config
        cfg.require("client_id", "instance_id", purpose="rule-based audiences")
        headers = {
            "Amazon-Advertising-API-ClientId": cfg.client_id,
            "Amazon-Marketing-Cloud-Audience-InstanceId": str(cfg.instance_id),
            "Accept": MT_AUDIENCE_ACCEPT,
        }
        if cfg.audience_entity_id:
            headers["Amazon-Advertising-API-EntityId"] = str(cfg.audience_entity_id)
        return headers

    def _admin_headers(
        self, advertiser_id: str | None, marketplace_id: str | None
    ) -> dict[str, str]:
        cfg = self.config
        cfg.require("client_id", purpose="AMC administration")
        advertiser = advertiser_id or cfg.advertiser_id
        marketplace = marketplace_id or cfg.marketplace_id
        if not advertiser or not marketplace:
            cfg.require("advertiser_id", "marketplace_id", purpose="listing AMC instances")
        return {
            "Amazon-Advertising-API-ClientId": cfg.client_id,
            "Amazon-Advertising-API-AdvertiserId": str(advertiser),
            "Amazon-Advertising-API-MarketplaceId": str(marketplace),
            "Accept": MT_INSTANCES,
        }

    def _adu(self, path: str) -> str:
        return f"/amc/advertiserData/{_seg(str(self.config.instance_id))}{path}"

    @staticmethod
    def paginate(fetch: Callable[[str | None], tuple[list[Any], str | None]]) -> Iterator[Any]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            items, token = fetch(token)
            yield from items
            if not token or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    # -- administration (discovery) -----------------------------------------------------------

    def list_accounts(self) -> list[Account]:
        """GET /amc/accounts: the AMC accounts (AdvertiserId values) this login can use."""
        self.config.require("client_id", purpose="listing AMC accounts")
        headers = {
            "Amazon-Advertising-API-ClientId": self.config.client_id,
            "Accept": f"{MT_ACCOUNTS}, application/json;q=0.5",
        }

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            body = self._call("GET", "/amc/accounts", headers=headers, params={"nextToken": token})
            return body.get("amcAccounts") or [], body.get("nextToken")

        return [Account.from_api(a) for a in self.paginate(fetch)]

    def list_instances(
        self,
        *,
        advertiser_id: str | None = None,
        marketplace_id: str | None = None,
        page_size: int | None = None,
    ) -> list[Instance]:
        headers = self._admin_headers(advertiser_id, marketplace_id)

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {"nextToken": token, "limit": page_size}
            body = self._call("GET", "/amc/instances", headers=headers, params=params)
            return body.get("instances") or [], body.get("nextToken")

        return [Instance.from_api(i) for i in self.paginate(fetch)]

    def get_instance(
        self,
        instance_id: str | None = None,
        *,
        advertiser_id: str | None = None,
        marketplace_id: str | None = None,
    ) -> Instance:
        iid = instance_id or self.config.instance_id
        headers = self._admin_headers(advertiser_id, marketplace_id)
        body = self._call("GET", f"/amc/instances/{_seg(str(iid))}", headers=headers)
        return Instance.from_api(body.get("instance") or body)

    def list_advertisers(
        self,
        instance_id: str | None = None,
        *,
        advertiser_id: str | None = None,
        marketplace_id: str | None = None,
        page_size: int | None = None,
    ) -> list[Advertiser]:
        """GET /amc/instances/{id}/advertisers: DSP advertisers usable as audience advertiserId."""
        iid = instance_id or self.config.instance_id
        headers = self._admin_headers(advertiser_id, marketplace_id)

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {"nextToken": token, "limit": page_size}
            body = self._call(
                "GET",
                f"/amc/instances/{_seg(str(iid))}/advertisers",
                headers=headers,
                params=params,
            )
            return body.get("advertisers") or [], body.get("nextToken")

        return [Advertiser.from_api(a) for a in self.paginate(fetch)]

    # -- datasets -----------------------------------------------------------------------------

    def create_dataset(self, body: Mapping[str, Any]) -> str:
        """POST /dataSets; returns the dataSetId. Not retried after an ambiguous failure."""
        wrapped = wrap_dataset_body(body)
        result = self._call(
            "POST",
            self._adu("/dataSets"),
            headers=self._adu_headers(MT_DATASET),
            body=wrapped,
            content_type=MT_DATASET,
            idempotent=False,
        )
        return str(result.get("dataSetId") or wrapped["dataSet"].get("dataSetId"))

    def get_dataset(self, dataset_id: str) -> Dataset:
        body = self._call(
            "GET", self._adu(f"/dataSets/{_seg(dataset_id)}"), headers=self._adu_headers(MT_DATASET)
        )
        return Dataset.from_api(body.get("dataSet") or body)

    def find_dataset(self, dataset_id: str) -> Dataset | None:
        try:
            return self.get_dataset(dataset_id)
        except AmcNotFoundError:
            return None

    def iter_datasets(self, *, page_size: int | None = None) -> Iterator[Dataset]:
        headers = self._adu_headers(MT_DATASET)

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {"nextToken": token, "maxResults": page_size}
            body = self._call("POST", self._adu("/dataSets/list"), headers=headers, params=params)
            return body.get("dataSets") or [], body.get("nextToken")

        return (Dataset.from_api(d) for d in self.paginate(fetch))

    def list_datasets(self, *, page_size: int | None = None) -> list[Dataset]:
        return list(self.iter_datasets(page_size=page_size))

    def update_dataset(
        self, dataset_id: str, *, description: str | None = None, country_code: str | None = None
    ) -> Dataset:
        patch = {
            k: v
            for k, v in (("description", description), ("countryCode", country_code))
            if v is not None
        }
        body = self._call(
            "PUT",
            self._adu(f"/dataSets/{_seg(dataset_id)}"),
            headers=self._adu_headers(MT_DATASET),
            body=patch,
            content_type=MT_DATASET,
        )
        return Dataset.from_api(body.get("dataSet") or body)

    def delete_dataset(self, dataset_id: str) -> None:
        """Irreversible: AMC deletes the dataset and all its data."""
        self._call(
            "DELETE",
            self._adu(f"/dataSets/{_seg(dataset_id)}"),
            headers=self._adu_headers(MT_DATASET),
        )

    def add_column(self, dataset_id: str, column: Mapping[str, Any]) -> Dataset:
        body = self._call(
            "POST",
            self._adu(f"/dataSets/{_seg(dataset_id)}/columns"),
            headers=self._adu_headers(MT_COLUMN),
            body={"column": dict(column)},
            content_type=MT_COLUMN,
            idempotent=False,
        )
        return Dataset.from_api(body.get("dataSet") or body)

    def ensure_dataset(self, body: Mapping[str, Any], *, add_columns: bool = True) -> DatasetResult:
        """The dataset of `body` exists in AMC and matches it; never deletes anything.

        Missing: created (after an ambiguous failure it is looked up before any new POST).
        Existing: compared with `dataset_differences`; new nullable columns are added (unless
        `add_columns=False`: then nothing changes and `diff.addable_columns` says what would);
        any other difference raises AmcDatasetConflict listing every one.
        """
        view = self._budgeted()
        wrapped = wrap_dataset_body(body)
        dataset_id = str(wrapped["dataSet"].get("dataSetId") or "")
        if not dataset_id:
            raise AmcConfigError("a CreateDataSet body needs a dataSetId")
        existing = view.find_dataset(dataset_id)
        if existing is None:
            existing = view._create_dataset_once(wrapped, dataset_id)
            if existing is None:
                created = view.find_dataset(dataset_id) or Dataset.from_api(wrapped["dataSet"])
                return DatasetResult(created, "created", (), dataset_differences(wrapped, created))
        diff = dataset_differences(wrapped, existing)
        if not diff.is_compatible:
            raise AmcDatasetConflict(existing.dataset_id, diff)
        if not (diff.addable_columns and add_columns):
            return DatasetResult(existing, "unchanged", (), diff)
        dataset = existing
        for column in diff.addable_columns:
            dataset = view._add_column_once(dataset.dataset_id, column)
        return DatasetResult(dataset, "updated", diff.addable_names, diff)

    def _create_dataset_once(self, wrapped: Mapping[str, Any], dataset_id: str) -> Dataset | None:
        """Create; None when this call created it, else the dataset someone else created."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self.create_dataset(wrapped)
                return None
            except AmcValidationError:  # e.g. a duplicate: somebody created it meanwhile
                found = self.find_dataset(dataset_id)
                if found is None:
                    raise
                return found
            except AMBIGUOUS_ERRORS as exc:
                if self._found_after_ambiguous(exc, attempt, lambda: self.find_dataset(dataset_id)):
                    logger.info("create dataset: outcome resolved by reading it back")
                    return None

    def _add_column_once(self, dataset_id: str, column: Mapping[str, Any]) -> Dataset:
        """AddColumn; after an ambiguous failure the dataset is read back before any new POST."""
        name = str(column.get("name"))
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.add_column(dataset_id, column)
            except AMBIGUOUS_ERRORS as exc:

                def has_column() -> Dataset | None:
                    dataset = self.find_dataset(dataset_id)
                    return dataset if dataset and name in dataset.column_names else None

                if self._found_after_ambiguous(exc, attempt, has_column):
                    logger.info("add column: outcome resolved by reading the dataset back")
                    found = has_column()
                    assert found is not None
                    return found

    # -- uploads ------------------------------------------------------------------------------

    def create_upload(self, dataset_id: str, body: Mapping[str, Any]) -> Upload:
        """POST /uploads/{dataSetId}; returns the new upload (id + status)."""
        result = self._call(
            "POST",
            self._adu(f"/uploads/{_seg(dataset_id)}"),
            headers=self._adu_headers(MT_UPLOAD),
            body=dict(body),
            content_type=MT_UPLOAD,
            idempotent=False,
        )
        merged = {
            **{k: v for k, v in body.items() if k in ("dataSource", "countryCode")},
            **result,
            "dataSetId": dataset_id,
        }
        return Upload.from_api(merged)

    def get_upload(self, dataset_id: str, upload_id: str) -> Upload:
        body = self._call(
            "GET",
            self._adu(f"/uploads/{_seg(dataset_id)}/{_seg(upload_id)}"),
            headers=self._adu_headers(MT_UPLOAD),
        )
        return Upload.from_api(body.get("upload") or body, dataset_id=dataset_id)

    def iter_uploads(
        self,
        *,
        dataset_id: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Upload]:
        headers = self._adu_headers(MT_UPLOAD)

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {
                "nextToken": token,
                "maxResults": page_size,
                "dataSetId": dataset_id,
                "status": status,
            }
            body = self._call("POST", self._adu("/uploads/list"), headers=headers, params=params)
            return body.get("uploads") or [], body.get("nextToken")

        return (Upload.from_api(u) for u in self.paginate(fetch))

    def list_uploads(
        self,
        *,
        dataset_id: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
    ) -> list[Upload]:
        return list(self.iter_uploads(dataset_id=dataset_id, status=status, page_size=page_size))

    def find_upload(
        self, dataset_id: str, data_source: Mapping[str, Any], *, include_failed: bool = False
    ) -> Upload | None:
        """The newest upload of this dataset from the same S3 source (FAILED ones skipped)."""
        matches = [
            u
            for u in self.iter_uploads(dataset_id=dataset_id)
            if (u.dataset_id in (None, dataset_id))
            and same_data_source(u.data_source, data_source)
            and (include_failed or not u.status.is_failure)
        ]
        if not matches:
            return None
        return max(matches, key=lambda u: u.created_at or "")

    def find_or_create_upload(
        self, dataset_id: str, body: Mapping[str, Any], *, force: bool = False
    ) -> UploadResult:
        """Start an upload unless the content AMC holds now for this body's scope is already it.

        The scope is what the upload replaces: the whole dataset for FULL_REPLACE, else the S3
        folder of its source (a FACT partition's prefix). The newest upload of that scope that
        did not fail (AMC applies uploads in order) is what AMC holds, or will hold; it is reused
        only when it comes from the same source (a content-addressed manifest: same content).
        An older upload of the same source is not enough: a later one may have replaced it.
        """
        view = self._budgeted()
        source = body.get("dataSource") or {}
        seen = [u for u in view.iter_uploads(dataset_id=dataset_id) if _of(u, dataset_id)]
        if force:
            reason = "forced"
        else:
            current = _newest(u for u in seen if _in_scope(u, body) and not u.status.is_failure)
            if current is not None and same_data_source(current.data_source, source):
                return UploadResult(
                    current,
                    False,
                    f"reused upload {current.upload_id} ({current.status_raw}): the newest of "
                    f"{_scope_name(body)} and it carries this content",
                )
            reason = _create_reason(current, seen, body)
        try:
            return UploadResult(view.create_upload(dataset_id, body), True, reason)
        except AMBIGUOUS_ERRORS:
            known = {u.upload_id for u in seen}
            found = _newest(
                u
                for u in view.iter_uploads(dataset_id=dataset_id)
                if u.upload_id not in known and same_data_source(u.data_source, source)
            )
            if found is None:
                raise
            logger.info("create upload: outcome resolved by listing uploads")
            return UploadResult(found, True, reason)

    def wait_for_upload(
        self,
        dataset_id: str,
        upload_id: str,
        *,
        timeout: float = 3600.0,
        max_interval: float = 15.0,
        on_poll: Callable[[Upload], None] | None = None,
    ) -> Upload:
        """Poll until SUCCESS/COMPLETED or FAILED; AmcTimeout after `timeout` seconds."""
        return self.poll(
            lambda: self.get_upload(dataset_id, upload_id),
            timeout,
            max_interval,
            on_poll,
            what=f"upload {upload_id}",
        )

    # -- rule-based audiences -----------------------------------------------------------------

    def create_audience(self, body: Mapping[str, Any]) -> Audience:
        """POST /amc/audiences/query. A repeat makes a second audience: prefer ensure_audience."""
        result = self._call(
            "POST",
            "/amc/audiences/query",
            headers=self._audience_headers(),
            body=dict(body),
            content_type=MT_AUDIENCE,
            idempotent=False,
        )
        return Audience.from_api({**body, **result})

    def get_audience(self, audience_id: str) -> Audience:
        body = self._call(
            "GET", f"/amc/audiences/query/{_seg(audience_id)}", headers=self._audience_headers()
        )
        return Audience.from_api(body)

    def iter_audiences(self, *, page_size: int | None = None) -> Iterator[Audience]:
        headers = self._audience_headers()

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            params = {"nextToken": token, "maxResults": page_size}
            body = self._call("GET", "/amc/audiences/query", headers=headers, params=params)
            return body.get("executionMetadata") or [], body.get("nextToken")

        return (Audience.from_api(a) for a in self.paginate(fetch))

    def list_audiences(self, *, page_size: int | None = None) -> list[Audience]:
        return list(self.iter_audiences(page_size=page_size))

    def update_audience(self, audience_id: str, body: Mapping[str, Any]) -> Audience:
        """PUT (FAILED audiences only): a full replacement; name and advertiser must not change."""
        full = {"audienceType": "RULE_BASED", **body}
        result = self._call(
            "PUT",
            f"/amc/audiences/query/{_seg(audience_id)}",
            headers=self._audience_headers(),
            body=full,
            content_type=MT_AUDIENCE,
        )
        return Audience.from_api({**full, "audienceExecutionId": audience_id, **result})

    def delete_audience(self, audience_id: str) -> None:
        self._call(
            "DELETE", f"/amc/audiences/query/{_seg(audience_id)}", headers=self._audience_headers()
        )

    def find_audience(self, name: str, *, advertiser_id: str | None = None) -> Audience | None:
        """The audience with this exact name (best status, then newest), or None."""
        matches = [
            a
            for a in self.iter_audiences()
            if a.name == name
            and (advertiser_id is None or a.advertiser_id in (None, advertiser_id))
        ]
        if not matches:
            return None
        matches.sort(key=lambda a: a.create_time or "", reverse=True)
        matches.sort(key=lambda a: _STATUS_PREFERENCE.get(a.status, 9))
        return matches[0]

    def ensure_audience(
        self, body: Mapping[str, Any], *, update_failed: bool = True
    ) -> AudienceResult:
        """The audience of `body` exists, found by name (and advertiserId); never a duplicate.

        None: created (never blindly retried: after an ambiguous failure the list is read again
        before any new POST). FAILED: updated in place with this body (unless `update_failed` is
        False). Otherwise any `audience_differences` raise AmcAudienceConflict; else reused.
        """
        view = self._budgeted()
        name = str(body.get("audienceName") or "")
        advertiser = body.get("advertiserId")
        existing = view.find_audience(name, advertiser_id=advertiser)
        if existing is None:
            return AudienceResult(view._create_audience_once(body), "created")
        differences = tuple(audience_differences(body, existing))
        if update_failed and existing.status.is_failure:
            updated = view.update_audience(existing.audience_id, body)
            return AudienceResult(updated, "updated", differences)
        if differences:
            raise AmcAudienceConflict(name, existing.audience_id, differences)
        return AudienceResult(existing, "reused")

    def _create_audience_once(self, body: Mapping[str, Any]) -> Audience:
        name = str(body.get("audienceName") or "")
        advertiser = body.get("advertiserId")
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.create_audience(body)
            except AMBIGUOUS_ERRORS as exc:
                found = self._found_after_ambiguous(
                    exc, attempt, lambda: self.find_audience(name, advertiser_id=advertiser)
                )
                if found is not None:
                    logger.info("create audience: outcome resolved by listing audiences")
                    return found

    def wait_for_audience(
        self,
        audience_id: str,
        *,
        timeout: float = 3600.0,
        max_interval: float = 15.0,
        on_poll: Callable[[Audience], None] | None = None,
    ) -> Audience:
        """Poll until SUCCEEDED, FAILED or DEACTIVATED; AmcTimeout after `timeout` seconds."""
        return self.poll(
            lambda: self.get_audience(audience_id),
            timeout,
            max_interval,
            on_poll,
            what=f"audience {audience_id}",
        )

    # -- helpers ------------------------------------------------------------------------------

    def _budgeted(self) -> AmcClient:
        """This client if it already has a deadline, else a view bounded by one call budget."""
        return self if self._deadline is not None else self.with_budget(self.retry.budget_seconds)

    def _found_after_ambiguous(
        self, exc: AmcApiError, attempt: int, look: Callable[[], Any]
    ) -> Any:
        """After a create whose outcome is unknown: pause (so a create that did reach AMC shows
        up), look; re-raise `exc` when it is not there and no attempt or budget is left, else
        return what was found (None: the caller may POST again)."""
        delay = self.retry.delay_for(exc, attempt, self._t.rng)
        fits = self._deadline is None or delay < self._deadline.remaining()
        if fits:
            self._t.sleep(delay)
        found = look()
        if found is None and (attempt >= self.retry.max_attempts or not fits):
            raise exc
        return found

    def poll(
        self,
        get: Callable[[], Any],
        timeout: float,
        max_interval: float,
        on_poll: Callable[[Any], None] | None,
        *,
        what: str,
    ) -> Any:
        """Call `get` until its item's status is terminal, with growing pauses (0.5, 1, 2 ...
        max_interval s): quick locally, polite live. AmcTimeout after `timeout` seconds."""
        deadline = Deadline(timeout, self._t.clock)
        interval = min(0.5, max_interval)
        while True:
            item = get()
            if on_poll is not None:
                on_poll(item)
            if item.status.is_terminal:
                return item
            if deadline.remaining() <= interval:
                raise AmcTimeout(
                    details=f"{what} still {item.status_raw} after waiting {timeout:g} s"
                )
            self._t.sleep(interval)
            interval = min(max_interval, interval * 2)


def _seg(value: str) -> str:
    """One URL path segment; ids never smuggle a '/'."""
    return quote(value, safe="")


# -- upload scope (find_or_create_upload) -------------------------------------------------------


def upload_scope(body_or_upload: Mapping[str, Any]) -> str | None:
    """What an upload replaces in AMC: None for the whole dataset (FULL_REPLACE), else the S3
    folder its source lives in (`s3://bucket/folder/`)."""
    if str(body_or_upload.get("updateStrategy") or "").upper() == "FULL_REPLACE":
        return None
    source = body_or_upload.get("dataSource") or {}
    key = source.get("sourceManifestS3Key") or source.get("sourceFileS3Key")
    folder = key.rsplit("/", 1)[0] + "/" if key and "/" in key else ""
    if not key:
        folder = str(source.get("sourceS3Prefix") or "").rstrip("/") + "/"
    return f"s3://{source.get('sourceS3Bucket')}/{folder.lstrip('/')}"


def _of(upload: Upload, dataset_id: str) -> bool:
    return upload.dataset_id in (None, dataset_id)


def _in_scope(upload: Upload, body: Mapping[str, Any]) -> bool:
    """Whether `upload` changed what `body` would replace (a FULL_REPLACE changes everything;
    listings that do not echo the strategy count by source folder only)."""
    scope = upload_scope(body)
    theirs = upload_scope({**upload.raw, "dataSource": upload.data_source})
    return scope is None or theirs is None or theirs == scope


def _newest(uploads: Iterable[Upload]) -> Upload | None:
    """The last created; equal createdAt (whole seconds) goes to the later one in the listing."""
    ranked = list(enumerate(uploads))
    return max(ranked, key=lambda r: (r[1].created_at or "", r[0]))[1] if ranked else None


def _order(upload: Upload, listed: list[Upload]) -> tuple[str, int]:
    """The rank `_newest` uses, for one upload of `listed`."""
    position = next(i for i, u in enumerate(listed) if u is upload)
    return (upload.created_at or "", position)


def _scope_name(body: Mapping[str, Any]) -> str:
    scope = upload_scope(body)
    return "the dataset (FULL_REPLACE)" if scope is None else scope


def _create_reason(current: Upload | None, seen: list[Upload], body: Mapping[str, Any]) -> str:
    source = body.get("dataSource") or {}
    where = _scope_name(body)
    failed = _newest(
        u for u in seen if u.status.is_failure and same_data_source(u.data_source, source)
    )
    parts = []
    if failed is not None and (current is None or _order(failed, seen) > _order(current, seen)):
        parts.append(
            f"upload {failed.upload_id} of this content FAILED ({failed.message or 'no message'})"
        )
    if current is not None:
        parts.append(
            f"the newest upload of {where} that did not fail, {current.upload_id} "
            f"({current.status_raw}), carries other content"
        )
    elif failed is None:
        parts.append(f"no upload of {where} yet")
    return "; ".join(parts)
