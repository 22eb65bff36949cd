"""Stages of the factor-grading family: factor analysis and composite score (03), grades (04), strategies (05)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import factors, io, segmentation, strategy
from ...labels import reversed_labels


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: principal-component factor analysis of the z-scores, varimax, regression scores, composite."""
    z = io.read_table(directory, "standardized_indicators", index="customer_id")
    result = factors.fit_composite(z, params.factor_grading.factor_analysis, params.cleaning.ddof,
                                   file=params.data_path)
    fit, corr = result.fit, result.fit.correlation
    eigen_table = factors.eigenvalues(corr).reset_index().merge(result.parallel, on="component")
    eigen_table["retained"] = eigen_table["component"] <= fit.n_factors
    rotated = fit.loadings.join(fit.communalities.set_index("indicator"))
    sign = pd.Series({i.id: -1.0 if i.direction == "cost" else 1.0 for i in params.indicators})[corr.index]
    original = corr * np.outer(sign, sign)  # each indicator back in its own direction, for the reader
    return {
        "correlation_matrix": original.rename_axis("indicator").reset_index(),
        "kmo": factors.kmo(z),
        "bartlett": factors.bartlett_sphericity(z).assign(condition_number=result.condition_number),
        "eigenvalues": eigen_table,
        "loadings_unrotated": fit.unrotated_loadings.rename_axis("indicator").reset_index(),
        "loadings_rotated": rotated.drop(columns="uniqueness").rename_axis("indicator").reset_index(),
        "communalities": fit.communalities,
        "variance_explained": fit.variance,
        "total_variance_explained": factors.total_variance_explained(fit),
        "rotation_matrix": fit.rotation_matrix.rename_axis("component").reset_index(),
        "score_coefficients": fit.score_coefficients.rename_axis("indicator").reset_index(),
        "factor_names": factors.name_factors(fit.loadings, {lang: reversed_labels(params, lang) for lang in ("en", "zh")},
                                             params.factor_grading.factor_names),
        "composite_weights": result.weights.reset_index(),
        "factor_scores": result.scores,
    }


def segment(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: grades from the composite score, their sizes and indicator means."""
    grading = params.factor_grading.grading
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    scores = io.read_table(directory, "factor_scores", index="customer_id")["composite_score"]
    thresholds = segmentation.grade_thresholds(scores, grading)
    grades = segmentation.assign_grades(scores, thresholds).rename("grade")
    customer_grades = pd.DataFrame({
        "composite_score": scores,
        "rank": scores.rank(ascending=False, method="min").astype(int),
        "grade": grades,
    })
    order = [g.id for g in grading.grades]
    return {"grade_thresholds": thresholds, "customer_grades": customer_grades,
            "grade_profile": segmentation.grade_profile(grades, scores, order),
            "grade_indicator_means": segmentation.segment_means(grades, data.loc[scores.index], order)}


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: each grade's problem and strategies joined to its size."""
    profile = io.read_table(directory, "grade_profile")
    return {"strategy": strategy.strategy_table(params.factor_grading.grading, profile)}
