"""Time the robustness of each grading case (``crmlib.robustness``): one alternative convention, one bootstrap
sample, and the whole stage-04 robustness, beside the obvious alternative of running the pipeline's stages 01-04
once per alternative (``crmlib.pipeline.run_stage`` on DuckDB, tables read and written, into a temporary directory).

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

from crmlib import io, load_params, pipeline, robustness  # noqa: E402
from crmlib.families.factor_grading import stages  # noqa: E402

CASES = ("shaoxing", "islr_credit", "credit_grading")


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def measure(case: str, repeats: int) -> dict[str, float]:
    params = load_params(ROOT / "params" / f"{case}.yaml")
    raw = io.read_measures(params.data, params.data_path, params.indicators).values
    directions = {i.id: i.direction for i in params.indicators}
    settings = params.factor_grading
    base = robustness.grading_chain(raw, directions, params.cleaning, settings.factor_analysis, settings.grading)
    variants = robustness.convention_variants(params.cleaning, settings.factor_analysis, base.n_factors,
                                              len(params.indicators), bool(raw.isna().to_numpy().any()))

    def alternatives():
        for variant in variants:
            try:
                robustness.grading_chain(raw, directions, variant.cleaning, variant.settings, settings.grading)
            except Exception:  # a Heywood case costs its attempt all the same
                pass

    def samples():
        robustness.bootstrap_stability(raw, directions, params.cleaning, settings.factor_analysis, settings.grading,
                                       base, replicates=20, seed=1)

    def pipeline_once():
        with tempfile.TemporaryDirectory() as directory:
            for stage in ("01_clean", "02_indicators", "03_factor_analysis"):
                pipeline.run_stage(params, Path(directory), stage)

    per_alternative = statistics.median(_seconds(alternatives) for _ in range(repeats)) / len(variants)
    per_sample = statistics.median(_seconds(samples) for _ in range(repeats)) / 20
    whole = statistics.median(_seconds(lambda: stages.grading_robustness(params)) for _ in range(repeats))
    by_pipeline = statistics.median(_seconds(pipeline_once) for _ in range(repeats))
    return {"customers": len(raw), "alternatives": len(variants), "per_alternative": per_alternative,
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


if __name__ == "__main__":
    main()
