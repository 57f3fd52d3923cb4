"""`adu amc ...`: log in, discover, and drive datasets, uploads and audiences from a shell.

A click group, one module per command group. AMC errors print one line and exit 2 (the `adu`
entry point prints AduError); so do usage errors; a job that ends FAILED after --wait exits 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import click

from adu_pipeline.amc.cli import audiences, auth, datasets, discover, uploads

HELP = "Talk to Amazon Marketing Cloud (or the emulator)."


@click.group(name="amc", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
def amc() -> None:
    pass


for _module in (auth, discover, datasets, uploads, audiences):
    for _command in _module.COMMANDS:
        amc.add_command(_command)


def main(argv: list[str]) -> int:
    """Run `adu amc <argv>`; returns the exit code (AduError propagates to the `adu` caller)."""
    try:
        result = amc.main(args=argv, prog_name="adu amc", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else HELP)
        return 2
    except click.ClickException as exc:  # usage errors and bad flag values
        where = f" (see {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
        message = " ".join(exc.format_message().split())
        print(f"error: {message}{where}", file=sys.stderr)
        return 2
    except click.exceptions.Abort:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


def add_parser(subparsers: Any) -> None:
    """List `amc` in `adu --help`; `adu amc ...` itself is handed to click with the rest of argv."""
    parser = subparsers.add_parser(
        "amc", help="talk to Amazon Marketing Cloud (or the emulator)", add_help=False
    )
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    parser.set_defaults(func=lambda args: main(args.argv))
