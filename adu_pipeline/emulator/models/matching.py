"""Simulated AMC identity resolution: deterministic, documented, no real identity graph.

How a row is resolved (see README.md in this folder):

1. A row without any country code (row column > upload `countryCode` > dataset `countryCode`) is
   not resolved, as AMC leaves such rows out of identity resolution (API.md 5.1). Configurable.
2. Waterfall, most precise first; the first identifier the simulated graph "knows" wins:
   email (each EMAIL column), phone (each PHONE column), the name+address tuple
   (FIRST_NAME, LAST_NAME, ADDRESS all present, plus ZIP when present), external ids (MAID, ...).
3. Whether the graph knows an identifier is a pure function of its hash: the identifier's kind and
   value are hashed again with SHA-256 and the first 8 bytes, read as a fraction of 2^64, are
   compared with the kind's share (`MatchShares`: 70 % email, 60 % phone, 50 % name+address,
   55 % external ids by default). So about that share of distinct identifiers match, and the same
   identifier always gives the same answer, in every run and on every machine.
4. The user id is derived from the winning identifier (`amcu` + 28 hex of another SHA-256), so two
   rows with the same matched email share a user id. `user_id_type` is `adUserId`.
5. After resolution the hashed PII and external id values are dropped from the stored row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from adu_pipeline.emulator.config import MatchShares

USER_ID_TYPE = "adUserId"


@dataclass(frozen=True)
class IdentityColumns:
    """The dataset's identity columns by kind, in the order the waterfall tries them."""

    email: tuple[str, ...] = ()
    phone: tuple[str, ...] = ()
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    zip: str | None = None
    external: tuple[tuple[str, str], ...] = ()  # (column, ExternalIdentityType)

    @classmethod
    def of(cls, columns: list[dict]) -> IdentityColumns:
        by_type: dict[str, list[str]] = {}
        external = []
        for column in columns:
            kind = column.get("externalUserIdType") or {}
            if kind.get("hashedPii"):
                by_type.setdefault(kind["hashedPii"], []).append(column["name"])
            elif kind.get("externalIdentity"):
                external.append((column["name"], kind["externalIdentity"]))

        def first(t: str) -> str | None:
            return by_type.get(t, [None])[0]

        return cls(
            email=tuple(by_type.get("EMAIL", ())),
            phone=tuple(by_type.get("PHONE", ())),
            first_name=first("FIRST_NAME"),
            last_name=first("LAST_NAME"),
            address=first("ADDRESS"),
            zip=first("ZIP"),
            external=tuple(external),
        )

    def candidates(self, row: dict) -> list[tuple[str, str]]:
        """(kind, identifier key) pairs for a row, in waterfall order."""
        out = [("email", row[c]) for c in self.email if row.get(c)]
        out += [("phone", row[c]) for c in self.phone if row.get(c)]
        if self.first_name and self.last_name and self.address:
            parts = [row.get(self.first_name), row.get(self.last_name), row.get(self.address)]
            if all(parts):
                if self.zip and row.get(self.zip):
                    parts.append(row[self.zip])
                out.append(("name_address", "|".join(parts)))
        for column, id_type in self.external:
            value = row.get(column)
            if value:
                value = value.lower() if id_type == "MAID" else value
                out.append(("external_id", f"{id_type}|{value}"))
        return out


def _fraction(kind: str, key: str) -> float:
    digest = hashlib.sha256(f"amc-emulator/match/{kind}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def known_below(share: float) -> int:
    """The same rule as `_fraction(...) < share`, in integers: an identifier is known exactly
    when the first 8 bytes of its digest, big-endian, are below this (float rounding
    included), so SQL can compare the digest's first 16 hex digits as text."""
    low, high = 0, 2**64  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if middle / 2**64 < share:
            low = middle + 1
        else:
            high = middle
    return low


def user_id_for(kind: str, key: str) -> str:
    return "amcu" + hashlib.sha256(f"amc-emulator/user/{kind}/{key}".encode()).hexdigest()[:28]


def resolve(
    row: dict, identity: IdentityColumns, shares: MatchShares, has_country: bool
) -> tuple[str | None, str | None]:
    """(user_id, user_id_type) for a row, or (None, None) when nothing matches."""
    if not has_country:
        return None, None
    for kind, key in identity.candidates(row):
        if _fraction(kind, key) < getattr(shares, kind):
            return user_id_for(kind, key), USER_ID_TYPE
    return None, None
