"""An upload's stored rows, batch by batch: every object read from S3, every row checked and
resolved. Memory stays bounded by one batch whatever the upload's size.

CSV with options pyarrow splits the same way goes through the batch path (`batches` +
`screen`: one DuckDB query per ~25k rows). A batch the screen is unsure of, and every other
format, goes through the row path (`ingest.RowChecker`, one row at a time), which is the one
source of the failure messages: from the first row of a doubtful batch on, that object is read
again row by row, so a bad value fails the upload with exactly the message it always had.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Iterable, Iterator
from queue import Full, Queue
from typing import BinaryIO

import duckdb
import pyarrow as pa

from adu_pipeline.emulator.config import EmulatorConfig
from adu_pipeline.emulator.models.batches import (
    csv_options,
    field_batches,
    header_names,
    split_header,
)
from adu_pipeline.emulator.models.decoding import open_decoded, open_for_batches
from adu_pipeline.emulator.models.ingest import RowChecker
from adu_pipeline.emulator.models.records import records
from adu_pipeline.emulator.models.s3io import UploadFailed, check_access, list_objects
from adu_pipeline.emulator.models.screen import BatchScreen, Doubtful

ROW_BATCH = 2_000
ROW_BATCH_BYTES = 1 << 20  # of stored JSON: wide rows make smaller batches (three may be alive)
Stored = tuple[str, str, str]  # (partition, row as JSON, identities as JSON)


def stored_batches(
    config: EmulatorConfig, s3, dataset: dict, request: dict, instance_id: str
) -> Iterator[Iterable[Stored]]:
    """Read and check every object of the upload; yield the stored rows batch by batch (a
    batch is iterated once, by the caller's insert)."""
    objects = list_objects(s3, request["dataSource"])
    if not objects:
        raise UploadFailed("No objects found for the data source.")
    hostile = config.hostile
    if hostile.require_instance_tag or hostile.require_bucket_policy:
        instance = config.instance(instance_id)
        check_access(
            s3,
            objects,
            instance_id,
            instance.data_upload_aws_account_id if instance else "",
            tag=hostile.require_instance_tag,
            policy=hostile.require_bucket_policy,
        )
    checker = RowChecker(dataset, request.get("countryCode"), config)
    # a CSV "header" may really be a data row, so unknown CSV header names are never echoed
    checker.echo_unknown_names = "csvDataFormat" not in request["fileFormat"]
    file_format, compression = request["fileFormat"], request["compressionFormat"]
    options = csv_options(file_format) if config.batch_ingest else None
    con = duckdb.connect(":memory:") if options else None
    try:
        for bucket, key in objects:
            opener = open_decoded if con is None else open_for_batches
            members = opener(s3, bucket, key, compression, file_format)
            for index, (where, stream) in enumerate(members):
                with stream:
                    done = 0
                    if con is not None and options is not None:
                        done = yield from _screened(con, checker, options, stream)
                        if done is None:
                            continue
                    else:
                        yield from _row_path(checker, stream, file_format, where, 0)
                        continue
                again = _member(s3, bucket, key, compression, file_format, index)
                with again:
                    yield from _row_path(checker, again, file_format, where, done)
    finally:
        if con is not None:
            con.close()


def read_ahead(batches: Iterator[Iterable[Stored]]) -> Iterator[Iterable[Stored]]:
    """`batches` produced by a thread one batch ahead of the caller, so that reading and the
    screen's DuckDB query (both release the GIL) overlap the caller's SQLite insert on two
    cores. At most three batches exist at a time (the caller's, one queued, one being made);
    an exception reaches the caller in order; the thread stops (and closes `batches`) as soon
    as the caller stops or raises."""
    queue: Queue = Queue(maxsize=1)
    gone = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for batch in batches:
                if not _put(queue, batch, gone):
                    return
            _put(queue, end, gone)
        except BaseException as exc:  # handed to the caller, who raises it
            _put(queue, exc, gone)
        finally:
            batches.close()

    thread = threading.Thread(target=produce, name="amc-emulator-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        gone.set()
        thread.join()


def _put(queue: Queue, item: object, gone: threading.Event) -> bool:
    """Hand `item` over unless the caller is gone (then False)."""
    while not gone.is_set():
        try:
            queue.put(item, timeout=0.1)
            return True
        except Full:
            continue
    return False


def _screened(
    con: duckdb.DuckDBPyConnection,
    checker: RowChecker,
    options: tuple[str, str, str],
    stream: BinaryIO,
) -> Generator[Iterable[Stored], None, int | None]:
    """Yield the batches the screen accepts; None when it read the whole stream, else how many
    records it accepted before the first it was unsure of (the row path goes on from there)."""
    delimiter, quote, escape = options
    done = 0
    try:
        split = split_header(stream)
        if split is None:
            return 0
        line, tail = split
        names = header_names(line, delimiter, quote, escape)
        if names is None or len(names) < 2:  # one column: pyarrow would keep empty lines
            return 0
        screen = BatchScreen(checker, names, delimiter, quote, escape)
        for batch in field_batches(tail, stream, len(names), delimiter):
            if batch.num_rows:
                table = screen.stored(con, batch)
                yield _rows_of(table)
                done += table.num_rows
    except (Doubtful, pa.ArrowException, OSError):  # Arrow: bad field count, UTF-8 or zlib data
        return done
    return None


def _rows_of(table: pa.Table) -> Iterator[Stored]:
    """The table's rows as tuples, made a slice at a time (few Python objects alive at once)."""
    for start in range(0, table.num_rows, ROW_BATCH):
        part = table.slice(start, ROW_BATCH)
        yield from zip(*(c.to_pylist() for c in part.columns), strict=True)


def _row_path(
    checker: RowChecker, stream: BinaryIO, file_format: dict, where: str, skip: int
) -> Iterator[list[Stored]]:
    """Rows after the first `skip` records, one `RowChecker.check` each, in batches of at most
    ROW_BATCH rows or about ROW_BATCH_BYTES of JSON."""
    batch: list[Stored] = []
    size = 0
    for number, record in records(stream, file_format, where):
        if number <= skip:
            continue
        checked = checker.check(record, f"{where} row {number}")
        row, identities = json.dumps(checked.row), json.dumps(checked.identities)
        batch.append((checked.partition, row, identities))
        size += len(row) + len(identities)
        if len(batch) >= ROW_BATCH or size >= ROW_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _member(s3, bucket: str, key: str, compression: str, file_format: dict, index: int):
    """The `index`-th file of the object, opened again from the start."""
    for number, (_, stream) in enumerate(open_decoded(s3, bucket, key, compression, file_format)):
        if number == index:
            return stream
        stream.close()
    raise UploadFailed(f"s3://{bucket}/{key} changed while it was read.")
