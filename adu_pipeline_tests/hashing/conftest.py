"""Helpers for the hashing tests: run `adu hash` as a real subprocess, expected hashes."""

from __future__ import annotations

import csv
import ctypes
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

# A fake email planted in bad files: it must never show up in an error message.
CANARY = "leaky.canary@example.org"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def sha(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def _obey_file_permissions() -> None:
    """In the child: as root, drop the capabilities that bypass file permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_adu(
    *args: object, timeout: float = 180, python_args: list[str] | None = None
) -> subprocess.CompletedProcess:
    """`adu hash ...` in a fresh interpreter (with `python_args`, e.g. -X importtime); file
    permissions apply even when we are root."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    preexec = _obey_file_permissions if os.geteuid() == 0 else None
    return subprocess.run(
        [sys.executable, *(python_args or []), "-m", "adu_pipeline.cli", "hash", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=timeout,
        preexec_fn=preexec,
    )


def read_csv(path: Path, opener=open) -> list[dict[str, str]]:
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.fixture
def run():
    return run_adu
