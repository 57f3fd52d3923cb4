"""What every `adu amc` command shares: the connection flags, the client, and the output.

Configuration comes from ADU_AMC_* environment variables, overridden by flags. Output is one
human-readable line per item, or JSON with --json.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from adu_pipeline.amc.client import AmcClient
from adu_pipeline.amc.config import AmcConfig, env_var_name
from adu_pipeline.amc.retry import RetryPolicy
from adu_pipeline.errors import InputError

# flag -> (AmcConfig field, help)
CONFIG_FLAGS = {
    "region": ("region", "NA, EU or FE (default NA)"),
    "base-url": ("base_url", "API host override, e.g. the emulator's URL"),
    "token-url": ("token_url", "Login with Amazon token URL override"),
    "authorize-url": ("authorize_endpoint", "Login with Amazon consent page override"),
    "client-id": ("client_id", "LwA client id"),
    "client-secret": ("client_secret", "LwA client secret (prefer the environment variable)"),
    "refresh-token": ("refresh_token", "LwA refresh token (prefer the environment variable)"),
    "advertiser-id": ("advertiser_id", "AMC account id (Amazon-Advertising-API-AdvertiserId)"),
    "marketplace-id": ("marketplace_id", "marketplace id, e.g. ATVPDKIKX0DER"),
    "instance-id": ("instance_id", "AMC instance id"),
    "ads-account-id": ("ads_account_id", "optional Amazon-Ads-AccountId"),
    "entity-id": ("entity_id", "audience EntityId (default: the advertiser id)"),
}
CREDENTIALS = ("client_id", "client_secret", "refresh_token")


@dataclass(frozen=True)
class Connection:
    """The connection flags of one invocation, and how it prints."""

    overrides: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False
    budget: float = 120.0

    def config(self) -> AmcConfig:
        return AmcConfig.from_env(require_credentials=False).with_overrides(**self.overrides)

    def client(self) -> AmcClient:
        config = self.config()
        config.require(*CREDENTIALS, purpose="calling AMC")
        return AmcClient(config, retry=RetryPolicy(budget_seconds=self.budget))

    def emit(self, data: Any, lines: Iterable[str]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        else:
            for line in lines:
                click.echo(line)


def amc_command(name: str, help: str) -> Callable[[Callable[..., int]], click.Command]:
    """A command taking the connection flags, --json and --budget; the function receives a
    Connection first and returns the exit code."""

    def decorate(function: Callable[..., int]) -> click.Command:
        @functools.wraps(function)
        def run(**kwargs: Any) -> int:
            overrides = {dest: kwargs.pop(_param(flag)) for flag, (dest, _) in CONFIG_FLAGS.items()}
            conn = Connection(overrides, kwargs.pop("as_json"), kwargs.pop("budget"))
            return function(conn, **kwargs)

        options = [
            click.option(
                f"--{flag}", _param(flag), default=None, help=f"{text} [{env_var_name(dest)}]"
            )
            for flag, (dest, text) in CONFIG_FLAGS.items()
        ]
        options += [
            click.option("--json", "as_json", is_flag=True, help="machine-readable JSON output"),
            click.option(
                "--budget",
                type=float,
                default=120.0,
                show_default=True,
                help="seconds one API call may spend, retries included",
            ),
        ]
        for option in reversed(options):
            run = option(run)
        return click.command(name, help=help)(run)

    return decorate


def _param(flag: str) -> str:
    return "conn_" + flag.replace("-", "_")


def wait_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--wait, --timeout and --max-interval for commands that can poll a job."""
    function = click.option(
        "--max-interval", type=float, default=15.0, help="longest pause between polls"
    )(function)
    function = click.option(
        "--timeout", type=float, default=3600.0, show_default=True, help="seconds to wait"
    )(function)
    return click.option("--wait", is_flag=True, help="poll until a terminal status")(function)


def exactly_one(required: bool = True, **given: Any) -> None:
    """Mutually exclusive flags: at most one (exactly one when `required`) may be given."""
    present = [name for name, value in given.items() if value is not None]
    flags = " / ".join(f"--{name.replace('_', '-')}" for name in given)
    ctx = click.get_current_context(silent=True)
    if len(present) > 1:
        raise click.UsageError(f"give only one of {flags}", ctx)
    if required and not present:
        raise click.UsageError(f"one of {flags} is required", ctx)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def poll_printer(describe: Callable[[Any], str]) -> Callable[[Any], None]:
    """Report a polled job on stderr each time its status changes."""
    last: list[str] = []

    def on_poll(item: Any) -> None:
        if not last or last[-1] != item.status_raw:
            last.append(item.status_raw)
            note(f"... {describe(item)}")

    return on_poll


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
