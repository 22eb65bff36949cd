"""Time the customer-base computations from Parquet on each engine (DuckDB, Spark), side by side.

The A-branch model generates a customer file and a monthly panel of the given size (seed 1; more than 1,000,000
customers are generated in chunks of 1,000,000 with seeds 1, 2, ..., ids prefixed by the chunk, each chunk written
straight to a Parquet file of the panel directory). Generation is not timed. Each run is a fresh Python process
that registers the customer file and the panel directory in the engine and computes what stages 01, 02 and 04
of the customer-base family compute on every customer: the panel checks, tiers, the loss rule, assets lost,
trend and life cycle (the customer table, kept in the engine), monthly flows, migration, tier profile,
attrition, life-cycle profile, Gini and top-20% share of AUM and profit with their Lorenz curves, the
Kaplan-Meier counts, and the 50,000-customer hash sample the churn models are fitted on. The models, the
bootstrap replicates and writing the tables are left out: they do not depend on the engine.

Reported per engine: the wall seconds of the computations, the seconds to start the engine (Spark's session; DuckDB's
connection), the CPU seconds of the process and, for Spark, of its JVM, and the peak resident memory of both.
Medians of ``--runs`` runs.

Usage: ``python benchmarks/bench_engines.py [--customers 1000000] [--runs 3] [--engines duckdb,spark] [--data DIR]``
(``--data``: generate into DIR, or reuse the case DIR holds; ``CRMLIB_DUCKDB_MEMORY`` sets DuckDB's memory limit).
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

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from crmlib import engine, load_params  # noqa: E402
from crmlib.synthetic import synthesize_panel  # noqa: E402

CHUNK = 1_000_000

RUN = r"""
import json, sys, time
sys.path.insert(0, sys.argv[4])  # this folder, for usage.py
from pathlib import Path
from crmlib import churn, concentration, customer_base, engine, load_params, survival
from usage import cpu_and_peak

params = load_params(sys.argv[1])
name, directory = sys.argv[2], Path(sys.argv[3])
base = params.customer_base
started = time.perf_counter()
run = engine.current(name)
start_seconds = time.perf_counter() - started
began = time.perf_counter()
run.table("indicators", directory / "customers.parquet")
months = customer_base.read_panel(run, base.panel, directory / "panel", tiers=base.tiers)
customer_base.panel_customer_table(run, months, base.tiers, base.panel, base.lifecycle, base.panel.tenure_indicator)
results = {
    "panel_summary": customer_base.panel_summary(run, months),
    "monthly_flows": customer_base.monthly_flows(run, months, base.tiers),
    "tier_migration": customer_base.tier_migration(run, months, base.tiers, None, None, base.panel.unit),
    "tier_profile": customer_base.tier_profile(run, base.tiers, base.concentration.measures),
    "attrition": customer_base.attrition_by_tier(run, base.tiers, "aum_start"),
    "lifecycle": customer_base.lifecycle_profile(run, base.lifecycle, base.tiers),
    "survival": survival.survival_counts(run),
    "sample": churn.model_sample(run, base.churn_model),
}
for measure in base.concentration.measures:
    results[f"concentration_{measure}"] = concentration.engine_concentration(run, measure, [20.0])[0]
seconds = time.perf_counter() - began
cpu, peak = cpu_and_peak(run if name == "spark" else None)
check = {"customers": int(results["panel_summary"]["customers"].iloc[0]),
         "lost": int(results["attrition"]["lost"].iloc[-1]),
         "gini_aum": round(results["concentration_aum_start"][0], 12)}
print(json.dumps({"seconds": seconds, "start_seconds": start_seconds, "cpu_seconds": cpu, "peak_gib": peak,
                  "check": check}))
"""


def make_case(directory: Path, customers: int, sample: int) -> Path:
    """Write the customer file (Parquet, indicator ids as columns) and the panel (a directory of Parquet chunks)
    of ``customers`` customers, and a params file whose panel is that directory."""
    import yaml
    raw = yaml.safe_load((ROOT / "params" / "a_branch.yaml").read_text(encoding="utf-8"))
    raw["data"]["path"] = str(directory / "customers.parquet")
    raw.pop("survey")
    raw["customer_base"]["panel"]["path"] = str(directory / "panel")
    raw["customer_base"]["churn_model"]["sample_size"] = sample
    path = directory / "a_branch_large.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    params = load_params(path)
    columns = {i.source_column: i.id for i in params.indicators}
    id_column = params.data.id_column
    writer = engine.DuckDBEngine()
    (directory / "panel").mkdir()
    start = time.perf_counter()
    parts = []
    for chunk in range((customers + CHUNK - 1) // CHUNK):
        size = min(CHUNK, customers - chunk * CHUNK)
        customer_file, panel = synthesize_panel(params, n_customers=size, seed=1 + chunk)
        if customers > CHUNK:
            customer_file[id_column] = f"{chunk:03d}" + customer_file[id_column]
            panel[params.customer_base.panel.id_column] = f"{chunk:03d}" + panel[params.customer_base.panel.id_column]
        table = customer_file.rename(columns=columns | {id_column: "customer_id"})
        for column in columns.values():
            table[column] = table[column].astype(float)
        writer.table("chunk_panel", panel)
        writer.write_parquet("SELECT * FROM chunk_panel", directory / "panel" / f"part-{chunk:03d}.parquet")
        parts.append(table)
        del panel
    import pandas as pd
    writer.table("customers", pd.concat(parts, ignore_index=True))
    writer.write_parquet("SELECT * FROM customers", directory / "customers.parquet")
    print(f"generated {customers:,} customers in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--data", help="keep the generated data in this directory, and reuse what it holds")
    args = parser.parse_args()
    environment = os.environ | {engine.SPARK_MASTER_ENV: args.spark_master,
                                "CRMLIB_SPARK_DRIVER_MEMORY": os.environ.get("CRMLIB_SPARK_DRIVER_MEMORY", "12g")}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        directory = Path(args.data or folder)
        params = directory / "a_branch_large.yaml"
        if not params.is_file():
            directory.mkdir(parents=True, exist_ok=True)
            params = make_case(directory, args.customers, args.sample)
        results = {}
        for run in range(args.runs):
            for name in args.engines.split(","):  # engines alternate, so both see the same machine load
                done = subprocess.run([sys.executable, "-c", RUN, str(params), name, str(directory),
                                       str(HERE)],
                                      capture_output=True, text=True, cwd=ROOT, env=environment)
                if done.returncode != 0:
                    sys.exit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
                output = done.stdout
                results.setdefault(name, []).append(json.loads(output.strip().splitlines()[-1]))
                print(f"run {run + 1} {name}: {results[name][-1]}", file=sys.stderr)
    checks = {name: runs[0]["check"] for name, runs in results.items()}
    assert len({json.dumps(c, sort_keys=True) for c in checks.values()}) == 1, checks
    print(f"| {args.customers:,} customers x 24 months, medians of {args.runs} | wall s | engine start s | "
          "CPU s | peak GiB |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        median = {key: statistics.median(r[key] for r in runs) for key in ("seconds", "start_seconds",
                                                                          "cpu_seconds", "peak_gib")}
        print(f"| {name} | {median['seconds']:.2f} | {median['start_seconds']:.2f} | {median['cpu_seconds']:.1f} | "
              f"{median['peak_gib']:.2f} |")


if __name__ == "__main__":
    main()
