"""Time the Shaoxing case at 1e4, 1e5 and 1e6 synthetic customers.

For each size, the Shaoxing parameters generate a synthetic file of that size
(same factor model, seed 1), and this script reports the median over
``--repeats`` runs of:

- ``crmlib run`` (all five stage notebooks and the case report, from the command line);
- ``crmlib run --stage 03`` (the factor-analysis notebook alone, and the report);
- ``crmlib report`` (the case report alone: figures, workbook, HTML, from the stage tables);
- the factor-analysis stage function in-process (``pipeline.factor_analysis``:
  reading the z-scores, KMO, Bartlett, parallel analysis, fit, scores, writing 13 tables);
- the fit alone: correlation matrix, principal components, varimax and
  regression scores (``factors``), against the obvious alternative,
  factor_analyzer's ``FactorAnalyzer(method="principal", rotation="varimax")``
  fit and transform on the same matrix.

Usage: ``python benchmarks/bench_shaoxing.py [--sizes 10000 100000 1000000] [--repeats 3]``
(``make benchmark``). Results go to standard output as a Markdown table.
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

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crmlib import factors, io, load_params, pipeline  # noqa: E402
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
    raw["data"]["path"] = str(directory / "customers.csv")
    raw["synthetic"]["n_customers"] = n
    path = directory / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    io.write_table(synthesize_customers(load_params(path), seed=1), directory / "customers.csv")
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
    print("| customers | crmlib run (5 stages + report) | --stage 03 | crmlib report | stage 03 in-process | "
          "fit: crmlib | fit: factor_analyzer | factor_analyzer / crmlib |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary)
            path = case_of_size(n, directory)
            out = directory / "out"
            full = median_seconds(lambda: cli("run", "--params", path, "--output-dir", out), args.repeats)
            stage = median_seconds(lambda: cli("run", "--params", path, "--output-dir", out, "--stage", "03"),
                                   args.repeats)
            report = median_seconds(lambda: cli("report", "--params", path, "--output-dir", out), args.repeats)
            params = load_params(path)
            tables = out / "data" / "processed" / params.case
            in_process = median_seconds(lambda: pipeline.factor_analysis(params, tables), args.repeats)
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

            ours = median_seconds(crmlib_fit, args.repeats)
            theirs = median_seconds(factor_analyzer_fit, args.repeats)
            print(f"| {n:,} | {full:.2f} | {stage:.2f} | {report:.2f} | {in_process:.2f} | {ours:.3f} | "
                  f"{theirs:.3f} | {theirs / ours:.1f} |", flush=True)


if __name__ == "__main__":
    main()
