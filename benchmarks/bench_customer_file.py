"""Time and memory of the customer file's stages (01 clean, 02 indicators) at bank scale, two ways.

The Shaoxing parameters generate a synthetic customer file of N customers (14 indicators, seed 1 + chunk, in
chunks of 1,000,000 customers, ids prefixed by the chunk), written as Parquet with typed numeric columns under
the file's Chinese headers, one file per chunk (a warehouse's export; generation not timed). Then, in a fresh
process per run, stages 01 and 02 run in-process (``crmlib.pipeline.run_stage``, their tables written: Parquet
above 100,000 rows) with the Parquet file read

- ``engine``: by the run's engine, its rows checked in SQL (``crmlib.families.customer_file.parquet``), the
  cleaned indicators and z-scores written by the engine (the kit's way);
- ``memory``: into memory first (``crmlib.io.read_measures``, the rows checked in pandas), then handed to the
  engine, the cleaned table and the z-scores coming back through pandas (the obvious alternative, and the
  kit's way for CSV and Excel files).

Reported per way: median wall seconds of each stage, CPU seconds and the peak resident memory of the process
(VmHWM; with Spark, plus the JVM's). Every run must give the same cleaning log and descriptives.

Usage: ``python benchmarks/bench_customer_file.py [--customers 1000000] [--runs 3] [--engines duckdb]
[--data DIR]``; results go to standard output as a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from crmlib import engine, load_params  # noqa: E402
from crmlib.synthetic import synthesize_customers  # noqa: E402

CHUNK = 1_000_000

RUN = r"""
import json, os, sys, tempfile, time
sys.path.insert(0, sys.argv[3])  # this folder, for usage.py
from pathlib import Path
from crmlib import engine, load_params, pipeline
from crmlib.families.customer_file import parquet
from usage import cpu_and_peak

params, reader = load_params(sys.argv[1]), sys.argv[2]
if reader == "memory":
    parquet.read_customer_file = lambda *arguments: None  # read in memory, as a CSV is
seconds = {}
with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as out:
    for stage in ("01_clean", "02_indicators"):
        began = time.perf_counter()
        tables = pipeline.run_stage(params, Path(out), stage)
        seconds[stage] = time.perf_counter() - began
        if stage == "01_clean":
            log = tables["cleaning_log"][["indicator", "n_missing", "fill_value", "n_clipped_low", "n_clipped_high",
                                          "n_customers_out"]]
    means = tables["descriptives"]["mean"].round(9).tolist()
cpu, peak = cpu_and_peak(engine.current() if os.environ.get("CRMLIB_ENGINE") == "spark" else None)
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_gib": peak,
                  "check": {"log": log.round(9).to_dict("list"), "means": means}}))
"""


def make_case(directory: Path, customers: int) -> Path:
    """Write the customer file (a directory of Parquet chunks, typed numbers under the Chinese headers) and a params
    file naming it."""
    raw = yaml.safe_load((ROOT / "params" / "shaoxing.yaml").read_text(encoding="utf-8"))
    raw["case"] = "shaoxing_large"
    raw["data"]["path"] = str(directory / "customers")
    path = directory / "shaoxing_large.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    params = load_params(path)
    id_column = params.data.id_column
    (directory / "customers").mkdir()
    start = time.perf_counter()
    for chunk in range((customers + CHUNK - 1) // CHUNK):
        size = min(CHUNK, customers - chunk * CHUNK)
        sized = params.model_copy(update={"synthetic": params.synthetic.model_copy(update={"n_customers": size})})
        table = synthesize_customers(sized, seed=1 + chunk)
        for column in table.columns.drop(id_column):  # typed numbers, as a warehouse exports them
            table[column] = pd.to_numeric(table[column].astype(str).str.replace(",", ""), errors="coerce")
        table[id_column] = f"{chunk:03d}" + table[id_column]
        table.to_parquet(directory / "customers" / f"part-{chunk:03d}.parquet", index=False)
    print(f"generated {customers:,} customers in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="duckdb")
    parser.add_argument("--readers", default="engine,memory")
    parser.add_argument("--data", help="keep the generated data in this directory, and reuse what it holds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        directory = Path(args.data or folder)
        params = directory / "shaoxing_large.yaml"
        if not params.is_file():
            directory.mkdir(parents=True, exist_ok=True)
            make_case(directory, args.customers)
        results, checks = [], set()
        for name in args.engines.split(","):
            for reader in args.readers.split(","):
                runs = []
                for _ in range(args.runs):
                    done = subprocess.run([sys.executable, "-c", RUN, str(params), reader, str(HERE)],
                                          capture_output=True, text=True, check=True,
                                          env=os.environ | {engine.ENGINE_ENV: name})
                    runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                    checks.add(json.dumps(runs[-1]["check"], sort_keys=True))
                results.append((name, reader, runs))
    print(f"{args.customers:,} customers x 14 indicators, Parquet; medians of {args.runs} runs; every run gave the "
          f"same cleaning log and means: {len(checks) == 1}\n")
    print("| engine | read by | 01 clean s | 02 indicators s | 01 + 02 s (runs) | CPU s | peak GiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, reader, runs in results:
        total = [sum(r["seconds"].values()) for r in runs]
        print(f"| {name} | {reader} | {statistics.median(r['seconds']['01_clean'] for r in runs):.2f} | "
              f"{statistics.median(r['seconds']['02_indicators'] for r in runs):.2f} | {statistics.median(total):.2f} "
              f"({', '.join(f'{t:.2f}' for t in total)}) | {statistics.median(r['cpu_seconds'] for r in runs):.1f} | "
              f"{statistics.median(r['peak_gib'] for r in runs):.2f} |")


if __name__ == "__main__":
    main()
