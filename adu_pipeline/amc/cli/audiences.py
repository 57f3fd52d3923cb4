"""`adu amc audience create|delete`, `audience-status` and `audiences list`: rule-based audiences.

Bodies come from the one builder (`audience_request`, or a segment's `audience_body(now)`);
`AmcClient.ensure_audience` finds by name, re-runs a FAILED one and refuses a different one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from adu_pipeline.amc.bodies import audience_request
from adu_pipeline.amc.cli.common import (
    Connection,
    amc_command,
    exactly_one,
    note,
    poll_printer,
    wait_options,
)
from adu_pipeline.amc.models import Audience
from adu_pipeline.errors import InputError

FILE = click.Path(path_type=Path)


@click.group("audience", help="one rule-based audience")
def audience() -> None:
    pass


@amc_command("create", "create an audience (idempotent by name)")
@click.option("--segment", type=FILE, default=None, help="segment YAML (data/segments/*.yaml)")
@click.option("--name", default=None, help="audience name (without a segment)")
@click.option("--sql", default=None, help="SQL selecting user_id")
@click.option("--sql-file", type=FILE, default=None, help="file holding the SQL")
@click.option("--advertiser", default=None, help="DSP advertiser id")
@click.option("--days", type=int, default=None, help="relative time window in days")
@click.option("--start", default=None, help="fixed window start (yyyy-mm-dd or AMC timestamp)")
@click.option("--end", default=None, help="fixed window end (a date is inclusive)")
@click.option("--refresh-days", type=int, default=None, help="refresh every N days (0-21)")
@click.option("--description", default=None)
@click.option("--country", default=None, help="audience country code (Global Buying only)")
@click.option("--no-update-failed", is_flag=True, help="do not re-run a FAILED one")
@wait_options
def create(conn: Connection, **options: Any) -> int:
    body = audience_body(options)
    wait, timeout, max_interval = options["wait"], options["timeout"], options["max_interval"]
    with conn.client() as client:
        result = client.ensure_audience(body, update_failed=not options["no_update_failed"])
        found = result.audience
        verb = {"created": "created", "reused": "exists:", "updated": "re-ran FAILED"}
        note(f"{verb[result.action]} audience {found.audience_id} ({found.name})")
        if wait:
            found = client.wait_for_audience(
                found.audience_id,
                timeout=timeout,
                max_interval=max_interval,
                on_poll=poll_printer(audience_line),
            )
    conn.emit({**audience_json(found), "action": result.action}, [audience_line(found)])
    return 1 if wait and found.status.is_failure else 0


def audience_body(options: dict[str, Any]) -> dict[str, Any]:
    """The CreateAudience body from --segment, or from the raw flags."""
    exactly_one(required=False, sql=options["sql"], sql_file=options["sql_file"])
    if options["segment"] is not None:
        if options["name"] or options["sql"] or options["sql_file"]:
            raise InputError("give either --segment or --name/--sql, not both")
        from adu_pipeline.dataset import load_segment  # not at import: keeps pandas out

        body = load_segment(options["segment"]).audience_body(datetime.now(UTC))
        if options["advertiser"]:
            body["advertiserId"] = options["advertiser"]
        return body
    if not options["name"]:
        raise InputError("audience create needs --segment, or --name with --sql and --advertiser")
    query = options["sql"]
    if options["sql_file"] is not None:
        try:
            query = options["sql_file"].read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {options['sql_file']}: {exc.strerror}") from None
    return audience_request(
        options["name"],
        query or "",
        options["advertiser"] or "",
        relative_days=options["days"],
        start=_window_arg(options["start"], "--start"),
        end=_window_arg(options["end"], "--end"),
        refresh_rate_days=options["refresh_days"],
        description=options["description"],
        country_code=options["country"],
    )


def _window_arg(text: str | None, flag: str) -> date | str | None:
    """A `yyyy-mm-dd` flag is a date (the builder gives it its meaning); else an AMC timestamp."""
    if text is None:
        return None
    text = text.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{flag} must be yyyy-mm-dd or yyyy-MM-ddTHH:mm:ssZ") from None
    return text


@amc_command("delete", "delete a FAILED/SUCCEEDED audience")
@click.argument("audience_id")
def delete(conn: Connection, audience_id: str) -> int:
    with conn.client() as client:
        client.delete_audience(audience_id)
    conn.emit({"audienceExecutionId": audience_id, "action": "deleted"}, ["deleted"])
    return 0


@amc_command("audience-status", "show (or wait for) an audience")
@click.argument("audience_id")
@wait_options
def audience_status(
    conn: Connection, audience_id: str, wait: bool, timeout: float, max_interval: float
) -> int:
    with conn.client() as client:
        if wait:
            found = client.wait_for_audience(
                audience_id,
                timeout=timeout,
                max_interval=max_interval,
                on_poll=poll_printer(audience_line),
            )
        else:
            found = client.get_audience(audience_id)
    conn.emit(audience_json(found), [audience_line(found)])
    return 1 if found.status.is_failure else 0


@click.group("audiences", help="rule-based audiences in AMC")
def audiences() -> None:
    pass


@amc_command("list", "list audiences")
@click.option("--page-size", type=int, default=None)
def list_(conn: Connection, page_size: int | None) -> int:
    with conn.client() as client:
        found = client.list_audiences(page_size=page_size)
    conn.emit(
        {"executionMetadata": [audience_json(a) for a in found]},
        [audience_line(a) for a in found] or ["no audiences"],
    )
    return 0


def audience_line(a: Audience) -> str:
    parts = [f"audience {a.audience_id}", f"name={a.name!r}", f"status={a.status_raw}"]
    if a.audience_count is not None:
        parts.append(f"audienceCount={a.audience_count}")
    if a.dsp_audience_id:
        parts.append(f"dspAudienceId={a.dsp_audience_id}")
    if a.status_reason and not a.status.is_success:
        parts.append(f"reason: {a.status_reason}")
    return "  ".join(parts)


def audience_json(a: Audience) -> dict[str, Any]:
    return {**a.raw, "audienceExecutionId": a.audience_id, "status": a.status_raw}


audience.add_command(create)
audience.add_command(delete)
audiences.add_command(list_)

COMMANDS = (audience, audience_status, audiences)
