"""Request bodies in Amazon's shapes, and AMC's timestamp format: one builder per body.

Every CreateAudience body in the project is built by `audience_request` (segments call it through
`Segment.audience_body(now)`), so its time window has exactly one meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from adu_pipeline.amc.config import AmcConfigError

FILE_FORMATS = {
    "csv": {"csvDataFormat": {"fieldDelimiter": ","}},
    "jsonl": {"jsonDataFormat": "LINES"},
    "parquet": {"parquetDataFormat": "PARQUET_DATA_FORMAT"},
}
COMPRESSIONS = ("GZIP", "NONE", "BZIP", "SNAPPY", "ZIP")
UPDATE_STRATEGIES = ("ADDITIVE", "FULL_REPLACE", "OVERLAP_REPLACE", "OVERLAP_KEEP")
SOURCE_KEYS = ("sourceFileS3Key", "sourceS3Prefix", "sourceManifestS3Key")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # AMC's `yyyy-MM-ddTHH:mm:ssZ`, always UTC
DEFAULT_REFRESH_RATE_DAYS = 21  # AMC's default refreshRateDays (API.md 6.2)


# -- uploads ------------------------------------------------------------------------------------


def upload_request(
    bucket: str,
    *,
    key: str | None = None,
    prefix: str | None = None,
    manifest_key: str | None = None,
    file_format: str = "csv",
    compression: str = "GZIP",
    update_strategy: str = "FULL_REPLACE",
    country_code: str | None = None,
    field_delimiter: str = ",",
) -> dict[str, Any]:
    """CreateUpload body (API.md 3.1): exactly one of a file key, a prefix or a manifest key."""
    sources = {
        "sourceFileS3Key": key,
        "sourceS3Prefix": prefix,
        "sourceManifestS3Key": manifest_key,
    }
    given = {k: v for k, v in sources.items() if v}
    if len(given) != 1:
        raise AmcConfigError(
            "an upload needs exactly one of a file key, a prefix or a manifest key"
        )
    fmt = file_format.lower()
    if fmt not in FILE_FORMATS:
        raise AmcConfigError(f"unknown file format {file_format!r}: use csv, jsonl or parquet")
    file_fmt = dict(FILE_FORMATS[fmt])
    if fmt == "csv":
        file_fmt = {"csvDataFormat": {"fieldDelimiter": field_delimiter}}
    comp = compression.upper()
    if comp not in COMPRESSIONS:
        raise AmcConfigError(f"unknown compression {compression!r}: use GZIP or NONE")
    strategy = update_strategy.upper()
    if strategy not in UPDATE_STRATEGIES:
        raise AmcConfigError(
            f"unknown update strategy {update_strategy!r}: use {', '.join(UPDATE_STRATEGIES)}"
        )
    body: dict[str, Any] = {
        "dataSource": {"sourceS3Bucket": bucket, **given},
        "fileFormat": file_fmt,
        "compressionFormat": comp,
        "updateStrategy": strategy,
    }
    if country_code:
        body["countryCode"] = country_code.strip().upper()
    return body


def same_data_source(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two dataSource objects name the same bucket and key/prefix/manifest."""
    keys = ("sourceS3Bucket", *SOURCE_KEYS)
    return all((a.get(k) or None) == (b.get(k) or None) for k in keys)


def wrap_dataset_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Accept `{dataSet: {...}}` or the bare DataSet object; return the wrapped form."""
    if "dataSet" in body:
        return dict(body)
    return {"dataSet": dict(body)}


# -- timestamps ---------------------------------------------------------------------------------


def amc_timestamp(value: date | datetime) -> str:
    """AMC's UTC format `yyyy-MM-ddTHH:mm:ssZ`; a date is its midnight UTC, naive means UTC."""
    return _utc(value).strftime(TIMESTAMP_FORMAT)


def parse_amc_timestamp(text: str, field: str = "timestamp") -> datetime:
    """Read `yyyy-MM-ddTHH:mm:ssZ` (UTC); anything else is an error naming `field`."""
    try:
        return datetime.strptime(str(text).strip(), TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise AmcConfigError(f"{field} must be a UTC timestamp like 2026-11-30T00:00:00Z") from None


def _utc(value: date | datetime) -> datetime:
    """A date is its midnight UTC; a naive datetime is UTC; whole seconds."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


# -- audiences ----------------------------------------------------------------------------------


def audience_country(code: str) -> str:
    """Audiences spell the United Kingdom `UK` (API.md 5.4); we store ISO `GB`."""
    code = code.strip().upper()
    return "UK" if code == "GB" else code


def audience_request(
    name: str,
    query: str,
    advertiser_id: str,
    *,
    relative_days: int | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    refresh_rate_days: int | None = None,
    description: str | None = None,
    country_code: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Rule-based audience create body (API.md 6.2); the one place a time window is built.

    Relative (`relative_days=N`): AMC's relative window ends at the run time, so
    `timeWindowEnd = now` (UTC, whole seconds), `timeWindowStart = now - N days` and
    `timeWindowRelative: true` (AMC slides both forward at each refresh). 30 days at
    2026-11-30T12:00:00Z is 2026-10-31T12:00:00Z .. 2026-11-30T12:00:00Z.

    Fixed (`start` and `end`): a date `start` is that day's midnight UTC, a date `end` is
    inclusive (the midnight after that day); datetimes are used as given (naive = UTC); strings
    must already be `yyyy-MM-ddTHH:mm:ssZ`. `now` defaults to the current time.
    """
    if not name or not query or not advertiser_id:
        raise AmcConfigError("an audience needs a name, a SQL query and a DSP advertiser id")
    if relative_days is not None:
        if start is not None or end is not None:
            raise AmcConfigError("give either relative days or a fixed start and end, not both")
        if isinstance(relative_days, bool) or relative_days <= 0:
            raise AmcConfigError("the relative time window must be a positive number of days")
        window_end = _utc(now or datetime.now(UTC))
        window_start = window_end - timedelta(days=relative_days)
        relative = True
    else:
        if start is None or end is None:
            raise AmcConfigError("an audience needs a relative window or a fixed start and end")
        window_start = _bound(start, "start", inclusive_end=False)
        window_end = _bound(end, "end", inclusive_end=True)
        if window_start >= window_end:
            raise AmcConfigError("the time window's start must be before its end")
        relative = False
    body: dict[str, Any] = {
        "audienceName": name,
        "advertiserId": str(advertiser_id),
        "query": query,
        "timeWindowStart": amc_timestamp(window_start),
        "timeWindowEnd": amc_timestamp(window_end),
        "timeWindowRelative": relative,
    }
    if refresh_rate_days is not None:
        if isinstance(refresh_rate_days, bool) or not 0 <= refresh_rate_days <= 21:
            raise AmcConfigError("refresh days must be between 0 and 21")
        body["refreshRateDays"] = int(refresh_rate_days)
    if description:
        body["audienceDescription"] = description
    if country_code:
        body["countryCode"] = audience_country(country_code)
    return body


def _bound(value: date | datetime | str, field: str, *, inclusive_end: bool) -> datetime:
    if isinstance(value, str):
        return parse_amc_timestamp(value, field)
    if isinstance(value, datetime):
        return _utc(value)
    day = value + timedelta(days=1) if inclusive_end else value
    return _utc(day)


# -- user deletion (compliance) -----------------------------------------------------------------

MAX_DELETION_IDENTITIES = 1000  # CreateUserDeletionRequest targetIdentities maxItems (API.md 3.8)
HASHED_PII_TYPES = (
    "ADDRESS", "CITY", "COUNTRY_CODE", "EMAIL", "FIRST_NAME", "LAST_NAME", "PHONE", "STATE", "ZIP",
)  # fmt: skip
EXTERNAL_IDENTITY_TYPES = (
    "EXPERIAN", "IDFA", "KANTAR", "LIVERAMP", "MAID", "MERKLE", "NEUSTAR", "REALID", "SAMBATV",
)  # fmt: skip
_SHA256_HEX = frozenset("0123456789abcdef")


def hashed_identity(hashes: Mapping[str, str]) -> dict[str, Any]:
    """One `Identity` of hashed PII (`{hashedIdentity: {EMAIL: <sha256>, ...}}`): one person."""
    if not hashes:
        raise AmcConfigError("a hashed identity needs at least one hashed PII value")
    for pii_type, value in hashes.items():
        if pii_type not in HASHED_PII_TYPES:
            raise AmcConfigError(f"unknown hashed PII type {str(pii_type)[:20]!r}")
        if not (isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX):
            raise AmcConfigError(f"the {pii_type} of a hashed identity is not 64 lowercase hex")
    return {"hashedIdentity": dict(hashes)}


def external_identity(identity_type: str, value: str) -> dict[str, Any]:
    """One `Identity` of an external id (`{externalIdentity: {type, value}}`), sent as is."""
    if identity_type not in EXTERNAL_IDENTITY_TYPES:
        raise AmcConfigError(f"unknown external identity type {str(identity_type)[:20]!r}")
    if not isinstance(value, str) or not value.strip():
        raise AmcConfigError(f"an external identity of type {identity_type} needs a value")
    return {"externalIdentity": {"type": identity_type, "value": value}}


def user_deletion_request(identities: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """CreateUserDeletionRequest body `{targetIdentities: [...]}`, 1..1,000 identities (API.md
    3.8); build identities with `hashed_identity` / `external_identity`."""
    if not identities:
        raise AmcConfigError("a user deletion request needs at least one identity")
    if len(identities) > MAX_DELETION_IDENTITIES:
        raise AmcConfigError(
            f"a user deletion request holds at most {MAX_DELETION_IDENTITIES} identities, "
            f"not {len(identities)}"
        )
    for identity in identities:
        if len(identity) != 1 or next(iter(identity)) not in ("hashedIdentity", "externalIdentity"):
            raise AmcConfigError("an identity is exactly one of hashedIdentity or externalIdentity")
    return {"targetIdentities": [dict(i) for i in identities]}


def user_deletion_requests(
    identities: Iterable[Mapping[str, Any]], *, batch_size: int = MAX_DELETION_IDENTITIES
) -> Iterator[dict[str, Any]]:
    """Bodies of at most `batch_size` (<= 1,000) identities each, in the order given."""
    if not 1 <= batch_size <= MAX_DELETION_IDENTITIES:
        raise AmcConfigError(f"batch size must be between 1 and {MAX_DELETION_IDENTITIES}")
    batch: list[Mapping[str, Any]] = []
    for identity in identities:
        batch.append(identity)
        if len(batch) == batch_size:
            yield user_deletion_request(batch)
            batch = []
    if batch:
        yield user_deletion_request(batch)


def workflow_execution_request(sql: str, start: str, end: str) -> dict[str, Any]:
    """An ad-hoc AMC reporting execution of `sql` over [start, end] (AMC timestamps), CSV out."""
    return {
        "workflow": {"sqlQuery": sql},
        "timeWindowStart": start,
        "timeWindowEnd": end,
        "timeWindowType": "EXPLICIT",
        "outputFormat": "CSV",
    }
