"""Time the Shaoxing case at 1e4, 1e5 and 1e6 synthetic customers.

For each size, the Shaoxing parameters generate a synthetic customer file of that size (same factor model,
seed 1), written as Parquet with typed numeric columns (a warehouse's export; generation not timed), and this
script reports the median over ``--repeats`` runs of:

- ``crmlib run`` (all five stage notebooks and the case report, from the command line);
- ``crmlib report`` (the case report alone: figures, workbook, HTML, from the stage tables);
- each stage function in-process (``crmlib.pipeline.run_stage``, tables read and written), on DuckDB; stages 03
  and 04 are the factor grading the engine computes;
- the correlation matrix of the z-scores two ways: by the engine from exact decimal sums
  (``crmlib.factors.exact_moments``, DuckDB), against the obvious alternative, ``numpy.corrcoef`` of the z-scores
  read into memory from the same Parquet file (reading included);
- the fit alone: principal components, varimax and regression scores (``crmlib.factors`` in memory), against
  factor_analyzer's ``FactorAnalyzer(method="principal", rotation="varimax")`` fit and transform.

Usage: ``python benchmarks/bench_shaoxing.py [--sizes 10000 100000 1000000] [--repeats 3]``
(``make benchmark``). Results go to standard output as Markdown tables.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crmlib import engine, factors, io, load_params, pipeline  # noqa: E402
from crmlib.synthetic import synthesize_customers  # noqa: E402


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def case_of_size(n: int, directory: Path) -> Path:
    raw = yaml.safe_load((ROOT / "params" / "shaoxing.yaml").read_text(encoding="utf-8"))
    raw["case"] = f"bench_{n}"
    raw["data"]["path"] = str(directory / "customers.parquet")
    raw["synthetic"]["n_customers"] = n
    path = directory / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    params = load_params(path)
    table = synthesize_customers(params, seed=1)
    for column in table.columns.drop(params.data.id_column):  # typed numbers, as a warehouse exports them
        table[column] = pd.to_numeric(table[column].astype(str).str.replace(",", ""), errors="coerce")
    table.to_parquet(directory / "customers.parquet", index=False)
    return path


def cli(*args) -> None:
    subprocess.run([sys.executable, "-m", "crmlib.cli", *map(str, args)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from factor_analyzer import FactorAnalyzer

    print(f"median of {args.repeats} runs, seconds\n")
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary)
            path = case_of_size(n, directory)
            params = load_params(path)
            out = directory / "out"
            full = median_seconds(lambda: cli("run", "--params", path, "--output-dir", out), args.repeats)
            report = median_seconds(lambda: cli("report", "--params", path, "--output-dir", out), args.repeats)
            tables = out / "data" / "processed" / params.case
            stages = {stage: median_seconds(lambda: pipeline.run_stage(params, tables, stage), args.repeats)
                      for stage in params.stages}
            z_file = io.table_file(tables, "standardized_indicators")
            columns = [i.id for i in params.indicators]

            def by_engine():
                run = engine.current("duckdb")
                run.table("z", z_file, text=True)
                factors.exact_moments(run, "z", columns)

            def in_memory():
                z = io.read_table(tables, "standardized_indicators", index="customer_id")
                np.corrcoef(z.to_numpy(), rowvar=False)

            z = io.read_table(tables, "standardized_indicators", index="customer_id")

            def crmlib_fit():
                fit = factors.principal_components(factors.correlation_matrix(z), 2)
                factors.factor_scores(z, fit)

            def factor_analyzer_fit():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = FactorAnalyzer(n_factors=2, method="principal", rotation="varimax")
                    model.fit(z.to_numpy())
                    model.transform(z.to_numpy())

            rows.append((n, full, report, stages, median_seconds(by_engine, args.repeats),
                         median_seconds(in_memory, args.repeats), median_seconds(crmlib_fit, args.repeats),
                         median_seconds(factor_analyzer_fit, args.repeats)))
    print("| customers | crmlib run (5 stages + report) | crmlib report | 01 | 02 | 03 | 04 | 05 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, full, report, stages, *_ in rows:
        print(f"| {n:,} | {full:.2f} | {report:.2f} | " + " | ".join(f"{t:.2f}" for t in stages.values()) + " |")
    print("\n| customers | correlation: engine, exact sums | correlation: numpy in memory | engine / numpy | "
          "fit: crmlib | fit: factor_analyzer | factor_analyzer / crmlib |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, *_, exact, numpy_, ours, theirs in rows:
        print(f"| {n:,} | {exact:.3f} | {numpy_:.3f} | {exact / numpy_:.2f} | {ours:.3f} | {theirs:.3f} | "
              f"{theirs / ours:.1f} |")


if __name__ == "__main__":
    main()
