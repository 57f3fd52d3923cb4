"""`adu amc datasets create|diff|list|get|delete`: dataset definitions in AMC.

`create` and `diff` compare through the one dataset diff (`amc.diffs.dataset_differences`, via
`AmcClient.ensure_dataset` for create)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from adu_pipeline.amc.cli.common import Connection, amc_command, exactly_one, note, read_json
from adu_pipeline.amc.diffs import dataset_differences
from adu_pipeline.amc.models import Dataset
from adu_pipeline.errors import AduError, InputError

FILE = click.Path(path_type=Path)


@click.group("datasets", help="dataset definitions in AMC")
def datasets() -> None:
    pass


def _source_options(function: Any) -> Any:
    function = click.option("--body", type=FILE, help="raw CreateDataSet JSON body")(function)
    return click.option("--definition", type=FILE, help="dataset definition YAML")(function)


def wanted_body(definition: Path | None, body: Path | None) -> dict[str, Any]:
    """The CreateDataSet body from a definition YAML or a raw JSON file (exactly one)."""
    exactly_one(definition=definition, body=body)
    if definition is not None:
        from adu_pipeline.dataset import load_definition  # not at import: keeps pandas out

        return load_definition(definition).create_body()
    assert body is not None
    return read_json(body)


@amc_command("create", "create a dataset (idempotent)")
@_source_options
@click.option("--add-columns", is_flag=True, help="add new nullable columns to an existing dataset")
def create(conn: Connection, definition: Path | None, body: Path | None, add_columns: bool) -> int:
    wanted = wanted_body(definition, body)
    with conn.client() as client:
        result = client.ensure_dataset(wanted, add_columns=add_columns)
    dataset_id = result.dataset.dataset_id
    for line in result.diff.notes:
        note(f"note: {line}")
    if result.action == "created":
        conn.emit({"dataSetId": dataset_id, "action": "created"}, [f"created dataset {dataset_id}"])
    elif result.action == "updated":
        added = list(result.columns_added)
        conn.emit(
            {"dataSetId": dataset_id, "action": "columns_added", "columns": added},
            [f"dataset {dataset_id} exists; added columns {', '.join(added)}"],
        )
    elif result.diff.addable_columns:
        raise AduError(
            f"dataset {dataset_id} exists; new nullable columns "
            f"{', '.join(result.diff.addable_names)} are not in AMC yet (rerun with --add-columns)"
        )
    else:
        conn.emit(
            {"dataSetId": dataset_id, "action": "exists"},
            [f"dataset {dataset_id} already exists and matches the definition"],
        )
    return 0


@amc_command("diff", "compare a definition with the dataset in AMC (exit 1 when they differ)")
@_source_options
def diff(conn: Connection, definition: Path | None, body: Path | None) -> int:
    wanted = wanted_body(definition, body)
    dataset_id = str(wanted.get("dataSet", wanted).get("dataSetId") or "")
    if not dataset_id:
        raise InputError("the dataset body has no dataSetId")
    with conn.client() as client:
        existing = client.find_dataset(dataset_id)
    if existing is None:
        conn.emit(
            {"dataSetId": dataset_id, "exists": False},
            [f"dataset {dataset_id} is not in AMC (datasets create makes it)"],
        )
        return 1
    result = dataset_differences(wanted, existing)
    conn.emit(
        {
            "dataSetId": dataset_id,
            "exists": True,
            "differences": list(result.differences),
            "addableColumns": list(result.addable_names),
            "notes": list(result.notes),
        },
        [f"dataset {dataset_id}:", result.format()],
    )
    return 0 if result.is_identical else 1


@amc_command("list", "list datasets")
@click.option("--page-size", type=int, default=None)
def list_(conn: Connection, page_size: int | None) -> int:
    with conn.client() as client:
        found = client.list_datasets(page_size=page_size)
    conn.emit(
        {"dataSets": [dict(d.raw) for d in found]},
        [dataset_line(d) for d in found] or ["no datasets"],
    )
    return 0


@amc_command("get", "show one dataset")
@click.argument("dataset_id")
def get(conn: Connection, dataset_id: str) -> int:
    with conn.client() as client:
        d = client.get_dataset(dataset_id)
    lines = [dataset_line(d)]
    for c in d.columns:
        ext = c.get("externalUserIdType") or {}
        kind = ext.get("hashedPii") or ext.get("externalIdentity") or ""
        lines.append(f"  {c.get('name')}  {c.get('dataType')}  {c.get('columnType')}  {kind}")
    conn.emit({"dataSet": dict(d.raw)}, lines)
    return 0


@amc_command("delete", "delete a dataset and ALL its data")
@click.argument("dataset_id")
@click.option("--yes", is_flag=True, help="confirm the irreversible delete")
def delete(conn: Connection, dataset_id: str, yes: bool) -> int:
    if not yes:
        raise InputError("deleting a dataset removes all its data in AMC: add --yes to confirm")
    with conn.client() as client:
        client.delete_dataset(dataset_id)
    conn.emit({"dataSetId": dataset_id, "action": "deleted"}, [f"deleted {dataset_id}"])
    return 0


def dataset_line(d: Dataset) -> str:
    period = f" period={d.period}" if d.period else ""
    return f"{d.dataset_id}  columns={len(d.columns)}{period}  {d.description or ''}".rstrip()


for _command in (create, diff, list_, get, delete):
    datasets.add_command(_command)

COMMANDS = (datasets,)
