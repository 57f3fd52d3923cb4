"""Sensor cursors as JSON objects; a cursor that is unreadable (an older format) starts fresh."""

from __future__ import annotations

import json
from typing import Any


def load(cursor: str | None) -> dict[str, Any]:
    try:
        value = json.loads(cursor) if cursor else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def dump(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
