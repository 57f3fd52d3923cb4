"""A small soak (benchmarks/soak.py, same functions): 4 partitions, one launched twice at once,
1 segment, the emulator at 30 % faults with rate limits, runs from the instance's queue in their
own processes on SQLite. Nothing is lost or duplicated, whatever the faults did."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _soak_module():
    spec = importlib.util.spec_from_file_location("adu_soak", REPO / "benchmarks" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_a_small_soak_at_30_percent_faults_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    soak = _soak_module()
    for name in ("DAGSTER_HOME", "ADU_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = soak.SoakConfig(
        partitions=4, segments=1, fault_share=0.3, concurrency=4, rows=1000, doubled=1,
        storage="sqlite", seed=3,
    )  # fmt: skip
    report = soak.soak(config, tmp_path)
    assert report.problems == [], soak.render(report)
    assert report.stats["faultsInjected"] > 0, "no fault was injected: nothing was tested"
    assert report.export_runs.submitted >= config.partitions + 1  # the doubled partition
    assert report.found == report.expected == {"datasets": 1, "uploads": 4, "audiences": 1}
    assert report.rows_lost == 0
    for p in report.partitions:
        assert p.rows_in == config.rows == p.written + p.rejected + p.duplicates
        assert p.output_rows == {"us": p.written} and p.stored_rows == {"us": p.written}
    assert report.scanned["files"] > 0 and report.scanned["secrets"] > 3
    assert report.secret_hits == {}
