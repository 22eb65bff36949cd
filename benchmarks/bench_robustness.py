"""Time the robustness of each grading and value-matrix case (``crmlib.robustness``): one alternative convention,
one bootstrap sample, and the whole stage-04 robustness, beside the obvious alternative of running the pipeline's
stages 01-03 once per alternative (``crmlib.pipeline.run_stage`` on DuckDB, tables read and written, into a temporary
directory). Above ``robustness.max_customers`` the robustness runs on a hash sample: its drawing is timed on 10^6 ids.

Medians over ``--repeats`` runs; the per-alternative time is the mean over the case's alternatives, the
per-sample time the mean over 20 samples. Usage: ``python benchmarks/bench_robustness.py [--repeats 3]``
(``make benchmark``). Results go to standard output as a Markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from crmlib import cleaning, io, load_params, pipeline, robustness  # noqa: E402
from crmlib.synthetic import synthesize_customers  # noqa: E402
from crmlib.families.factor_grading import stages as grading_stages  # noqa: E402
from crmlib.families.value_matrix import stages as value_stages  # noqa: E402

CASES = ("shaoxing", "islr_credit", "credit_grading", "jd", "credit_value", "cdnow")


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _grading(params):
    """The grading's alternatives (each cleaned afresh), 20 bootstrap samples and whole robustness, as functions to
    time."""
    raw = io.read_measures(params.data, params.data_path, params.indicators).values
    directions = {i.id: i.direction for i in params.indicators}
    settings = params.factor_grading

    def z_scores(rules):
        return robustness.benefit_z_scores(cleaning.clean_indicators(raw, rules).data, directions, rules.ddof)

    z = z_scores(params.cleaning)
    base = robustness.grading_chain(z, params.cleaning, settings.factor_analysis, settings.grading)
    variants = robustness.convention_variants(params.cleaning, settings.factor_analysis, base.n_factors,
                                              len(params.indicators), bool(raw.isna().to_numpy().any()))
    return (len(raw), variants,
            lambda variant: robustness.grading_chain(z_scores(variant.cleaning), variant.cleaning, variant.settings,
                                                     settings.grading),
            lambda: robustness.bootstrap_stability(z, params.cleaning, settings.factor_analysis, settings.grading,
                                                   base, replicates=20, seed=1),
            lambda: grading_stages.grading_robustness(params))


def _value_matrix(params):
    """The value matrix's alternatives (each cleaned afresh), 20 bootstrap samples and whole robustness, as
    functions to time."""
    raw, _ = robustness.case_measures(params, params.value_matrix.robustness)
    data = cleaning.clean_indicators(raw, params.cleaning).data
    base = robustness.classify(data, params)
    variants = robustness.value_variants(params, bool(raw.isna().to_numpy().any()))
    return (len(raw), variants,
            lambda variant: robustness.classify(cleaning.clean_indicators(raw, variant.params.cleaning).data,
                                                variant.params),
            lambda: robustness.class_bootstrap_stability(data, params, base, replicates=20, seed=1),
            lambda: value_stages.class_robustness(params))


def measure(case: str, repeats: int) -> dict[str, float]:
    params = load_params(ROOT / "params" / f"{case}.yaml")
    customers, variants, chain, samples, whole_stage = (_grading if params.factor_grading else _value_matrix)(params)

    def alternatives():
        for variant in variants:
            try:
                chain(variant)
            except Exception:  # a Heywood case costs its attempt all the same
                pass

    def pipeline_once():
        with tempfile.TemporaryDirectory() as directory:
            for stage in ("01_clean", "02_indicators", "03_factor_analysis"):
                pipeline.run_stage(params, Path(directory), stage)

    per_alternative = statistics.median(_seconds(alternatives) for _ in range(repeats)) / len(variants)
    per_sample = statistics.median(_seconds(samples) for _ in range(repeats)) / 20
    whole = statistics.median(_seconds(whole_stage) for _ in range(repeats))
    by_pipeline = statistics.median(_seconds(pipeline_once) for _ in range(repeats))
    return {"customers": customers, "alternatives": len(variants), "per_alternative": per_alternative,
            "per_sample": per_sample, "stage": whole, "pipeline_01_03": by_pipeline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| case | customers | alternatives | s per alternative (in memory) | s per bootstrap sample | "
          "whole robustness, s (alternatives + 100 samples) | stages 01-03 by the pipeline, s (per alternative) | "
          "ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        m = measure(case, args.repeats)
        print(f"| `{case}` | {m['customers']:,} | {m['alternatives']} | {m['per_alternative']:.3f} | "
              f"{m['per_sample']:.3f} | {m['stage']:.2f} | {m['pipeline_01_03']:.2f} | "
              f"{m['pipeline_01_03'] / m['per_alternative']:.0f}x |")
    print(f"\n{at_scale(args.repeats)}")


def at_scale(repeats: int, customers: int = 1_000_000) -> str:
    """The jd value matrix's whole robustness on ``customers`` synthetic customers (written as the case's CSV, not
    timed): reading the file, the hash sample of ``robustness.max_customers``, every alternative and 100 samples."""
    params = load_params(ROOT / "params" / "jd.yaml")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "customers.csv"
        io.write_table(synthesize_customers(params, customers), path)
        large = params.model_copy(update={"source_file": Path(directory) / "jd.yaml",
                                          "data": params.data.model_copy(update={"path": path.name})})
        ids = pd.Index([f"JD{k:07d}" for k in range(customers)])
        draw = statistics.median(_seconds(lambda: robustness.hash_sample(ids, 20261127, 50_000))
                                 for _ in range(repeats))
        whole = statistics.median(_seconds(lambda: value_stages.class_robustness(large)) for _ in range(repeats))
    return (f"jd at {customers:,} customers: the whole robustness (reading the file, a hash sample of 50,000, every "
            f"alternative and 100 samples) {whole:.1f} s, of which the hash sample {draw:.1f} s.")

if __name__ == "__main__":
    main()
