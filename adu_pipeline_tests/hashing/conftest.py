"""Helpers for the hashing tests: run `adu hash` as a real subprocess, expected hashes."""

from __future__ import annotations

import csv
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


def sha(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def run_adu(
    *args: object, user: int | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """`adu hash ...` in a fresh interpreter (as `user` when given and we are root)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    preexec = None
    if user is not None:

        def preexec() -> None:  # drop root so file permissions apply
            os.setgid(user)
            os.setuid(user)

        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "adu_pipeline.cli", "hash", *map(str, args)],
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
