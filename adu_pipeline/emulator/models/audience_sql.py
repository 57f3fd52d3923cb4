"""Run a rule-based audience's SQL for real, in DuckDB, over the matched rows of its datasets.

Each dataset the SQL names becomes a table called by its dataSetId, typed from the dataset's
columns, with the resolved user id exposed as `user_id`. Fact datasets are cut to the audience's
time window on their main event time. The audience is the distinct non-null `user_id` values the
SQL returns. DuckDB runs with external access disabled, so SQL cannot read files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from adu_pipeline.emulator.models import rules
from adu_pipeline.emulator.models.state import Store

ARROW_TYPES = {
    "STRING": pa.string(),
    "INTEGER": pa.int32(),
    "LONG": pa.int64(),
    "DECIMAL": pa.decimal128(18, 2),
    "TIMESTAMP": pa.timestamp("s", tz="UTC"),
    "DATE": pa.date32(),
}

# Errors raised while evaluating rows; their messages quote a value from the dataset.
DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
    duckdb.TypeMismatchException,
)


class AudienceFailed(Exception):
    """The audience (or reporting execution) ends FAILED with this statusReason."""


def audience_size(
    store: Store, instance_id: str, query: str, window: tuple[datetime, datetime], min_users: int
) -> int:
    """Distinct user ids the SQL selects; AudienceFailed when invalid or below `min_users`."""
    with _connection(store, instance_id, query, window) as (con, sql):
        try:
            count = _run(con, f'SELECT count(DISTINCT "user_id") FROM ({sql}) AS audience')
        except duckdb.BinderException as exc:
            if "user_id" in str(exc):
                raise AudienceFailed("The audience query must select the user_id column.") from None
            raise AudienceFailed(f"Invalid SQL query: {_first_line(exc)}") from None
    size = int(count[0][0]) if count else 0
    if size < min_users:
        raise AudienceFailed(
            f"The audience has {size} matched user_ids; at least {min_users:,} are required."
        )
    return size


def query_result(
    store: Store, instance_id: str, query: str, window: tuple[datetime, datetime], max_rows: int
) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a reporting query over the same tables audiences see; as in
    AMC, `user_id` may be aggregated (count(DISTINCT user_id)) but never output."""
    with _connection(store, instance_id, query, window) as (con, sql):
        try:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            if any(n.lower() == "user_id" for n in names):
                raise AudienceFailed("user_id cannot be output; aggregate it instead.")
            rows = cursor.fetchmany(max_rows + 1)
        except duckdb.Error as exc:
            raise _failed(exc) from None
    if len(rows) > max_rows:
        raise AudienceFailed(f"The query returned more than {max_rows:,} rows.")
    return names, rows


@contextmanager
def _connection(
    store: Store, instance_id: str, query: str, window: tuple[datetime, datetime]
) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A locked-down DuckDB connection with the datasets the SQL names registered as tables."""
    sql = query.strip().rstrip(";").strip()
    names = table_names(sql)
    datasets = {d["dataSetId"]: d for d in store.list_datasets(instance_id)}
    unknown = sorted(n for n in names if n not in datasets)
    if unknown:
        raise AudienceFailed(f"Invalid tables in the SQL query: {', '.join(unknown)}")
    con = duckdb.connect(":memory:")
    try:
        for name in names:
            con.register(name, _table(store, instance_id, datasets[name], window))
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con, sql
    finally:
        con.close()


def _run(con: duckdb.DuckDBPyConnection, statement: str) -> list[tuple]:
    """Run one statement; data errors and bad SQL become AudienceFailed (binder errors are the
    caller's to name)."""
    try:
        return con.execute(statement).fetchall()
    except duckdb.BinderException:
        raise
    except duckdb.Error as exc:
        raise _failed(exc) from None


def _failed(exc: duckdb.Error) -> AudienceFailed:
    if isinstance(exc, DATA_ERRORS):  # DuckDB quotes the offending value: name only the kind
        return AudienceFailed(f"The query failed on the data ({type(exc).__name__}).")
    return AudienceFailed(f"Invalid SQL query: {_first_line(exc)}")


def table_names(sql: str) -> set[str]:
    """Tables a SELECT reads (CTE names excluded), from DuckDB's parse tree without binding."""
    con = duckdb.connect(":memory:")
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()[0])
    finally:
        con.close()
    if tree.get("error"):
        raise AudienceFailed(f"Invalid SQL query: {tree.get('error_message', 'parse error')}")
    tables: set[str] = set()
    ctes: set[str] = set()
    _walk(tree, tables, ctes)
    return {t for t in tables if t not in ctes}


def _walk(node, tables: set[str], ctes: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            schema = node.get("schema_name") or ""
            name = node.get("table_name", "")
            tables.add(f"{schema}.{name}" if schema and schema != "main" else name)
        for key, value in node.items():
            if key == "cte_map":
                ctes.update(entry.get("key", "") for entry in value.get("map", []))
            _walk(value, tables, ctes)
    elif isinstance(node, list):
        for item in node:
            _walk(item, tables, ctes)


def _table(
    store: Store, instance_id: str, dataset: dict, window: tuple[datetime, datetime]
) -> pa.Table:
    """The dataset's live rows as a typed table, parsed from their JSON by DuckDB (no Python
    loop per row); fact datasets cut to the window on their main event time."""
    columns = dataset["columns"]
    texts = pa.chunked_array(
        [
            pa.array(chunk, pa.string())
            for chunk in store.dataset_row_texts(instance_id, dataset["dataSetId"])
        ],
        pa.string(),
    )
    shape = "{" + ", ".join(f'{json.dumps(c["name"])}: "VARCHAR"' for c in columns) + "}"
    fields = [
        f"{_typed_sql(_quoted(c['name']), c['dataType'])} AS {_quoted(c['name'])}" for c in columns
    ]
    user_col = next((c["name"] for c in columns if c.get("isMainUserId")), None)
    if user_col and user_col != "user_id" and "user_id" not in {c["name"] for c in columns}:
        fields.append(f"{_quoted(user_col)} AS user_id")
    where = ""
    params: list = [shape]
    event = rules.main_event_time(columns)
    if event:
        where = f"WHERE {_moment_sql(_quoted(event['name']))} BETWEEN ? AND ?"
        params += [_naive_utc(window[0]), _naive_utc(window[1])]
    con = duckdb.connect(":memory:")
    try:
        con.register("texts", pa.table({"data": texts}))
        table = con.sql(
            f"SELECT {', '.join(fields)} FROM (SELECT * FROM"
            f" (SELECT unnest(json_transform(data, ?::VARCHAR)) FROM texts) {where})",
            params=params,
        ).to_arrow_table()
    finally:
        con.close()
    schema = pa.schema(
        [pa.field(c["name"], ARROW_TYPES[c["dataType"]]) for c in columns]
        + [pa.field("user_id", pa.string())] * (len(fields) - len(columns))
    )
    return table.cast(schema)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed_sql(value: str, data_type: str) -> str:
    """A stored text (as `ingest.convert` wrote it) in its column's type."""
    if data_type == "TIMESTAMP":
        return f"CAST(substr({value}, 1, 19) AS TIMESTAMP)"  # yyyy-MM-ddTHH:mm:ssZ, UTC
    kinds = {"INTEGER": "INTEGER", "LONG": "BIGINT", "DECIMAL": "DECIMAL(18, 2)", "DATE": "DATE"}
    return f"CAST({value} AS {kinds[data_type]})" if data_type in kinds else value


def _moment_sql(value: str) -> str:
    """The main event time as a UTC instant: a TIMESTAMP's own, a DATE's midnight."""
    return (
        f"CASE WHEN contains({value}, 'T') THEN CAST(substr({value}, 1, 19) AS TIMESTAMP)"
        f" ELSE CAST(CAST({value} AS DATE) AS TIMESTAMP) END"
    )


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
