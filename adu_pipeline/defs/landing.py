"""Landing files: one export per date, named crm_export_YYYY-MM-DD.{csv,csv.gz,parquet,jsonl}."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

LANDING_PREFIX = "crm_export_"
EXTENSIONS = (".csv.gz", ".csv", ".parquet", ".jsonl")
_NAME = re.compile(r"^crm_export_(\d{4}-\d{2}-\d{2})(\.csv\.gz|\.csv|\.parquet|\.jsonl)$")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    export_date: date
    size_bytes: int
    mtime_ns: int

    @property
    def partition_key(self) -> str:
        return self.export_date.isoformat()

    @property
    def fingerprint(self) -> str:
        """Changes when the file is replaced, so a re-delivered export is noticed again."""
        return f"{self.mtime_ns}:{self.size_bytes}"


def landing_name(export_date: date, extension: str = ".csv") -> str:
    return f"{LANDING_PREFIX}{export_date.isoformat()}{extension}"


def parse_landing_name(name: str) -> date | None:
    match = _NAME.match(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def scan_landing(folder: Path) -> list[LandingFile]:
    """Every well-named export in the folder, oldest date first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        export_date = parse_landing_name(path.name)
        if export_date is None or not path.is_file():
            continue
        stat = path.stat()
        found.append(LandingFile(path, export_date, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.export_date, f.path.name))


def find_landing_file(folder: Path, export_date: date) -> LandingFile:
    """The one export for the date; none or several is an error a person must resolve."""
    matches = [f for f in scan_landing(folder) if f.export_date == export_date]
    if not matches:
        raise dg.Failure(
            description=(
                f"no landing file for {export_date.isoformat()} in {folder}: expected "
                f"{landing_name(export_date, '{.csv,.csv.gz,.parquet,.jsonl}')}"
            ),
            allow_retries=False,
        )
    if len(matches) > 1:
        names = ", ".join(f.path.name for f in matches)
        raise dg.Failure(
            description=f"several landing files for {export_date.isoformat()}: {names}; keep one",
            allow_retries=False,
        )
    return matches[0]
