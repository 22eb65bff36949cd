"""Segmentation stage: grades from the composite score, or classes of a customer value matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import exact_mean, number, quote, text
from .params import AxisThreshold, Grading, RelationshipStages, ValueMatrix

__all__ = [
    "grade_thresholds",
    "grade_customers",
    "grade_profile",
    "grade_indicator_means",
    "axis_threshold",
    "value_matrix_classes",
    "class_summary",
    "middle_band_share",
    "relationship_stage",
]


def grade_thresholds(run, table: str, grading: Grading) -> pd.DataFrame:
    """Score lower bound of each grade, best grade first, from the ``composite_score`` of engine table ``table``.

    For ``method="quantile"`` the bound of a grade with ``lower = q`` is the q-quantile of the composite scores,
    computed exactly by the engine (linear interpolation, R's ``quantile(type = 7)``: DuckDB's ``quantile_cont``,
    Spark's ``percentile``); for ``method="cutoff"`` it is ``lower`` itself. The lowest grade's bound is minus
    infinity.

    Returns
    -------
    DataFrame
        Columns ``grade``, ``lower_quantile`` (NaN for cut-offs), ``lower_score``.
    """
    quantiles = {g.id: g.lower for g in grading.grades if g.lower is not None and grading.method == "quantile"}
    found = {}
    if quantiles:
        found = run.first("SELECT " + ", ".join(f"quantile_cont(CAST(composite_score AS DOUBLE), {number(q)}) AS q{n}"
                                                for n, q in enumerate(quantiles.values())) + f" FROM {table}")
        found = dict(zip(quantiles, found.values()))
    rows = []
    for grade in grading.grades:
        if grade.lower is None:
            rows.append((grade.id, np.nan, -np.inf))
        elif grading.method == "quantile":
            rows.append((grade.id, grade.lower, float(found[grade.id])))
        else:
            rows.append((grade.id, np.nan, grade.lower))
    return pd.DataFrame(rows, columns=["grade", "lower_quantile", "lower_score"])


def grade_customers(run, table: str, thresholds: pd.DataFrame) -> None:
    """Make engine table ``customer_grades`` from the ``composite_score`` of engine table ``table``: each
    customer's score, rank (1 = highest; tied scores share the best rank, as ``RANK()``) and grade, the first grade,
    best first, whose lower bound the score reaches.

    Grades are half-open intervals ``[lower, next higher lower)``: a customer exactly on a bound gets the better
    grade. The rank is one window over all customers (on Spark, one partition). A customer without a score (a
    missing indicator under pairwise deletion, ``factor_analysis.impute: none``) has no rank and no grade.
    """
    finite = thresholds[np.isfinite(thresholds["lower_score"])]
    lowest = thresholds.loc[~np.isfinite(thresholds["lower_score"]), "grade"]
    cases = " ".join(f"WHEN composite_score >= {number(bound)} THEN {text(grade)}"
                     for grade, bound in zip(finite["grade"], finite["lower_score"]))
    otherwise = f" ELSE {text(lowest.iloc[0])}" if len(lowest) else ""
    run.create("customer_grades",
               "SELECT customer_id, composite_score, CASE WHEN composite_score IS NOT NULL THEN RANK() OVER (ORDER "
               "BY composite_score DESC NULLS LAST) END AS rank, "
               f"CASE WHEN composite_score IS NULL THEN NULL {cases}{otherwise} END AS grade FROM (SELECT "
               "CAST(customer_id AS VARCHAR) AS customer_id, "
               f"CAST(composite_score AS DOUBLE) AS composite_score FROM {table}) AS scores")


def grade_profile(run, order: list[str]) -> pd.DataFrame:
    """Size and score range of each grade of engine table ``customer_grades`` (:func:`grade_customers`). The mean
    is exact (each score rounded to 18 decimals, summed as a decimal: :func:`crmlib.engine.exact_mean`).

    Returns
    -------
    DataFrame
        One row per grade in ``order``: ``grade``, ``customers``, ``share`` (of all graded customers),
        ``mean_score``, ``min_score``, ``max_score``.
    """
    summary = run.query(f"SELECT grade, COUNT(*) AS customers, {exact_mean('composite_score', 18)} AS mean_score, "
                        "MIN(composite_score) AS min_score, MAX(composite_score) AS max_score "
                        "FROM customer_grades GROUP BY grade").set_index("grade").reindex(order)
    summary["customers"] = summary["customers"].fillna(0).astype(int)
    summary.insert(1, "share", summary["customers"] / summary["customers"].sum())
    return summary.rename_axis("grade").reset_index()


#: Bins of the composite scores' histogram (:func:`composite_histogram`).
HISTOGRAM_BINS = 40
#: The biplot draws at most this many customers (:func:`biplot_points`).
BIPLOT_POINTS = 20_000


def composite_histogram(run, bins: int = HISTOGRAM_BINS) -> pd.DataFrame:
    """The histogram of the composite scores of engine table ``customer_grades``, counted by the engine: ``bins``
    equal bins from the lowest score to the highest (:func:`numpy.histogram_bin_edges`), each customer in the bin
    ``[lower, upper)``, the last bin closed, as :func:`numpy.histogram` counts them (cumulative counts of the scores
    reaching each edge). A figure draws it without reading the customers.

    Returns
    -------
    DataFrame
        One row per bin: ``lower``, ``upper``, ``customers``.
    """
    scored = "FROM customer_grades WHERE composite_score IS NOT NULL"
    low, high = run.first(f"SELECT MIN(composite_score) AS low, MAX(composite_score) AS high {scored}").values()
    if pd.isna(low):
        return pd.DataFrame({"lower": [], "upper": [], "customers": []}).astype({"customers": int})
    edges = np.histogram_bin_edges([low, high], bins=bins)
    reaching = run.query("SELECT " + ", ".join(f"SUM(CASE WHEN composite_score >= {number(e)} THEN 1 ELSE 0 END) "
                                               f"AS e{k}" for k, e in enumerate(edges[:-1]))
                         + f" {scored}").iloc[0].to_numpy(dtype=np.int64)
    counts = reaching - np.append(reaching[1:], 0)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "customers": counts})


def biplot_step(customers: int, points: int = BIPLOT_POINTS) -> int:
    """The k of the biplot's systematic sample (:func:`biplot_points`): the smallest that draws at most ``points``
    of ``customers``."""
    return max(1, -(-customers // points))


def biplot_points(run, scores: str, factors: list[str], points: int = BIPLOT_POINTS) -> pd.DataFrame:
    """The customers a biplot draws: of the customers of engine table ``scores`` with a score on each of
    ``factors`` (the first two), every k-th in customer-id order (byte order), k the smallest that leaves at most
    ``points``: a systematic sample, the same on every engine and run; with the grade of engine table
    ``customer_grades`` (every customer scored has one). No ids.

    Returns
    -------
    DataFrame
        ``factors``, ``grade``, in id order.
    """
    values = [f"CAST(s.{quote(f)} AS DOUBLE)" for f in factors]
    scored = (f"SELECT {', '.join(f'{v} AS {quote(f)}' for v, f in zip(values, factors))}, g.grade, "
              "ROW_NUMBER() OVER (ORDER BY g.customer_id) AS n "
              f"FROM {scores} AS s JOIN customer_grades AS g ON CAST(s.customer_id AS VARCHAR) = g.customer_id "
              f"WHERE {' AND '.join(f'{v} IS NOT NULL' for v in values)}")
    run.create("biplot_customers", scored)
    customers = int(run.first("SELECT COUNT(*) AS n FROM biplot_customers")["n"])
    step = biplot_step(customers, points)
    return run.query(f"SELECT {', '.join(quote(f) for f in factors)}, grade FROM biplot_customers "
                     f"WHERE (n - 1) % {step} = 0 ORDER BY n")


def grade_indicator_means(run, table: str, indicators: list[str], order: list[str]) -> pd.DataFrame:
    """The mean of every indicator of engine table ``table`` per grade of engine table ``customer_grades``, in its
    own unit, as a long table (as :func:`segment_means`). Exact means: each value rounded to 12 decimals and summed
    as a decimal (:func:`crmlib.engine.exact_mean`).

    Returns
    -------
    DataFrame
        ``indicator``, ``grade``, ``mean``: indicators in the given order, grades in ``order`` (a grade without
        customers has a missing mean).
    """
    means = ", ".join(f"{exact_mean(f'CAST(data.{quote(i)} AS DOUBLE)', 12)} AS m{n}" for n, i in enumerate(indicators))
    wide = run.query(f"SELECT grades.grade AS segment, {means} FROM {table} AS data JOIN customer_grades AS grades "
                     "ON CAST(data.customer_id AS VARCHAR) = grades.customer_id GROUP BY grades.grade")
    wide = wide.set_index("segment").set_axis(indicators, axis=1).reindex(order)
    long = wide.rename_axis(index="grade", columns="indicator").T.stack(future_stack=True)
    return long.rename("mean").reset_index()


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
