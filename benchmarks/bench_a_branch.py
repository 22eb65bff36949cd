"""Time the A-branch customer-base stages on a large synthetic panel (default 1,000,000 customers x 24 months).

The A-branch parameters generate a customer file and a monthly panel of the
given size (same model, seed 1). Each repeat runs the five stage functions
in-process in a fresh Python process and reports each stage's seconds and the
process's peak resident memory (``ru_maxrss``). As the params allow for a
large base, the churn models and the bootstrap use seeded samples
(``--sample``, default 50,000 customers); tiers, concentration point
estimates, loss tables, migration and retention use the full panel.

Usage: ``python benchmarks/bench_a_branch.py [--customers 1000000] [--repeats 3] [--sample 50000]``
(``make benchmark``). Prints a Markdown table of medians.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crmlib import io, load_params  # noqa: E402
from crmlib.synthetic import synthesize_panel  # noqa: E402

RUN = """
import json, resource, sys, time
from crmlib import load_params, pipeline
params = load_params(sys.argv[1])
times = {}
for stage in (pipeline.clean, pipeline.build_indicators, pipeline.factor_analysis, pipeline.segment,
              pipeline.strategies):
    start = time.perf_counter()
    stage(params, sys.argv[2])
    times[stage.__name__] = time.perf_counter() - start
times["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps(times))
"""


def make_case(directory: Path, customers: int, sample: int) -> Path:
    source = ROOT / "params" / "a_branch.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw["data"]["path"] = str(directory / "customers.csv")
    raw.pop("survey")  # the questionnaire's 220 respondents do not grow with the customer base
    base = raw["customer_base"]
    base["panel"]["path"] = str(directory / "panel.csv")
    base["churn_model"]["sample_size"] = sample
    base["concentration"]["bootstrap"]["sample_size"] = sample
    path = directory / "a_branch_large.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    params = load_params(path)
    start = time.perf_counter()
    customer_file, panel = synthesize_panel(params, n_customers=customers, seed=1)
    generated = time.perf_counter() - start
    io.write_table(customer_file, directory / "customers.csv")
    io.write_table(panel, directory / "panel.csv")
    print(f"generated {customers} customers and {len(panel)} panel rows in {generated:.1f} s, "
          f"written in {time.perf_counter() - start - generated:.1f} s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        params = make_case(directory, args.customers, args.sample)
        runs = []
        for repeat in range(args.repeats):
            output = subprocess.run([sys.executable, "-c", RUN, str(params), str(directory / f"out{repeat}")],
                                    check=True, capture_output=True, text=True, cwd=ROOT).stdout
            runs.append(json.loads(output))
            print(f"run {repeat + 1}: {runs[-1]}", file=sys.stderr)
    print(f"| {args.customers:,} customers x 24 months (medians of {args.repeats}) | value |")
    print("|---|---|")
    for key in runs[0]:
        unit = "GiB" if key == "peak_rss_gib" else "s"
        print(f"| {key} | {statistics.median(r[key] for r in runs):.2f} {unit} |")
    print(f"| total | {statistics.median(sum(v for k, v in r.items() if k != 'peak_rss_gib') for r in runs):.2f} s |")


if __name__ == "__main__":
    main()
