"""Strategy stage: the problem and strategy table per grade, in Chinese and English."""
from __future__ import annotations

import pandas as pd

from .params import Grading

__all__ = ["strategy_table"]


def strategy_table(grading: Grading, profile: pd.DataFrame) -> pd.DataFrame:
    """Join each grade's problem and strategies (from the params) to its size.

    Returns
    -------
    DataFrame
        One row per grade, best first: ``grade``, ``label_en``, ``label_zh``,
        ``customers``, ``share``, ``mean_score``, ``problem_en``,
        ``problem_zh``, ``strategies_en``, ``strategies_zh`` (strategies joined
        with "; " and "；").
    """
    rows = pd.DataFrame([{
        "grade": g.id,
        "label_en": g.label_en,
        "label_zh": g.label_zh,
        "problem_en": g.problem_en,
        "problem_zh": g.problem_zh,
        "strategies_en": "; ".join(g.strategies_en),
        "strategies_zh": "；".join(g.strategies_zh),
    } for g in grading.grades])
    sizes = profile[["grade", "customers", "share", "mean_score"]]
    table = rows.merge(sizes, on="grade", how="left", validate="one_to_one")
    return table[["grade", "label_en", "label_zh", "customers", "share", "mean_score", "problem_en",
                  "problem_zh", "strategies_en", "strategies_zh"]]
