"""Throughput and peak memory of the synthetic CRM export generator (local.sample_data).

    .venv/bin/python benchmarks/sample_export_throughput.py --rows 1000000
    .venv/bin/python benchmarks/sample_export_throughput.py --rows 5000000 --gzip-only

Writes N rows (emails and phones unique, as the hashing benchmark needs) to a temp CSV and a temp
CSV.gz, each in its own process, and prints rows/s (wall), CPU seconds and peak RSS. The load
average is printed too: on a shared machine the wall figure depends on it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import datetime as dt, resource, sys, time
from adu_pipeline.local.sample_data import write_sample_export
path, rows = sys.argv[1], int(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
write_sample_export(path, rows, seed=1, export_date=dt.date(2025, 3, 1), unique_ids=True)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{wall:.3f} {cpu:.3f} {peak:.0f}")
"""


def run(path: Path, rows: int) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(rows)],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    wall, cpu, peak = float(out[0]), float(out[1]), float(out[2])
    size = path.stat().st_size / 2**20
    print(
        f"{path.name:<14} {rows:>10,} rows  {rows / wall:>10,.0f} rows/s wall  "
        f"{rows / cpu:>10,.0f} rows per CPU-s  {size:>8,.0f} MiB  peak RSS {peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--gzip-only", action="store_true")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        names = ["export.csv.gz"] if args.gzip_only else ["export.csv", "export.csv.gz"]
        for name in names:
            run(Path(tmp) / name, args.rows)
            (Path(tmp) / name).unlink()
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)")


if __name__ == "__main__":
    main()
