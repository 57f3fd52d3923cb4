"""The batch path of an upload: a whole batch of CSV fields checked, converted and resolved in
one DuckDB query, instead of one `RowChecker.check` per row (issue 9).

The screen accepts only what the row path accepts and stores exactly what it stores (the same
JSON values, identities, partition and user id). It is deliberately narrower than the row path:
whatever it is not sure of (a bad or unusual value, a quote or escape it does not read the way
Python's csv module does, an unknown column) makes the batch `Doubtful`, and the row path then
reads those rows again and either accepts them or raises its exact message. So every message
still comes from one place, `ingest.RowChecker`.
"""

from __future__ import annotations

import csv
import json
import re

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.ingest import INT_RANGE, RowChecker
from adu_pipeline.emulator.models.matching import USER_ID_TYPE, known_below

HEX64 = "[0-9a-f]{64}"
YEAR_RE = "(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999, as Python's date
DATE_RE = f"{YEAR_RE}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
TIME_RE = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"


class Doubtful(Exception):
    """The screen is not sure of this batch: the row path must read it."""


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class BatchScreen:
    """One DuckDB query per (dataset, CSV header): fields in, stored rows out, or Doubtful."""

    def __init__(
        self, checker: RowChecker, header: list[str], delimiter: str, quote: str, escape: str
    ):
        if len(set(header)) != len(header) or any(n not in checker.by_name for n in header):
            self.sql = None  # the row path names the column (or the header field)
            return
        self.checker = checker
        self.fields = {name: f"f{i}" for i, name in enumerate(header)}
        self.delimiter, self.quote, self.escape = delimiter, quote, escape
        self.sql = self._query()

    def stored(self, con: duckdb.DuckDBPyConnection, batch: pa.Table) -> pa.Table:
        """partition, data (the row as JSON) and identities (JSON) per row, in order; Doubtful
        when unsure."""
        if self.sql is None:
            raise Doubtful
        con.register("batch", batch)
        try:
            out = con.sql(self.sql).to_arrow_table()
        finally:
            con.unregister("batch")
        ok = out.column("ok")
        if ok.null_count or not pc.all(ok).as_py():
            raise Doubtful
        return out.select(["partition", "data", "identities"])

    # --- the query ----------------------------------------------------------------------------

    def _query(self) -> str:
        """Three steps: fields checked and unquoted; stored values and the user id; the stored
        row, identities and partition."""
        checker = self.checker
        raw = {n: ident("r_" + n) for n in checker.by_name}
        tokens: list[str] = []  # on the fields as written
        checks: list[str] = []  # on the unquoted values
        fields = []
        for name, column in checker.by_name.items():
            field = self.fields.get(name)
            if field is None:
                fields.append(f"NULL::VARCHAR AS {raw[name]}")
                continue
            f = ident(field)
            tokens.append(f"regexp_full_match({f}, {lit(self._token_pattern(column))})")
            if column["dataType"] == "STRING" and not _formatted(column):
                tokens.append(f"strlen({f}) <= {csv.field_size_limit()}")
            fields.append(f"NULLIF(replace({f}, {lit(self.quote)}, ''), '') AS {raw[name]}")
        values = {n: self._converted(raw[n], c, checks) for n, c in checker.by_name.items()}
        for name, id_type in checker.identity.external:
            if id_type == "MAID":  # lowercased: DuckDB's lower() is Python's for ASCII only
                checks.append(f"{raw[name]} IS NULL OR NOT regexp_matches({raw[name]}, '[^ -~]')")
        if checker.config.require_country_for_matching is False or checker.default_country:
            country = "TRUE"
        elif checker.country_col:
            country = f"{raw[checker.country_col]} IS NOT NULL"
        else:
            country = "FALSE"
        members: list[tuple[str, str | None]] = [  # (name, JSON text expression | None: null)
            (n, None if n in checker.identity_types else _json_text(values[n], c))
            for n, c in checker.by_name.items()
        ]
        if checker.user_id_col:  # 'amcu' + hex, and a constant: no escaping needed
            members.append((checker.user_id_col, "'\"' || user_id || '\"'"))
            if checker.user_type_col:
                user_type = (
                    f"CASE WHEN user_id IS NOT NULL THEN {lit(json.dumps(USER_ID_TYPE))} END"
                )
                members.append((checker.user_type_col, user_type))
        keys = [
            f"CASE WHEN {raw[n]} IS NOT NULL THEN {self._identity_key(n, raw[n])} END"
            for n in checker.identity_names
        ]
        identities = f"'[' || concat_ws(',', {', '.join(keys)}) || ']'" if keys else "'[]'"
        fields.append(f"{' AND '.join(tokens) or 'TRUE'} AS tokens_ok")
        ok = " AND ".join(["tokens_ok", *(f"({c})" for c in checks)])
        candidates = self._candidates(raw)
        keys = [(kind, ident(f"k_{i}")) for i, (kind, _) in enumerate(candidates)]
        key_columns = "".join(
            f", {expr} AS {name}" for (_, expr), (_, name) in zip(candidates, keys, strict=True)
        )
        return (
            f"SELECT coalesce(ok, FALSE) AS ok, {self._partition(values)} AS partition,"
            f" {_json_object(members)} AS data, {identities} AS identities"
            f" FROM (SELECT *, {self._user_id(keys, country)} AS user_id"
            f" FROM (SELECT *, {ok} AS ok{key_columns}"
            f" FROM (SELECT {', '.join(fields)} FROM batch)))"
        )

    def _token_pattern(self, column: dict) -> str:
        """RE2 for a field as written: the value's pattern, plain or quoted (so no quote, escape
        or NUL inside, which Python's csv would read another way)."""
        value = _formatted(column)
        if value is None:
            banned = re.escape(
                self.delimiter + self.quote + ("" if self.escape == self.quote else self.escape)
            )
            value = f"[^{banned}\\x00]*"
        q = re.escape(self.quote)
        return f"{q}({value})?{q}|({value})?"

    def _converted(self, v: str, column: dict, checks: list[str]) -> str:
        """Stored value of one column (as `ingest.convert` gives it) from its checked text,
        adding the checks its pattern cannot make."""
        if column.get("isMainEventTime") or not column.get("nullable", True):
            checks.append(f"{v} IS NOT NULL")
        data_type = column["dataType"]
        if data_type in INT_RANGE:
            low, high = INT_RANGE[data_type]
            number = f"TRY_CAST({v} AS BIGINT)"
            checks.append(f"{v} IS NULL OR {number} BETWEEN {low} AND {high}")
            return number
        if data_type == "DECIMAL":  # [+-]digits[.d[d]] -> Decimal's text, 2 places, sign kept
            sign = f"CASE WHEN starts_with({v}, '-') THEN '-' ELSE '' END"
            whole = f"TRY_CAST(ltrim(split_part({v}, '.', 1), '+-') AS BIGINT)::VARCHAR"
            cents = f"rpad(split_part({v}, '.', 2), 2, '0')"
            return f"CASE WHEN {v} IS NOT NULL THEN {sign} || {whole} || '.' || {cents} END"
        if data_type == "TIMESTAMP":
            checks.append(f"{v} IS NULL OR TRY_CAST(substr({v}, 1, 10) AS DATE) IS NOT NULL")
            return f"CASE WHEN {v} IS NOT NULL THEN substr({v}, 1, 19) || 'Z' END"
        if data_type == "DATE":
            checks.append(f"{v} IS NULL OR TRY_CAST({v} AS DATE) IS NOT NULL")
        return v

    def _identity_key(self, name: str, v: str) -> str:
        """`ingest.identity_key` in SQL, as a JSON string: hashes (any case) and MAIDs
        lowercase."""
        kind = self.checker.identity_types[name]
        if rules.hashed_pii_type(self.checker.by_name[name]):
            return f"{lit(chr(34) + kind + '|')} || {v} || '\"'"  # 64 lowercase hex (checked)
        if kind == "MAID":
            value = f"lower({v})"
        else:
            hexed = f"regexp_full_match(lower({v}), {lit(HEX64)})"
            value = f"CASE WHEN {hexed} THEN lower({v}) ELSE {v} END"
        return f"to_json({lit(kind + '|')} || {value})::VARCHAR"

    def _candidates(self, values: dict[str, str]) -> list[tuple[str, str]]:
        """(kind, key expression) per identifier of the waterfall, as `IdentityColumns.
        candidates` orders them; a key is NULL where the row lacks the identifier."""
        identity = self.checker.identity
        candidates = [("email", values[c]) for c in identity.email]
        candidates += [("phone", values[c]) for c in identity.phone]
        if identity.first_name and identity.last_name and identity.address:
            parts = (identity.first_name, identity.last_name, identity.address)
            key = " || '|' || ".join(values[p] for p in parts)
            if identity.zip:
                key += f" || coalesce('|' || {values[identity.zip]}, '')"
            candidates.append(("name_address", key))
        for column, id_type in identity.external:
            value = f"lower({values[column]})" if id_type == "MAID" else values[column]
            candidates.append(("external_id", f"{lit(id_type + '|')} || {value}"))
        return candidates

    def _user_id(self, keys: list[tuple[str, str]], has_country: str) -> str:
        """`matching.resolve` in SQL over the candidate key columns: the first known wins."""
        shares = self.checker.config.match_shares
        whens = []
        for kind, key in keys:
            below = known_below(getattr(shares, kind))
            digest = f"sha256({lit(f'amc-emulator/match/{kind}/')} || {key})"
            if below >= 2**64:
                known = "TRUE"
            else:
                known = f"substr({digest}, 1, 16) < {lit(f'{below:016x}')}"
            user = f"'amcu' || substr(sha256({lit(f'amc-emulator/user/{kind}/')} || {key}), 1, 28)"
            whens.append(f"WHEN {key} IS NOT NULL AND {known} THEN {user}")
        if not whens:
            return "NULL::VARCHAR"
        return f"CASE WHEN NOT ({has_country}) THEN NULL {' '.join(whens)} END"

    def _partition(self, values: dict[str, str]) -> str:
        """`RowChecker.partition` in SQL."""
        checker = self.checker
        if not checker.event_col:
            return "''"
        v = values[checker.event_col]
        if checker.period == "PT1H":
            return f"CASE WHEN contains({v}, 'T') THEN substr({v}, 1, 13) ELSE {v} || 'T00' END"
        return f"substr({v}, 1, {7 if checker.period == 'P1M' else 10})"


def _formatted(column: dict) -> str | None:
    """RE2 of the values of a column with a format (a subset of what `ingest.convert` accepts),
    or None for a free STRING."""
    data_type = column["dataType"]
    if data_type == "STRING":
        if rules.hashed_pii_type(column):
            return HEX64
        return "[A-Z]{2}" if column.get("isCountryCode") else None
    if data_type in INT_RANGE:
        return "[+-]?[0-9]{1,18}"
    if data_type == "DECIMAL":
        return "[+-]?[0-9]{1,16}(\\.[0-9]{1,2})?"
    if data_type == "TIMESTAMP":
        return f"{DATE_RE}T{TIME_RE}(\\.[0-9]{{1,6}})?Z"
    return DATE_RE


def _json_text(v: str, column: dict) -> str:
    """JSON text of a stored value: numbers bare, formatted values (digits, hex, dates,
    [A-Z]{2}: nothing to escape) quoted, free strings escaped by DuckDB's to_json."""
    if column["dataType"] in INT_RANGE:
        return f"CAST({v} AS VARCHAR)"
    if column["dataType"] == "STRING" and _formatted(column) is None:
        return f"to_json({v})::VARCHAR"
    return f"'\"' || {v} || '\"'"


def _json_object(members: list[tuple[str, str | None]]) -> str:
    """The row as one JSON object, keys in order (as json.dumps of the row path's dict); the
    constant text between values is folded into single literals."""
    parts: list[str] = []
    text = "{"
    for index, (name, value) in enumerate(members):
        text += ("," if index else "") + json.dumps(name) + ":"
        if value is None:
            text += "null"
            continue
        parts += [lit(text), f"coalesce({value}, 'null')"]
        text = ""
    parts.append(lit(text + "}"))
    return f"concat({', '.join(parts)})"
