"""Throughput and peak memory of `adu hash` against reference passes, same file, same run.

    .venv/bin/python benchmarks/hash_throughput.py --rows 1000000
    .venv/bin/python benchmarks/hash_throughput.py --rows 10000000 --skip-loop   # memory check

Writes N synthetic rows (email, phone, first/last name, address, city, state, zip + country;
every email and phone unique) to a temp CSV, then runs, each in its own process:
  (a) our engine: `adu hash` with full normalization of the eight fields, CSV out;
  (b) hash-only: DuckDB (2 threads) reads the CSV, SHA-256 of the eight raw columns, no
      normalization at all, writes the CSV: the floor for a column engine on this machine;
  (c) plain CSV copy: DuckDB reads and writes the same CSV, no hashing;
  (a') with --compare-with DIR (repeatable): the same `adu hash` from another source tree
      (e.g. the previous commit, `git archive HEAD adu_pipeline | tar -x -C DIR`), for
      before/after, in the same rounds;
  (d) the baseline: a single-threaded loop that reads the CSV with the csv module, hashes the
      eight stripped, lowercased fields with hashlib and writes the CSV (--skip-loop skips it).
Prints rows/s (wall) and rows per CPU-second (user + system of the process and its waited-for
children) of each, the ratio of ours to the hash-only pass on both, and peak memory (sum of
the RSS of the process tree, sampled every 20 ms, and the largest process's ru_maxrss).
Each pass starts after the previous pass's output is deleted and written out (os.sync): on
this VM, writing into freed page cache costs a fraction of writing into new pages. With
--repeat N every pass runs N times in rotated order, and the ratios are of the medians.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

PII_FIELDS = ("email", "phone", "first_name", "last_name", "address", "city", "state", "zip")
PII_TYPES = ("EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "ZIP")
HEADER = (*PII_FIELDS, "country")

FIRST = ["James", "Mary", "José", "Anna-Lena", "Chloé", "Li", "Mohammed", "Olivia", "Noah", "Zoë"]
LAST = ["Smith", "Müller", "O'Brien", "García", "Nguyen", "Dubois", "Rossi", "Kim", "Brown"]
STREETS = ["Main Street", "Oak Ave.", "2nd St", "Elm Road", "Park Lane", "Maple Blvd", "High St."]
UNITS = ["", "", "", " Apt 4B", " Suite 210", " #12", " Unit 3"]
US_PLACES = [("Seattle", "WA", "98101"), ("New York", "NY", "10001"), ("Austin", "tx", "73301"),
             ("Chicago", "Illinois", "60601"), ("Boston", "MA", "02108")]  # fmt: skip
CA_PLACES = [
    ("Toronto", "ON", "M5V 2T6"),
    ("Montréal", "QC", "H2X 1Y4"),
    ("Vancouver", "BC", "V6B1A1"),
]
GB_PLACES = [("London", "", "SW1A 1AA"), ("Manchester", "", "m1 1ae"), ("Leeds", "", "LS1 4DY")]
US_AREAS = ["206", "212", "312", "415", "617", "713", "305", "404", "503", "602"]


def synthetic_row(i: int, rng: random.Random) -> list[str]:
    """One messy CRM row; email and phone are unique per i."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f" {first}.{last}{i}@Example{i % 97}.com ".replace(" ", "", 1)
    pick = i % 10
    exchange, line = 200 + (i // 10_000) % 800, i % 10_000
    if pick < 8:
        country, (city, state, zip_code) = rng.choice(["US", "us", " US"]), rng.choice(US_PLACES)
        area = US_AREAS[(i // 8_000_000) % len(US_AREAS)]
        phone = rng.choice([f"({area}) {exchange}-{line:04d}", f"+1 {area}.{exchange}.{line:04d}"])
    elif pick == 8:
        country, (city, state, zip_code) = "CA", rng.choice(CA_PLACES)
        phone = f"416-{exchange}-{line:04d}" if i < 8_000_000 else f"604 {exchange} {line:04d}"
    else:
        country, (city, state, zip_code) = rng.choice(["GB", "UK"]), rng.choice(GB_PLACES)
        phone = f"020 7{(i // 10) % 1000:03d} {i // 10_000 % 10_000:04d}"
    address = f"{100 + i % 9000} {rng.choice(STREETS)}{rng.choice(UNITS)}"
    return [email, phone, first.upper() if i % 7 == 0 else first, last, address, city, state,
            zip_code, country]  # fmt: skip


def write_input(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for start in range(0, rows, 100_000):
            writer.writerows(
                synthetic_row(i, rng) for i in range(start, min(rows, start + 100_000))
            )


def plain_loop(src: Path, dst: Path) -> None:
    """The baseline: csv module + hashlib, single thread, strip + lowercase only."""
    sha = hashlib.sha256
    with open(src, newline="", encoding="utf-8") as fin, open(dst, "w", newline="") as fout:
        reader, writer = csv.reader(fin), csv.writer(fout)
        header = next(reader)
        writer.writerow(header)
        idx = [header.index(f) for f in PII_FIELDS]
        for row in reader:
            for j in idx:
                row[j] = sha(row[j].strip().lower().encode()).hexdigest()
            writer.writerow(row)


def duckdb_pass(src: Path, dst: Path, hash_columns: bool) -> None:
    """The references: DuckDB reads the CSV as text and writes it, SHA-256 of the eight raw
    columns (hash_columns) or a plain copy."""
    import duckdb  # the project's dependency (normalization.sha256 uses it)

    con = duckdb.connect(":memory:")
    con.execute("SET threads=2")
    columns = ", ".join(
        f"sha256({c}) AS {c}" if hash_columns and c in PII_FIELDS else c for c in HEADER
    )
    con.execute(
        f"COPY (SELECT {columns} FROM read_csv('{src}', all_varchar=true, header=true)) "
        f"TO '{dst}' (HEADER, DELIMITER ',')"
    )


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak: int  # summed RSS of the process tree
    maxrss: int  # ru_maxrss of the process (largest of its waited-for children included)
    stderr: str

    def line(self, name: str, rows: int) -> str:
        return (
            f"{name}: {rows / self.seconds:,.0f} rows/s ({self.seconds:.1f}s), "
            f"{rows / self.cpu_seconds:,.0f} rows/cpu-s ({self.cpu_seconds:.1f} cpu-s, "
            f"{self.cpu_seconds / self.seconds:.2f} cores busy), peak memory "
            f"{self.peak / 2**20:,.0f} MiB (process tree; largest process "
            f"{self.maxrss / 2**20:,.0f} MiB)"
        )


def measure(cmd: list[str], cwd: str | None = None) -> Run:
    """Wall and CPU time, peak summed RSS of the process tree, ru_maxrss, stderr."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=cwd)
    peak = 0
    err_chunks: list[str] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{''.join(err_chunks)}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, peak, usage.ru_maxrss * 1024, "".join(err_chunks))


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child, parent = int(entry.name), int(fields[1])
        children.setdefault(parent, []).append(child)
        rss[child] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


HASH_ONLY = "hash-only (DuckDB sha256 of the 8 raw columns)"


def ratio_line(name: str, runs: list[Run], reference: list[Run]) -> str:
    """Ratio of the reference's time to ours, wall and CPU; medians over rounds, then each."""
    wall = median(r.seconds for r in reference) / median(r.seconds for r in runs)
    cpu = median(r.cpu_seconds for r in reference) / median(r.cpu_seconds for r in runs)
    line = f"ratio {name} / hash-only: {wall:.2f}x rows/s, {cpu:.2f}x rows/cpu-s"
    if len(runs) > 1:
        each = ", ".join(
            f"{b.cpu_seconds / a.cpu_seconds:.2f}x" for a, b in zip(runs, reference, strict=True)
        )
        line += f" (medians of {len(runs)} rounds; per round {each} rows/cpu-s)"
    return line


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, help="passed to adu hash --workers")
    parser.add_argument("--pool", choices=["thread", "process"], help="sets ADU_HASH_POOL")
    parser.add_argument("--batch-rows", type=int, help="passed to adu hash --batch-rows")
    parser.add_argument("--output-ext", default=".csv", choices=[".csv", ".csv.gz", ".parquet"])
    parser.add_argument(
        "--compare-with",
        metavar="DIR",
        action="append",
        default=[],
        help="also run adu hash from the source tree in DIR (holding adu_pipeline/); repeatable",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every pass (ratios of the medians)"
    )
    parser.add_argument("--skip-loop", action="store_true", help="only run our engine")
    parser.add_argument("--skip-references", action="store_true", help="skip hash-only and copy")
    parser.add_argument("--loop-only", nargs=2, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--duckdb-only", nargs=3, metavar=("KIND", "SRC", "DST"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.loop_only:
        plain_loop(Path(args.loop_only[0]), Path(args.loop_only[1]))
        return
    if args.duckdb_only:
        kind, src, dst = args.duckdb_only
        duckdb_pass(Path(src), Path(dst), hash_columns=kind == "hash")
        return
    print(f"machine: {os.cpu_count()} cores, {load()}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # Measured: `adu hash` of a tiny file 0.65 cpu-s without cached bytecode, 0.38 with.
        print("note: PYTHONDONTWRITEBYTECODE is set, so every process compiles its imports "
              "from source (about 0.27 cpu-s more for ours than an installed package)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="adu-bench-") as tmp:
        src = Path(tmp) / "export.csv"
        t0 = time.monotonic()
        write_input(src, args.rows, args.seed)
        size = src.stat().st_size
        took = time.monotonic() - t0
        print(f"input: {args.rows:,} rows, {size / 1e6:,.0f} MB ({took:.0f}s to write)")
        cmd = [sys.executable, "-m", "adu_pipeline.cli", "hash", str(src),
               "-o", str(Path(tmp) / f"ours{args.output_ext}"), "--country", "US",
               "--country-column", "country"]  # fmt: skip
        for field, pii_type in zip(PII_FIELDS, PII_TYPES, strict=True):
            cmd += ["--pii", f"{field}={pii_type}"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        if args.batch_rows:
            cmd += ["--batch-rows", str(args.batch_rows)]
        if args.pool:
            os.environ["ADU_HASH_POOL"] = args.pool
        # (name, command, working directory, output file) of each pass
        passes = [("ours (adu hash, full normalization)", cmd, None, Path(cmd[6]))]
        if len(set(args.compare_with)) < len(args.compare_with):
            parser.error("--compare-with names a directory twice")
        for number, other in enumerate(args.compare_with):
            # `-m` puts the working directory first on sys.path: DIR's adu_pipeline is imported.
            other_out = Path(tmp) / f"other{number}{args.output_ext}"
            other_cmd = [*cmd[:6], str(other_out), *cmd[7:]]
            passes.append((f"adu hash from {other}", other_cmd, other, other_out))
        if not args.skip_references:
            for kind, name in (("hash", HASH_ONLY), ("copy", "plain CSV copy (DuckDB)")):
                dst = Path(tmp) / f"{kind}.csv"
                ref_cmd = [sys.executable, __file__, "--duckdb-only", kind, str(src), str(dst)]
                passes.append((name, ref_cmd, None, dst))
        runs: dict[str, list[Run]] = {name: [] for name, *_ in passes}
        for round_ in range(args.repeat):
            # Rotated, so that no pass always runs first; every pass starts with the previous
            # pass's output deleted and the dirty pages written out.
            shift = round_ % len(passes)
            for name, pass_cmd, cwd, out in passes[shift:] + passes[:shift]:
                os.sync()
                run = measure(pass_cmd, cwd=cwd)
                out.unlink(missing_ok=True)
                runs[name].append(run)
                tag = f" [round {round_ + 1}]" if args.repeat > 1 else ""
                print(run.line(name, args.rows) + tag)
                if pass_cmd is cmd and round_ == 0:
                    print("  " + run.stderr.strip().replace("\n", "\n  "))
        if not args.skip_references:
            hash_only = runs[HASH_ONLY]
            for name, *_ in passes:
                if name.startswith("ours") or name.startswith("adu hash from"):
                    print(ratio_line(name, runs[name], hash_only))
        ours = runs[passes[0][0]][0]
        if not args.skip_loop:
            loop_cmd = [
                sys.executable,
                __file__,
                "--loop-only",
                str(src),
                str(Path(tmp) / "loop.csv"),
            ]
            loop = measure(loop_cmd)
            print(loop.line("plain hashlib loop (strip+lower, 1 thread)", args.rows))
            print(f"ratio ours / loop: {loop.seconds / ours.seconds:.2f}x rows/s")
        print(f"machine after the runs: {load()}")


if __name__ == "__main__":
    main()
