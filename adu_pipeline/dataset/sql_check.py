"""A segment's SQL checked locally before AMC sees it: DuckDB binds it against empty tables
shaped like the datasets it reads (AMC's columns plus the `user_id` AMC resolves), so a
misspelt column or table fails here with DuckDB's message instead of as a FAILED audience.

AMC's SQL dialect is not DuckDB's: syntax or functions DuckDB does not know are not reported
(AMC decides); only names that do not exist and type clashes are.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from adu_pipeline.dataset.model import DatasetDefinition

DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INTEGER": "INTEGER",
    "LONG": "BIGINT",
    "DECIMAL": "DECIMAL(18, 2)",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
}
# Names that cannot exist in the datasets read (AMC would fail the audience the same way).
NAME_ERRORS = (duckdb.BinderException, duckdb.CatalogException)


def sql_problems(sql: str, datasets: Mapping[str, DatasetDefinition]) -> list[str]:
    """One line per problem DuckDB finds binding `sql` over the given datasets (empty: none)."""
    con = duckdb.connect(":memory:")
    try:
        for dataset_id, defn in datasets.items():
            amc_columns = defn.create_body()["dataSet"]["columns"]
            columns = {c["name"]: DUCKDB_TYPES[c["dataType"]] for c in amc_columns}
            columns.setdefault("user_id", "VARCHAR")
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            con.execute(f'CREATE TABLE "{dataset_id}" ({ddl})')
        con.execute("SET enable_external_access = false")
        query = sql.strip().rstrip(";")
        try:
            con.execute(f"SELECT * FROM ({query}) AS segment LIMIT 0")
        except NAME_ERRORS as exc:
            if "Function with name" in str(exc):
                return []  # AMC has functions DuckDB lacks: left to AMC
            return [f"sql: {_first_line(exc)}"]
        except duckdb.Error:
            return []  # AMC syntax DuckDB does not speak: left to AMC
        return []
    finally:
        con.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for prefix in ("Binder Error: ", "Catalog Error: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(exc).__name__
