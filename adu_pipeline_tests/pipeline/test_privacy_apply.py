"""apply_optouts over a real hashed output: the hashing engine's parquet and rejects of a sample
export, an opt-out file made from the same export, the real OptOutStore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from adu_pipeline.dataset import load_definition
from adu_pipeline.errors import InputError
from adu_pipeline.hashing import HashPlan, hash_file
from adu_pipeline.local.demo import MALFORMED_OPTOUTS, write_demo_optouts
from adu_pipeline.local.sample_data import write_sample_export
from adu_pipeline.privacy.apply import apply_optouts
from adu_pipeline.privacy.store import OPTED_OUT, OptOutList, OptOutStore

REPO = Path(__file__).resolve().parents[2]
CRM = REPO / "data" / "datasets" / "crm_customers.yaml"
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def hashed(tmp_path):
    defn = load_definition(CRM)
    export = tmp_path / "crm_export_2026-06-01.csv"
    write_sample_export(export, 3000, seed=11, export_date=DAY)
    output, rejects = tmp_path / "hashed.parquet", tmp_path / "rejects.parquet"
    summary = hash_file(
        export,
        output,
        HashPlan.from_definition(defn),
        rejects_path=rejects,
        export_date=DAY,
        drop_duplicates=True,
    )
    return defn, export, output, rejects, summary


def listed_rows(output: Path, optouts: OptOutList) -> int:
    table = pq.read_table(output)
    mask = optouts.mask(
        {"email": table.column("email"), "phone": table.column("phone")},
        {"email": "EMAIL", "phone": "PHONE"},
    )
    return pc.sum(mask.cast(pa.int64())).as_py() or 0


def test_opted_out_rows_leave_the_output_and_are_counted_as_rejects(hashed, tmp_path):
    defn, export, output, rejects, summary = hashed
    optout_file = tmp_path / "optouts" / "optouts_2026-06-02.csv"
    written = write_demo_optouts(export, optout_file, people=40)
    store = OptOutStore.in_output_dir(tmp_path / "out")
    ingested = store.ingest(optout_file)
    assert ingested.summary.rows_in == written
    assert ingested.summary.rows_rejected >= len(MALFORMED_OPTOUTS)
    optouts = store.optout_list()
    before_rows = pq.read_metadata(output).num_rows
    before_rejects = pq.read_table(rejects)
    expected = listed_rows(output, optouts)
    assert expected >= 30  # the people come from this very export

    dropped = apply_optouts(output, rejects, defn, optouts)

    assert dropped == expected
    assert pq.read_metadata(output).num_rows == before_rows - dropped
    assert listed_rows(output, optouts) == 0
    after = pq.read_table(rejects)
    assert after.slice(0, before_rejects.num_rows).equals(before_rejects)
    new = after.slice(before_rejects.num_rows)
    assert new.num_rows == dropped
    assert set(new.column("reason").to_pylist()) == {OPTED_OUT}
    assert set(new.column("outcome").to_pylist()) == {"row_rejected"}
    assert set(new.column("column").to_pylist()) <= {"email", "phone"}
    assert new.column("row").null_count == dropped
    # every input row is still accounted for
    assert summary.rows_in == (
        pq.read_metadata(output).num_rows
        + summary.rows_rejected
        + dropped
        + summary.duplicates_dropped
    )
    # a second pass finds nobody left and rewrites nothing
    stamp = output.stat().st_mtime_ns
    assert apply_optouts(output, rejects, defn, optouts) == 0
    assert output.stat().st_mtime_ns == stamp


def test_an_empty_list_or_a_csv_output_is_handled(hashed, tmp_path):
    defn, _, output, rejects, _ = hashed
    assert apply_optouts(output, rejects, defn, OptOutList({})) == 0
    listed = OptOutList({"EMAIL": pa.array(["a" * 64])})
    with pytest.raises(InputError, match="parquet only"):
        apply_optouts(tmp_path / "hashed.csv", rejects, defn, listed)
