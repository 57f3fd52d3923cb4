"""The `adu` command. Each sub-command lives beside the part it drives; this only dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys

from adu_pipeline.errors import AduError

# sub-command -> module exposing `add_parser(subparsers)`; each parser sets `func(args) -> int`.
# Those in OWN_PARSER also expose `main(argv) -> int` and get the rest of argv as it is (click).
SUBCOMMANDS = {
    "hash": "adu_pipeline.hashing.cli",
    "amc": "adu_pipeline.amc.cli",
    "emulator": "adu_pipeline.emulator.cli",
    "local": "adu_pipeline.local.stack",
    "demo": "adu_pipeline.local.demo",
    "dev": "adu_pipeline.local.dev",
}
OWN_PARSER = frozenset({"amc"})


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All sub-commands, or just `only` (so `adu hash` does not import Dagster)."""
    parser = argparse.ArgumentParser(
        prog="adu", description="CRM export to Amazon Marketing Cloud audiences."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # a part that is not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    only = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    try:
        if only in OWN_PARSER:
            return int(importlib.import_module(SUBCOMMANDS[only]).main(argv[1:]) or 0)
        args = build_parser(only).parse_args(argv)
        return int(args.func(args) or 0)
    except AduError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
