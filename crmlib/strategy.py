"""Strategy stage: problem and strategy tables per grade, value class, relationship stage, tier and
life-cycle stage, in Chinese and English."""
from __future__ import annotations

import pandas as pd

from .params import Grading, Lifecycle, Tiers, ValueMatrix

__all__ = ["strategy_table", "class_strategy_table", "stage_strategy_table", "tier_strategy_table",
           "lifecycle_strategy_table"]


def _join_en(items: list[str]) -> str:
    return "; ".join(items)


def _join_zh(items: list[str]) -> str:
    return "；".join(items)


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
        "strategies_en": _join_en(g.strategies_en),
        "strategies_zh": _join_zh(g.strategies_zh),
    } for g in grading.grades])
    sizes = profile[["grade", "customers", "share", "mean_score"]]
    table = rows.merge(sizes, on="grade", how="left", validate="one_to_one")
    return table[["grade", "label_en", "label_zh", "customers", "share", "mean_score", "problem_en",
                  "problem_zh", "strategies_en", "strategies_zh"]]


def class_strategy_table(matrix: ValueMatrix, summary: pd.DataFrame) -> pd.DataFrame:
    """Strategies of each value-matrix class with its size.

    Returns
    -------
    DataFrame
        ``class``, ``label_en``, ``label_zh``, ``quadrant``, ``customers``, ``share``,
        ``x_value_share``, ``strategies_en``, ``strategies_zh``.
    """
    rows = pd.DataFrame([{"class": c.id, "strategies_en": _join_en(c.strategies_en),
                          "strategies_zh": _join_zh(c.strategies_zh)} for c in matrix.classes.values()])
    sizes = summary[["class", "label_en", "label_zh", "quadrant", "customers", "share", "x_value_share"]]
    return sizes.merge(rows, on="class", how="left", validate="one_to_one")


def stage_strategy_table(matrix: ValueMatrix, classes: pd.Series, stages: pd.Series) -> pd.DataFrame:
    """Customers per value class and relationship stage, with each stage's strategies.

    Returns
    -------
    DataFrame
        One row per stage: ``stage``, ``label_en``, ``label_zh``, one count column
        per class, ``customers``, ``strategies_en``, ``strategies_zh``.
    """
    order = [c.id for c in matrix.classes.values()]
    counts = pd.crosstab(stages, classes).reindex(index=[s.id for s in matrix.relationship_stages.stages],
                                                  columns=order, fill_value=0)
    counts.columns.name = None
    counts["customers"] = counts.sum(axis=1)
    return _with_strategies(matrix.relationship_stages.stages, counts)


def _segment_text(segments) -> pd.DataFrame:
    return pd.DataFrame([{"id": s.id, "label_en": s.label_en, "label_zh": s.label_zh,
                          "strategies_en": _join_en(s.strategies_en), "strategies_zh": _join_zh(s.strategies_zh)}
                         for s in segments]).set_index("id")


def tier_strategy_table(tiers: Tiers, attrition: pd.DataFrame) -> pd.DataFrame:
    """Each tier's size, losses and strategies.

    Returns
    -------
    DataFrame
        ``tier``, ``label_en``, ``label_zh``, ``customers``, ``loss_rate``,
        ``assets_lost_share``, ``strategies_en``, ``strategies_zh``.
    """
    text = _segment_text(tiers.levels)
    losses = attrition.set_index("tier")[["customers", "loss_rate", "assets_lost_share"]]
    table = text[["label_en", "label_zh"]].join(losses).join(text[["strategies_en", "strategies_zh"]])
    return table.rename_axis("tier").reset_index()


def lifecycle_strategy_table(lifecycle: Lifecycle, profile: pd.DataFrame) -> pd.DataFrame:
    """Customers per life-cycle stage and tier (:func:`crmlib.customer_base.lifecycle_profile`), with each
    stage's strategies.

    Returns
    -------
    DataFrame
        One row per stage: ``stage``, ``label_en``, ``label_zh``, one count column
        per tier, ``customers``, ``strategies_en``, ``strategies_zh``.
    """
    return _with_strategies(lifecycle.stages, profile.set_index("stage").drop(columns="share"))


def _with_strategies(segments, counts: pd.DataFrame) -> pd.DataFrame:
    """Counts per segment (indexed by segment id) between the segments' labels and their strategies."""
    text = _segment_text(segments)
    table = text[["label_en", "label_zh"]].join(counts).join(text[["strategies_en", "strategies_zh"]])
    return table.rename_axis("stage").reset_index()
