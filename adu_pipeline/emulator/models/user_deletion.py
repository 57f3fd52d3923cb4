"""User deletion requests over the stored rows (CreateUserDeletionRequest, API.md 3.8).

An `Identity` is `{hashedIdentity: {<HashedPiiType>: sha256, ...}}` or `{externalIdentity:
{type, value}}`. A stored row matches when one of its hashed-PII columns of that type held the
hash, or one of its external-id columns of that type the value (each pair of a hashedIdentity
is enough on its own: deleting too much is safer than too little). The rows' identifiers are
kept apart (`rows.identities`, as `ingest.identity_key`s) for exactly this match.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from adu_pipeline.emulator.exceptions import ApiError
from adu_pipeline.emulator.models.ingest import identity_key
from adu_pipeline.emulator.models.state import LIVE_ROWS

HASHED_PII_TYPES = frozenset(
    ("ADDRESS", "CITY", "COUNTRY_CODE", "EMAIL", "FIRST_NAME", "LAST_NAME", "PHONE", "STATE", "ZIP")
)
SHA256_ANY_CASE = re.compile(r"^[0-9a-fA-F]{64}$")


def identity_keys(identities: Iterable[Mapping[str, Any]]) -> list[str]:
    """The identity keys of a schema-valid `targetIdentities`; 400 naming the place of a type
    the spec does not list, an empty hashedIdentity, a hash that is not SHA-256 hex or an
    empty external id (never the value)."""
    keys: list[str] = []
    for n, identity in enumerate(identities):
        hashed = identity.get("hashedIdentity")
        if hashed is not None:
            if not hashed:
                raise ApiError(400, f"targetIdentities/{n}/hashedIdentity: must not be empty.")
            for pii_type, value in hashed.items():
                where = f"targetIdentities/{n}/hashedIdentity"
                if pii_type not in HASHED_PII_TYPES:
                    raise ApiError(400, f"{where}: keys must be HashedPiiType values.")
                if not SHA256_ANY_CASE.match(value):
                    raise ApiError(400, f"{where}/{pii_type}: must be a SHA-256 hex digest.")
                keys.append(identity_key(pii_type, value))
        else:
            external = identity["externalIdentity"]
            if not external["value"].strip():
                raise ApiError(
                    400, f"targetIdentities/{n}/externalIdentity/value: must not be empty."
                )
            keys.append(identity_key(external["type"], external["value"]))
    return keys


def remove_rows(conn: sqlite3.Connection, instance_id: str, keys: list[str]) -> int:
    """Delete, inside the caller's transaction, every row of every dataset of the instance that
    holds one of `keys`; returns how many rows went."""
    if not keys:
        return 0
    cursor = conn.execute(
        f"DELETE FROM rows WHERE instance_id=? AND identities IS NOT NULL AND {LIVE_ROWS}"
        " AND EXISTS"
        " (SELECT 1 FROM json_each(rows.identities) AS held"
        "  WHERE held.value IN (SELECT value FROM json_each(?)))",
        (instance_id, json.dumps(sorted(set(keys)))),
    )
    return cursor.rowcount
