"""Segmentation stage: grades from the composite score, or classes of a customer value matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .params import AxisThreshold, Grading, RelationshipStages, ValueMatrix

__all__ = [
    "grade_thresholds",
    "assign_grades",
    "grade_profile",
    "axis_threshold",
    "value_matrix_classes",
    "class_summary",
    "middle_band_share",
    "relationship_stage",
]


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


def grade_profile(grades: pd.Series, score: pd.Series, order: list[str]) -> pd.DataFrame:
    """Size and score range of each grade.

    Returns
    -------
    DataFrame
        One row per grade in ``order``: ``grade``, ``customers``, ``share``
        (of all graded customers), ``mean_score``, ``min_score``,
        ``max_score``.
    """
    grouped = score.groupby(grades, sort=False)
    summary = pd.DataFrame({
        "customers": grouped.size(),
        "mean_score": grouped.mean(),
        "min_score": grouped.min(),
        "max_score": grouped.max(),
    }).reindex(order)
    summary["customers"] = summary["customers"].fillna(0).astype(int)
    summary.insert(1, "share", summary["customers"] / len(score))
    return summary.rename_axis("grade").reset_index()


def segment_means(segments: pd.Series, indicators: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """The mean of every indicator per segment (grade, value class), in its own unit, as a long table.

    Long, so that no indicator id can collide with a column name (an indicator may be called ``share``).

    Returns
    -------
    DataFrame
        ``indicator``, the segment column (``segments.name``), ``mean``: indicators in their declared order,
        segments in ``order`` (a segment without customers has a missing mean).
    """
    means = indicators.groupby(segments, sort=False).mean().reindex(order)
    long = means.rename_axis(index=segments.name, columns="indicator").T.stack(future_stack=True)
    return long.rename("mean").reset_index()


def axis_threshold(values: pd.Series, rule: AxisThreshold) -> float:
    """Split point of a value-matrix axis: the mean, the median, a quantile (R type 7) or a fixed value."""
    if rule.rule == "mean":
        return float(values.mean())
    if rule.rule == "median":
        return float(values.median())
    if rule.rule == "quantile":
        return float(np.quantile(values.to_numpy(), rule.q))
    return float(rule.value)


def value_matrix_classes(values: pd.DataFrame, matrix: ValueMatrix) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each customer's quadrant and class in the value matrix.

    A customer is *high* on an axis when its value is at least the axis
    threshold (ties go high). Quadrants are named ``<x level>_<y level>``
    (``high_low``: high x, low y) and mapped to classes by the params.

    Returns
    -------
    thresholds : DataFrame
        ``axis``, ``dimension``, ``rule``, ``threshold``.
    classes : DataFrame
        Indexed by customer id: the x and y values, ``quadrant``, ``class``.
    """
    tx = axis_threshold(values[matrix.x], matrix.x_threshold)
    ty = axis_threshold(values[matrix.y], matrix.y_threshold)
    thresholds = pd.DataFrame({"axis": ["x", "y"], "dimension": [matrix.x, matrix.y],
                               "rule": [matrix.x_threshold.rule, matrix.y_threshold.rule], "threshold": [tx, ty]})
    x_level = np.where(values[matrix.x] >= tx, "high", "low")
    y_level = np.where(values[matrix.y] >= ty, "high", "low")
    quadrant = pd.Series(np.char.add(np.char.add(x_level, "_"), y_level), index=values.index)
    mapping = {key: value_class.id for key, value_class in matrix.classes.items()}
    classes = pd.DataFrame({matrix.x: values[matrix.x], matrix.y: values[matrix.y], "quadrant": quadrant,
                            "class": quadrant.map(mapping)})
    return thresholds, classes


def class_summary(classes: pd.DataFrame, indicators: pd.DataFrame, matrix: ValueMatrix) -> pd.DataFrame:
    """Size, value share and mean profile of each value-matrix class.

    ``x_value_share`` is the class's share of the total x value on a
    non-negative scale: the min-max scaled x value (``value_share_basis:
    minmax``) or the raw sum of an indicator (e.g. a contribution in 万元).

    Returns
    -------
    DataFrame
        One row per class in the order high_high, high_low, low_high, low_low:
        ``class``, ``label_en``, ``label_zh``, ``quadrant``, ``customers``,
        ``share``, ``x_value_share``, ``mean_<x>``, ``mean_<y>`` (the indicator means per class are
        :func:`segment_means`).
    """
    x = classes[matrix.x]
    if matrix.value_share_basis == "minmax":
        basis = (x - x.min()) / (x.max() - x.min())
    else:
        basis = indicators[matrix.value_share_basis]
    order = [c.id for c in matrix.classes.values()]
    grouped = classes.assign(basis=basis).groupby("class", sort=False)
    summary = pd.DataFrame({
        "customers": grouped.size(),
        "x_value_share": grouped["basis"].sum() / basis.sum(),
        f"mean_{matrix.x}": grouped[matrix.x].mean(),
        f"mean_{matrix.y}": grouped[matrix.y].mean(),
    }).reindex(order)
    summary["customers"] = summary["customers"].fillna(0).astype(int)
    summary["x_value_share"] = summary["x_value_share"].fillna(0.0)
    summary.insert(1, "share", summary["customers"] / len(classes))
    labels = pd.DataFrame([(c.id, c.label_en, c.label_zh, quadrant) for quadrant, c in matrix.classes.items()],
                          columns=["class", "label_en", "label_zh", "quadrant"]).set_index("class")
    return pd.concat([labels, summary], axis=1).rename_axis("class").reset_index()


def middle_band_share(values: pd.DataFrame, dimensions: list[str], band: tuple[float, float]) -> pd.DataFrame:
    """Share of customers whose min-max scaled value lies in ``[band[0], band[1]]``, per dimension.

    Checks findings such as "a considerable part of customers is at the middle level".

    Returns
    -------
    DataFrame
        ``dimension``, ``band_low``, ``band_high``, ``customers_in_band``, ``share_in_band``.
    """
    rows = []
    for dimension in dimensions:
        v = values[dimension]
        scaled = (v - v.min()) / (v.max() - v.min())
        inside = scaled.between(band[0], band[1])
        rows.append((dimension, band[0], band[1], int(inside.sum()), float(inside.mean())))
    return pd.DataFrame(rows, columns=["dimension", "band_low", "band_high", "customers_in_band", "share_in_band"])


def relationship_stage(indicator: pd.Series, stages: RelationshipStages) -> pd.Series:
    """Each customer's relationship stage: the last stage whose lower bound the indicator reaches."""
    bounds = np.array([-np.inf] + [s.lower for s in stages.stages[1:]])
    position = np.searchsorted(bounds, indicator.to_numpy(), side="right") - 1
    return pd.Series(np.array([s.id for s in stages.stages])[position], index=indicator.index, name="stage")
