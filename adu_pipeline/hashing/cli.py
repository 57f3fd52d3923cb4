"""`adu hash`: normalize and hash the PII columns of an export file (see `adu hash --help`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from adu_pipeline.errors import InputError
from adu_pipeline.hashing.engine import DEFAULT_BATCH_ROWS, hash_file
from adu_pipeline.hashing.malloc import keep_freed_memory
from adu_pipeline.hashing.plan import HashPlan, parse_pii_type
from adu_pipeline.hashing.progress import ProgressLine

_EPILOG = """\
examples:
  adu hash export.csv -o hashed.csv --country US --pii email=EMAIL --pii phone=PHONE
  adu hash export.csv.gz -o hashed.parquet --country-column country --country US \\
      --pii email=EMAIL --pii zip=ZIP --rejects rejects.csv
  adu hash export.jsonl -o hashed.parquet --dataset data/datasets/crm_customers.yaml \\
      --export-date 2024-06-01
TYPE is one of EMAIL, PHONE, FIRST_NAME, LAST_NAME, ADDRESS, CITY, STATE, ZIP.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "hash",
        help="normalize and SHA-256 hash the PII columns of a CSV/Parquet/JSONL export",
        description="Normalize (Amazon's rules) and SHA-256 hash the PII columns of an export.\n"
        "Reads CSV, CSV.gz, Parquet or JSON lines; writes CSV, CSV.gz or Parquet by the\n"
        "output's extension, atomically. A summary (counts only) goes to stderr.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input", metavar="INPUT", help="export file (.csv, .csv.gz, .parquet, .jsonl)"
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="output file (.csv, .csv.gz or .parquet)",
    )
    parser.add_argument(
        "--pii",
        action="append",
        default=[],
        metavar="COLUMN=TYPE",
        help="a PII column and its type; repeat for each column",
    )
    parser.add_argument(
        "--country", metavar="CC", help="country of rows without their own (ISO alpha-2, UK = GB)"
    )
    parser.add_argument(
        "--country-column",
        metavar="COLUMN",
        help="column holding each row's country; wins over --country",
    )
    parser.add_argument(
        "--dataset",
        metavar="FILE.yaml",
        help="take the columns and types from a dataset definition",
    )
    parser.add_argument(
        "--export-date",
        metavar="YYYY-MM-DD",
        help="date filled into the dataset's main event time column",
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    parser.add_argument(
        "--delimiter", default=",", help="CSV field delimiter, one character; \\t or tab for tabs"
    )
    parser.add_argument(
        "--rejects",
        metavar="FILE",
        help="write row number, column and reason per problem (no values)",
    )
    parser.add_argument(
        "--drop-duplicates",
        action="store_true",
        help="drop exact duplicate rows after hashing (counted)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="hashing threads (default: 2 for large files, else 1)",
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=DEFAULT_BATCH_ROWS,
        metavar="N",
        help=f"rows per batch; memory grows with it (default {DEFAULT_BATCH_ROWS:,})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    plan = build_plan(args)
    keep_freed_memory()  # a one-shot process: pages reused batch after batch
    progress = ProgressLine(sys.stderr)
    try:
        summary = hash_file(
            args.input,
            args.output,
            plan,
            rejects_path=args.rejects,
            export_date=parse_date(args.export_date) if args.export_date else None,
            drop_duplicates=args.drop_duplicates,
            encoding=args.encoding,
            delimiter=parse_delimiter(args.delimiter),
            workers=args.workers,
            batch_rows=max(1, args.batch_rows),
            progress=progress,
        )
    finally:
        progress.finish()
    print(summary.format(), file=sys.stderr)
    return 0


def build_plan(args: argparse.Namespace) -> HashPlan:
    if args.dataset:
        if args.pii or args.country_column:
            raise InputError(
                "--dataset takes the columns from the definition: drop --pii and --country-column"
            )
        from adu_pipeline.dataset import load_definition

        return HashPlan.from_definition(
            load_definition(args.dataset), country_override=args.country
        )
    pii = {}
    for item in args.pii:
        column, sep, type_name = item.partition("=")
        if not sep or not column.strip() or not type_name.strip():
            raise InputError(f"--pii takes COLUMN=TYPE, got {item!r}")
        if column in pii:
            raise InputError(f"--pii names column {column!r} twice")
        pii[column] = parse_pii_type(type_name)
    return HashPlan.from_pii_args(pii, args.country, args.country_column)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--export-date must be YYYY-MM-DD, got {text!r}") from None


def parse_delimiter(text: str) -> str:
    if text in ("\\t", "tab", "TAB"):
        return "\t"
    if len(text) != 1:
        raise InputError(f"--delimiter must be one character, got {text!r}")
    return text
