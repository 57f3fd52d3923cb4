"""`adu amc ...`: log in, discover, and drive datasets, uploads and audiences from a shell.

Configuration comes from ADU_AMC_* environment variables, overridden by flags. Output is one
human-readable line per item, or JSON with --json. AMC errors print one line and exit 2; a job
that ends FAILED after --wait exits 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from adu_pipeline.amc.auth import SCOPE, authorize_url, code_grant_form, parse_grant
from adu_pipeline.amc.bodies import audience_request, upload_request
from adu_pipeline.amc.client import AmcClient, AudienceResult
from adu_pipeline.amc.config import AmcConfig, env_var_name
from adu_pipeline.amc.errors import AmcConnectionError, AmcTimeout
from adu_pipeline.amc.models import Audience, Dataset, Upload
from adu_pipeline.amc.retry import RetryPolicy
from adu_pipeline.errors import AduError, InputError

_CONFIG_FLAGS = (
    ("region", "NA, EU or FE (default NA)"),
    ("base-url", "API host override, e.g. the emulator's URL"),
    ("token-url", "Login with Amazon token URL override"),
    ("authorize-url", "Login with Amazon consent page override"),
    ("client-id", "LwA client id"),
    ("client-secret", "LwA client secret (prefer the environment variable)"),
    ("refresh-token", "LwA refresh token (prefer the environment variable)"),
    ("advertiser-id", "AMC account id (Amazon-Advertising-API-AdvertiserId)"),
    ("marketplace-id", "marketplace id, e.g. ATVPDKIKX0DER"),
    ("instance-id", "AMC instance id"),
    ("ads-account-id", "optional Amazon-Ads-AccountId"),
    ("entity-id", "audience EntityId (default: the advertiser id)"),
)
CREDENTIALS = ("client_id", "client_secret", "refresh_token")


# -- parser -----------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("AMC connection (default: ADU_AMC_* environment variables)")
    for flag, text in _CONFIG_FLAGS:
        group.add_argument(f"--{flag}", default=None, help=f"{text} [{env_var_name(_dest(flag))}]")
    common.add_argument("--json", action="store_true", help="machine-readable JSON output")
    common.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds one API call may spend, retries included (default 120)",
    )

    amc = subparsers.add_parser("amc", help="talk to Amazon Marketing Cloud (or the emulator)")
    sub = amc.add_subparsers(dest="amc_command", required=True, metavar="ACTION")

    p = sub.add_parser("login", parents=[common], help="get a refresh token (authorization code)")
    p.add_argument("--redirect-uri", required=True, help="an Allowed Return URL of your LwA app")
    p.add_argument("--code", help="the code from the redirect (else prompted on stdin)")
    p.add_argument("--scope", default=SCOPE, help=f"OAuth scope (default {SCOPE})")
    p.set_defaults(func=cmd_login)

    p = sub.add_parser("token", parents=[common], help="check the credentials by fetching a token")
    p.add_argument("--show", action="store_true", help="print the access token itself")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("discover", parents=[common], help="list accounts, instances, advertisers")
    p.set_defaults(func=cmd_discover)

    datasets = sub.add_parser("datasets", help="dataset definitions in AMC")
    dsub = datasets.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")
    p = dsub.add_parser("create", parents=[common], help="create a dataset (idempotent)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--definition", type=Path, help="dataset definition YAML")
    src.add_argument("--body", type=Path, help="raw CreateDataSet JSON body")
    p.add_argument(
        "--add-columns", action="store_true", help="add new nullable columns to an existing dataset"
    )
    p.set_defaults(func=cmd_datasets_create)
    p = dsub.add_parser("list", parents=[common], help="list datasets")
    p.add_argument("--page-size", type=int, default=None)
    p.set_defaults(func=cmd_datasets_list)
    p = dsub.add_parser("get", parents=[common], help="show one dataset")
    p.add_argument("dataset_id")
    p.set_defaults(func=cmd_datasets_get)
    p = dsub.add_parser("delete", parents=[common], help="delete a dataset and ALL its data")
    p.add_argument("dataset_id")
    p.add_argument("--yes", action="store_true", help="confirm the irreversible delete")
    p.set_defaults(func=cmd_datasets_delete)

    p = sub.add_parser("upload", parents=[common], help="start an upload from S3 (idempotent)")
    p.add_argument("--dataset", required=True, help="dataSetId")
    p.add_argument("--bucket", required=True, help="S3 bucket AMC reads from")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--manifest-key", help="key of a manifest listing s3:// URIs")
    where.add_argument("--key", help="key of a single file")
    where.add_argument("--prefix", help="prefix of several files")
    p.add_argument("--format", default="csv", choices=["csv", "jsonl", "parquet"])
    p.add_argument("--compression", default="gzip", choices=["gzip", "none"])
    p.add_argument(
        "--strategy",
        default="full_replace",
        choices=["additive", "full_replace", "overlap_replace", "overlap_keep"],
    )
    p.add_argument("--country", help="upload-level ISO country code, e.g. US")
    p.add_argument("--force", action="store_true", help="start even if this source was uploaded")
    _wait_flags(p)
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser("upload-status", parents=[common], help="show (or wait for) an upload")
    p.add_argument("--dataset", required=True)
    p.add_argument("--upload", required=True)
    _wait_flags(p)
    p.set_defaults(func=cmd_upload_status)

    uploads = sub.add_parser("uploads", help="uploads in AMC")
    usub = uploads.add_subparsers(dest="uploads_command", required=True, metavar="ACTION")
    p = usub.add_parser("list", parents=[common], help="list uploads")
    p.add_argument("--dataset", help="only uploads of this dataSetId")
    p.add_argument("--status", help="only uploads in this status")
    p.add_argument("--page-size", type=int, default=None)
    p.set_defaults(func=cmd_uploads_list)

    audience = sub.add_parser("audience", help="one rule-based audience")
    asub = audience.add_subparsers(dest="audience_command", required=True, metavar="ACTION")
    p = asub.add_parser("create", parents=[common], help="create an audience (idempotent by name)")
    p.add_argument("--segment", type=Path, help="segment YAML (data/segments/*.yaml)")
    p.add_argument("--name", help="audience name (without a segment)")
    sql = p.add_mutually_exclusive_group()
    sql.add_argument("--sql", help="SQL selecting user_id")
    sql.add_argument("--sql-file", type=Path, help="file holding the SQL")
    p.add_argument("--advertiser", dest="audience_advertiser", help="DSP advertiser id")
    p.add_argument("--days", type=int, help="relative time window in days")
    p.add_argument("--start", help="fixed window start (yyyy-mm-dd or AMC timestamp)")
    p.add_argument("--end", help="fixed window end")
    p.add_argument("--refresh-days", type=int, help="refresh every N days (0-21)")
    p.add_argument("--description")
    p.add_argument("--country", help="audience country code (Global Buying advertisers only)")
    p.add_argument("--no-update-failed", action="store_true", help="do not re-run a FAILED one")
    _wait_flags(p)
    p.set_defaults(func=cmd_audience_create)
    p = asub.add_parser("delete", parents=[common], help="delete a FAILED/SUCCEEDED audience")
    p.add_argument("audience_id")
    p.set_defaults(func=cmd_audience_delete)

    p = sub.add_parser("audience-status", parents=[common], help="show (or wait for) an audience")
    p.add_argument("audience_id")
    _wait_flags(p)
    p.set_defaults(func=cmd_audience_status)

    audiences = sub.add_parser("audiences", help="rule-based audiences in AMC")
    aud_sub = audiences.add_subparsers(dest="audiences_command", required=True, metavar="ACTION")
    p = aud_sub.add_parser("list", parents=[common], help="list audiences")
    p.add_argument("--page-size", type=int, default=None)
    p.set_defaults(func=cmd_audiences_list)


def _wait_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="poll until a terminal status")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
    p.add_argument("--max-interval", type=float, default=15.0, help="longest pause between polls")


def _dest(flag: str) -> str:
    return {"authorize-url": "authorize_url"}.get(flag, flag.replace("-", "_"))


# -- configuration ----------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> AmcConfig:
    overrides = {_dest(flag): getattr(args, _dest(flag), None) for flag, _ in _CONFIG_FLAGS}
    overrides["authorize_endpoint"] = overrides.pop("authorize_url")
    return AmcConfig.from_env(require_credentials=False).with_overrides(**overrides)


def _client(args: argparse.Namespace) -> AmcClient:
    config = config_from_args(args)
    config.require(*CREDENTIALS, purpose="calling AMC")
    return AmcClient(config, retry=RetryPolicy(budget_seconds=args.budget))


# -- output -----------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, data: Any, lines: Iterable[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        for line in lines:
            print(line)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _dataset_line(d: Dataset) -> str:
    period = f" period={d.period}" if d.period else ""
    return f"{d.dataset_id}  columns={len(d.columns)}{period}  {d.description or ''}".rstrip()


def _upload_line(u: Upload) -> str:
    rows = f" rows={u.output_row_count}" if u.output_row_count is not None else ""
    msg = f"  message: {u.message}" if u.message else ""
    src = u.data_source
    where = (
        src.get("sourceManifestS3Key") or src.get("sourceFileS3Key") or src.get("sourceS3Prefix")
    )
    source = f" s3://{src.get('sourceS3Bucket')}/{where}" if where else ""
    return (
        f"upload {u.upload_id}  dataset={u.dataset_id}  status={u.status_raw}{rows}"
        f"  created={u.created_at or '-'}{source}{msg}"
    )


def _audience_line(a: Audience) -> str:
    parts = [f"audience {a.audience_id}", f"name={a.name!r}", f"status={a.status_raw}"]
    if a.audience_count is not None:
        parts.append(f"audienceCount={a.audience_count}")
    if a.dsp_audience_id:
        parts.append(f"dspAudienceId={a.dsp_audience_id}")
    if a.status_reason and not a.status.is_success:
        parts.append(f"reason: {a.status_reason}")
    return "  ".join(parts)


def _upload_json(u: Upload) -> dict[str, Any]:
    return {**u.raw, "uploadId": u.upload_id, "dataSetId": u.dataset_id, "status": u.status_raw}


def _audience_json(a: Audience) -> dict[str, Any]:
    return {**a.raw, "audienceExecutionId": a.audience_id, "status": a.status_raw}


def _poll_printer(
    args: argparse.Namespace, describe: Callable[[Any], str]
) -> Callable[[Any], None]:
    last: list[str] = []

    def on_poll(item: Any) -> None:
        if not last or last[-1] != item.status_raw:
            last.append(item.status_raw)
            _note(f"... {describe(item)}")

    return on_poll


# -- commands ---------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    config.require("client_id", purpose="login")
    secret = config.client_secret
    if not secret:
        if not sys.stdin.isatty():
            config.require("client_secret", purpose="login")
        secret = getpass.getpass("LwA client secret: ")
    url = authorize_url(config.authorize_url, config.client_id, args.redirect_uri, args.scope)
    _note("1. Open this URL, sign in with the account that has AMC access, and allow access:")
    _note(f"   {url}")
    _note(f"2. Your browser is sent to {args.redirect_uri}?code=...; copy the code.")
    code = args.code
    if not code:
        _note("Paste the code (or the whole address) and press Enter:")
        code = sys.stdin.readline().strip()
    code = _code_from(code)
    if not code:
        raise InputError("no authorization code given")
    form = code_grant_form(config.client_id, secret, code, args.redirect_uri)
    timeout = httpx.Timeout(
        connect=config.timeouts.connect,
        read=config.timeouts.read,
        write=config.timeouts.write,
        pool=config.timeouts.pool,
    )
    try:
        response = httpx.post(config.lwa_token_url, data=form, timeout=timeout)
    except httpx.TimeoutException:
        raise AmcTimeout(details="the token endpoint did not answer in time") from None
    except httpx.TransportError as exc:
        raise AmcConnectionError(
            details=f"{type(exc).__name__} reaching the token endpoint"
        ) from None
    grant = parse_grant(response)
    if not grant.refresh_token:
        raise AduError("Login with Amazon returned no refresh token")
    variable = env_var_name("refresh_token")
    _emit(
        args,
        {"refresh_token": grant.refresh_token, "env": variable, "expires_in": grant.expires_in},
        [
            f"refresh token: {grant.refresh_token}",
            "Keep it secret. Set it for the other commands with:",
            f"export {variable}='{grant.refresh_token}'",
        ],
    )
    return 0


def _code_from(text: str) -> str:
    """Accept the bare code or the full redirect address containing ?code=..."""
    text = text.strip()
    if "code=" in text:
        query = urlsplit(text).query or text.split("?", 1)[-1]
        values = parse_qs(query).get("code")
        if values:
            return values[0]
    return text


def cmd_token(args: argparse.Namespace) -> int:
    with _client(args) as client:
        token = client.access_token()
    data = {"ok": True, "token_url": client.config.lwa_token_url}
    lines = [f"access token OK from {client.config.lwa_token_url}"]
    if args.show:
        data["access_token"] = token
        lines.append(token)
    _emit(args, data, lines)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found: list[dict[str, Any]] = []
        lines: list[str] = []
        accounts = client.list_accounts()
        if not accounts:
            lines.append("no AMC accounts visible to this login")
        for account in accounts:
            lines.append(
                f"account {account.account_id}  marketplace={account.marketplace_id}"
                f"  {account.account_name or ''}".rstrip()
            )
            instances = client.list_instances(
                advertiser_id=account.account_id, marketplace_id=account.marketplace_id
            )
            entry: dict[str, Any] = {**account.raw, "instances": []}
            for inst in instances:
                lines.append(
                    f"  instance {inst.instance_id}  {inst.instance_name or ''}"
                    f"  status={inst.creation_status}  apiEndpoint={inst.api_endpoint}"
                    f"  dataUploadAwsAccountId={inst.data_upload_aws_account_id}"
                )
                advertisers = client.list_advertisers(
                    inst.instance_id,
                    advertiser_id=account.account_id,
                    marketplace_id=account.marketplace_id,
                )
                for adv in advertisers:
                    lines.append(f"    advertiser {adv.advertiser_id}  {adv.type}  {adv.name}")
                entry["instances"].append(
                    {**inst.raw, "advertisers": [dict(a.raw) for a in advertisers]}
                )
            found.append(entry)
    lines += _suggest_env(found)
    _emit(args, {"accounts": found}, lines)
    return 0


def _suggest_env(found: list[dict[str, Any]]) -> list[str]:
    if len(found) != 1 or len(found[0]["instances"]) != 1:
        return []
    account, instance = found[0], found[0]["instances"][0]
    lines = [
        "",
        "configuration:",
        f"export {env_var_name('advertiser_id')}={account.get('accountId')}",
        f"export {env_var_name('marketplace_id')}={account.get('marketplaceId')}",
        f"export {env_var_name('instance_id')}={instance.get('instanceId')}",
    ]
    advertisers = instance.get("advertisers") or []
    if advertisers:
        lines.append(f"# DSP advertiser id for audiences: {advertisers[0].get('id')}")
    return lines


def cmd_datasets_create(args: argparse.Namespace) -> int:
    definition = None
    if args.definition is not None:
        from adu_pipeline.dataset import load_definition

        definition = load_definition(args.definition)
        body = definition.create_body()
    else:
        body = _read_json(args.body)
    with _client(args) as client:
        result = client.find_or_create_dataset(body)
        dataset = result.dataset
        if definition is not None:
            from adu_pipeline.dataset.diff import definition_diff

            ddiff = definition_diff(definition, dict(dataset.raw))
            problems = list(ddiff.differences)
            addable = [c.name for c in ddiff.addable_columns]
        elif result.diff.only_addable_columns:
            problems, addable = [], [str(c.get("name")) for c in result.diff.missing_columns]
        else:
            problems, addable = result.diff.lines(), []
        if result.created:
            _emit(
                args,
                {"dataSetId": dataset.dataset_id, "action": "created"},
                [f"created dataset {dataset.dataset_id}"],
            )
            return 0
        if problems:
            raise AduError(
                f"dataset {dataset.dataset_id} exists in AMC and differs from the definition: "
                + "; ".join(problems)
            )
        if addable and args.add_columns:
            columns = _addable_column_bodies(definition, body, addable)
            for column in columns:
                client.add_column(dataset.dataset_id, column)
            _emit(
                args,
                {"dataSetId": dataset.dataset_id, "action": "columns_added", "columns": addable},
                [f"dataset {dataset.dataset_id} exists; added columns {', '.join(addable)}"],
            )
            return 0
        if addable:
            raise AduError(
                f"dataset {dataset.dataset_id} exists; new nullable columns "
                f"{', '.join(addable)} are not in AMC yet (rerun with --add-columns)"
            )
        _emit(
            args,
            {"dataSetId": dataset.dataset_id, "action": "exists"},
            [f"dataset {dataset.dataset_id} already exists and matches the definition"],
        )
    return 0


def _addable_column_bodies(definition: Any, body: dict[str, Any], names: list[str]) -> list[dict]:
    if definition is not None:
        from adu_pipeline.dataset.amc_body import column_body

        return [column_body(definition.column(n)) for n in names]
    columns = body.get("dataSet", body).get("columns", [])
    return [c for c in columns if c.get("name") in names]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None


def cmd_datasets_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        datasets = client.list_datasets(page_size=args.page_size)
    _emit(
        args,
        {"dataSets": [dict(d.raw) for d in datasets]},
        [_dataset_line(d) for d in datasets] or ["no datasets"],
    )
    return 0


def cmd_datasets_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        d = client.get_dataset(args.dataset_id)
    lines = [_dataset_line(d)]
    for c in d.columns:
        ext = c.get("externalUserIdType") or {}
        kind = ext.get("hashedPii") or ext.get("externalIdentity") or ""
        lines.append(f"  {c.get('name')}  {c.get('dataType')}  {c.get('columnType')}  {kind}")
    _emit(args, {"dataSet": dict(d.raw)}, lines)
    return 0


def cmd_datasets_delete(args: argparse.Namespace) -> int:
    if not args.yes:
        raise InputError("deleting a dataset removes all its data in AMC: add --yes to confirm")
    with _client(args) as client:
        client.delete_dataset(args.dataset_id)
    _emit(args, {"dataSetId": args.dataset_id, "action": "deleted"}, [f"deleted {args.dataset_id}"])
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    body = upload_request(
        args.bucket,
        key=args.key,
        prefix=args.prefix,
        manifest_key=args.manifest_key,
        file_format=args.format,
        compression=args.compression,
        update_strategy=args.strategy,
        country_code=args.country,
    )
    with _client(args) as client:
        result = client.find_or_create_upload(args.dataset, body, force=args.force)
        upload = result.upload
        if not result.created:
            _note(
                f"an upload of this source already exists ({upload.upload_id}, "
                f"{upload.status_raw}); reusing it (--force starts another)"
            )
        if args.wait:
            upload = client.wait_for_upload(
                args.dataset,
                upload.upload_id,
                timeout=args.timeout,
                max_interval=args.max_interval,
                on_poll=_poll_printer(args, _upload_line),
            )
    data = {**_upload_json(upload), "action": "created" if result.created else "reused"}
    _emit(args, data, [_upload_line(upload)])
    return 1 if upload.status.is_failure else 0


def cmd_upload_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.wait:
            upload = client.wait_for_upload(
                args.dataset,
                args.upload,
                timeout=args.timeout,
                max_interval=args.max_interval,
                on_poll=_poll_printer(args, _upload_line),
            )
        else:
            upload = client.get_upload(args.dataset, args.upload)
    _emit(args, _upload_json(upload), [_upload_line(upload)])
    return 1 if upload.status.is_failure else 0


def cmd_uploads_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        uploads = client.list_uploads(
            dataset_id=args.dataset, status=args.status, page_size=args.page_size
        )
    _emit(
        args,
        {"uploads": [_upload_json(u) for u in uploads]},
        [_upload_line(u) for u in uploads] or ["no uploads"],
    )
    return 0


def cmd_audience_create(args: argparse.Namespace) -> int:
    body = _audience_body(args)
    with _client(args) as client:
        result: AudienceResult = client.ensure_audience(
            body, update_failed=not args.no_update_failed
        )
        if result.differences:
            raise AduError(
                f"audience {result.audience.name!r} exists ({result.audience.audience_id}) "
                "with other settings: " + "; ".join(result.differences)
            )
        audience = result.audience
        verb = {"created": "created", "reused": "exists:", "updated": "re-ran FAILED"}
        _note(f"{verb[result.action]} audience {audience.audience_id} ({audience.name})")
        if args.wait:
            audience = client.wait_for_audience(
                audience.audience_id,
                timeout=args.timeout,
                max_interval=args.max_interval,
                on_poll=_poll_printer(args, _audience_line),
            )
    _emit(args, {**_audience_json(audience), "action": result.action}, [_audience_line(audience)])
    return 1 if args.wait and audience.status.is_failure else 0


def _audience_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.segment is not None:
        if args.name or args.sql or args.sql_file:
            raise InputError("give either --segment or --name/--sql, not both")
        from adu_pipeline.dataset import load_segment

        body = load_segment(args.segment).audience_body(datetime.now(UTC).date())
        if args.audience_advertiser:
            body["advertiserId"] = args.audience_advertiser
        return body
    if not args.name:
        raise InputError("audience create needs --segment, or --name with --sql and --advertiser")
    query = args.sql
    if args.sql_file is not None:
        try:
            query = args.sql_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {args.sql_file}: {exc.strerror}") from None
    return audience_request(
        args.name,
        query or "",
        args.audience_advertiser or "",
        time_window_start=args.start and _timestamp_arg(args.start),
        time_window_end=args.end and _timestamp_arg(args.end),
        relative_days=args.days,
        refresh_rate_days=args.refresh_days,
        description=args.description,
        country_code=args.country,
    )


def _timestamp_arg(text: str) -> str:
    text = text.strip()
    if len(text) == 10:
        return text + "T00:00:00Z"
    return text


def cmd_audience_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.wait:
            audience = client.wait_for_audience(
                args.audience_id,
                timeout=args.timeout,
                max_interval=args.max_interval,
                on_poll=_poll_printer(args, _audience_line),
            )
        else:
            audience = client.get_audience(args.audience_id)
    _emit(args, _audience_json(audience), [_audience_line(audience)])
    return 1 if audience.status.is_failure else 0


def cmd_audiences_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        audiences = client.list_audiences(page_size=args.page_size)
    _emit(
        args,
        {"executionMetadata": [_audience_json(a) for a in audiences]},
        [_audience_line(a) for a in audiences] or ["no audiences"],
    )
    return 0


def cmd_audience_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.delete_audience(args.audience_id)
    _emit(args, {"audienceExecutionId": args.audience_id, "action": "deleted"}, ["deleted"])
    return 0
