"""Landing files: one export per date, named <stem>_YYYY-MM-DD.{csv,csv.gz,parquet,jsonl}.

Each dataset names its stem (`pipeline.landing`, e.g. crm_export); several datasets may read the
same files. A FACT dataset runs one partition per file; a DIMENSION dataset reads the newest one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from adu_pipeline.errors import InputError

EXTENSIONS = (".csv.gz", ".csv", ".parquet", ".jsonl")
_NAME = re.compile(
    r"^(?P<stem>.+)_(?P<date>\d{4}-\d{2}-\d{2})(?P<ext>\.csv\.gz|\.csv|\.parquet|\.jsonl)$"
)


@dataclass(frozen=True)
class LandingFile:
    path: Path
    stem: str
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


def landing_name(stem: str, export_date: date, extension: str = ".csv") -> str:
    return f"{stem}_{export_date.isoformat()}{extension}"


def parse_landing_name(name: str) -> tuple[str, date] | None:
    """(stem, date) of a well-formed landing file name, else None."""
    match = _NAME.match(name)
    if not match:
        return None
    try:
        return match.group("stem"), date.fromisoformat(match.group("date"))
    except ValueError:
        return None


def scan_landing(folder: Path, stem: str | None = None) -> list[LandingFile]:
    """Every well-named export in the folder (of one stem, if given), oldest date first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        parsed = parse_landing_name(path.name)
        if parsed is None or not path.is_file() or (stem is not None and parsed[0] != stem):
            continue
        stat = path.stat()
        found.append(LandingFile(path, parsed[0], parsed[1], stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.export_date, f.path.name))


def find_landing_file(folder: Path, stem: str, export_date: date) -> LandingFile:
    """The one export of `stem` for the date; none or several is an error a person must resolve."""
    matches = [f for f in scan_landing(folder, stem) if f.export_date == export_date]
    if not matches:
        raise InputError(
            f"no landing file for {export_date.isoformat()} in {folder}: expected "
            f"{landing_name(stem, export_date, '{.csv,.csv.gz,.parquet,.jsonl}')}"
        )
    if len(matches) > 1:
        names = ", ".join(f.path.name for f in matches)
        raise InputError(f"several landing files for {export_date.isoformat()}: {names}; keep one")
    return matches[0]


def newest_landing_file(folder: Path, stem: str) -> LandingFile:
    """The export with the latest date (a DIMENSION dataset is the newest full list)."""
    files = scan_landing(folder, stem)
    if not files:
        raise InputError(
            f"no landing file in {folder}: expected {stem}_YYYY-MM-DD.csv (or .csv.gz, ...)"
        )
    newest = files[-1].export_date
    return find_landing_file(folder, stem, newest)
