"""Segmentation stage: grades (AAA / AA / A / A- or any other scheme) from the composite score."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .params import Grading

__all__ = ["grade_thresholds", "assign_grades", "grade_profile"]


def grade_thresholds(score: pd.Series, grading: Grading) -> pd.DataFrame:
    """Score lower bound of each grade, best grade first.

    For ``method="quantile"`` the bound of a grade with ``lower = q`` is the
    q-quantile of the composite scores (linear interpolation, R ``type = 7``);
    for ``method="cutoff"`` it is ``lower`` itself. The lowest grade's bound is
    minus infinity.

    Returns
    -------
    DataFrame
        Columns ``grade``, ``lower_quantile`` (NaN for cut-offs), ``lower_score``.
    """
    rows = []
    for grade in grading.grades:
        if grade.lower is None:
            rows.append((grade.id, np.nan, -np.inf))
        elif grading.method == "quantile":
            rows.append((grade.id, grade.lower, float(np.quantile(score.to_numpy(), grade.lower))))
        else:
            rows.append((grade.id, np.nan, grade.lower))
    return pd.DataFrame(rows, columns=["grade", "lower_quantile", "lower_score"])


def assign_grades(score: pd.Series, thresholds: pd.DataFrame) -> pd.Series:
    """The first grade, best first, whose lower bound the score reaches.

    Grades are half-open intervals ``[lower, next higher lower)``: a customer
    exactly on a bound gets the better grade.
    """
    bounds = thresholds["lower_score"].to_numpy()
    position = np.argmax(score.to_numpy()[:, None] >= bounds[None, :], axis=1)
    return pd.Series(thresholds["grade"].to_numpy()[position], index=score.index, name="grade")


def grade_profile(grades: pd.Series, score: pd.Series, indicators: pd.DataFrame,
                  order: list[str]) -> pd.DataFrame:
    """Size and mean profile of each grade.

    Returns
    -------
    DataFrame
        One row per grade in ``order``: ``grade``, ``customers``, ``share``
        (of all graded customers), ``mean_score``, ``min_score``,
        ``max_score``, then the mean of every indicator in its own unit.
    """
    frame = indicators.assign(composite_score=score, grade=grades)
    grouped = frame.groupby("grade", sort=False)
    summary = pd.DataFrame({
        "customers": grouped.size(),
        "mean_score": grouped["composite_score"].mean(),
        "min_score": grouped["composite_score"].min(),
        "max_score": grouped["composite_score"].max(),
    }).reindex(order)
    summary["customers"] = summary["customers"].fillna(0).astype(int)
    summary.insert(1, "share", summary["customers"] / len(frame))
    means = grouped[list(indicators.columns)].mean().reindex(order)
    return pd.concat([summary, means], axis=1).rename_axis("grade").reset_index()
