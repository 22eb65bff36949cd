"""The five stages every case runs, as functions of (params, stage-table directory).

Each stage reads only the params and the tables earlier stages wrote to the
directory, writes its own tables there (atomically, see :func:`crmlib.io.write_table`)
and returns them so a notebook can display them. The notebooks in
``notebooks/`` are thin wrappers around these functions.

Tables and their columns (``<directory>/<name>.csv``):

01_clean
    ``clean_indicators``: customer_id, one column per indicator in its own unit.
    ``cleaning_log``: see :class:`crmlib.cleaning.CleaningResult`.
02_indicators
    ``descriptives``: indicator, label_en, label_zh, unit, direction, dimension, n,
    mean, sd, min, median, max, skewness (cleaned values, own units).
    ``standardized_indicators``: customer_id, one z-score per indicator, cost
    indicators turned to benefit direction.
03_factor_analysis
    ``correlation_matrix``; ``kmo`` (indicator, msa); ``bartlett`` (chi_square,
    df, p_value, n_customers, n_indicators, condition_number); ``eigenvalues``
    (component, eigenvalue, and random_mean, random_quantile under parallel
    analysis, retained); ``loadings_unrotated`` (indicator, C1..Ck);
    ``loadings_rotated`` (indicator, F1..Fk, communality); ``communalities``;
    ``variance_explained`` (psych's Vaccounted); ``total_variance_explained``
    (SPSS's table); ``rotation_matrix``; ``score_coefficients`` (indicator,
    F1..Fk); ``composite_weights`` (factor, weight); ``factor_scores``
    (customer_id, F1..Fk, composite_score).
04_segmentation
    ``grade_thresholds`` (grade, lower_quantile, lower_score); ``customer_grades``
    (customer_id, composite_score, rank, grade); ``grade_profile`` (see
    :func:`crmlib.segmentation.grade_profile`).
05_strategy
    ``strategy``: see :func:`crmlib.strategy.strategy_table`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import cleaning, factors, indicators, io, segmentation, strategy
from .params import CaseParams

__all__ = ["STAGES", "clean", "build_indicators", "factor_analysis", "segment", "strategies"]

#: Stage notebooks, in order; a stage is named by its number or full name.
STAGES = ("01_clean", "02_indicators", "03_factor_analysis", "04_segmentation", "05_strategy")


def _write(tables: dict[str, pd.DataFrame], directory) -> dict[str, pd.DataFrame]:
    for name, table in tables.items():
        io.write_table(table, Path(directory) / f"{name}.csv")
    return tables


def clean(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: read the customer file, winsorize, handle missing values, check."""
    raw = io.read_indicators(params)
    result = cleaning.clean_indicators(raw, params.cleaning, file=params.data_path)
    return _write({"clean_indicators": result.data, "cleaning_log": result.log}, directory)


def build_indicators(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 02: descriptive statistics, benefit direction, z-scores."""
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    meta = pd.DataFrame([i.model_dump(include={"id", "label_en", "label_zh", "unit", "direction", "dimension"})
                         for i in params.indicators]).rename(columns={"id": "indicator"})
    descriptives = meta.merge(indicators.descriptive_statistics(data), on="indicator")
    directions = {i.id: i.direction for i in params.indicators}
    z = indicators.standardize(indicators.to_benefit_direction(data, directions), ddof=params.cleaning.ddof)
    return _write({"descriptives": descriptives, "standardized_indicators": z}, directory)


def factor_analysis(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: adequacy tests, number of factors, principal components, rotation, scores, composite."""
    settings = params.factor_analysis
    z = io.read_table(directory, "standardized_indicators", index="customer_id")
    corr = factors.correlation_matrix(z)
    kappa = factors.check_conditioning(corr, settings.max_condition_number, file=params.data_path)
    eigen = factors.eigenvalues(corr)
    count = settings.n_factors
    parallel = None
    if count.rule == "parallel":
        parallel = factors.parallel_analysis(len(z), z.shape[1], iterations=count.iterations,
                                             quantile=count.quantile, seed=count.seed)
    k = factors.number_of_factors(eigen, count, parallel)
    fit = factors.principal_components(corr, k, rotation=settings.rotation,
                                       kaiser_normalization=settings.kaiser_normalization)
    scores = factors.factor_scores(z, fit, ddof=params.cleaning.ddof)
    weights = factors.composite_weights(fit, settings.composite_weights)
    scores["composite_score"] = factors.composite_score(scores, weights)

    eigen_table = eigen.reset_index()
    if parallel is not None:
        eigen_table = eigen_table.merge(parallel, on="component")
    eigen_table["retained"] = eigen_table["component"] <= k
    rotated = fit.loadings.join(fit.communalities.set_index("indicator"))
    return _write({
        "correlation_matrix": corr.rename_axis("indicator").reset_index(),
        "kmo": factors.kmo(z),
        "bartlett": factors.bartlett_sphericity(z).assign(condition_number=kappa),
        "eigenvalues": eigen_table,
        "loadings_unrotated": fit.unrotated_loadings.rename_axis("indicator").reset_index(),
        "loadings_rotated": rotated.drop(columns="uniqueness").rename_axis("indicator").reset_index(),
        "communalities": fit.communalities,
        "variance_explained": fit.variance,
        "total_variance_explained": factors.total_variance_explained(fit),
        "rotation_matrix": fit.rotation_matrix.rename_axis("component").reset_index(),
        "score_coefficients": fit.score_coefficients.rename_axis("indicator").reset_index(),
        "composite_weights": weights.reset_index(),
        "factor_scores": scores,
    }, directory)


def segment(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: grade thresholds, each customer's grade, grade profiles."""
    scores = io.read_table(directory, "factor_scores", index="customer_id")["composite_score"]
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    thresholds = segmentation.grade_thresholds(scores, params.grading)
    grades = segmentation.assign_grades(scores, thresholds)
    customer_grades = pd.DataFrame({
        "composite_score": scores,
        "rank": scores.rank(ascending=False, method="min").astype(int),
        "grade": grades,
    })
    order = [g.id for g in params.grading.grades]
    profile = segmentation.grade_profile(grades, scores, data.loc[scores.index], order)
    return _write({"grade_thresholds": thresholds, "customer_grades": customer_grades,
                   "grade_profile": profile}, directory)


def strategies(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: the problem and strategy table per grade."""
    profile = io.read_table(directory, "grade_profile")
    return _write({"strategy": strategy.strategy_table(params.grading, profile)}, directory)
