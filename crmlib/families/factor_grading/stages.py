"""Stages of the factor-grading family: factor analysis and composite score (03), grades (04), strategies (05)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ... import engine, factors, io, robustness, segmentation, strategy
from . import robust
from ...labels import reversed_labels


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: factor analysis of the z-scores (principal components, minimum residual, principal axes or maximum
    likelihood, with the likelihood fit), rotation, factor scores, composite. The run's engine computes the
    correlation matrix (exact sums, :func:`crmlib.factors.exact_moments`) and the scores; the eigen-decomposition
    and the rotation run in memory. A published correlation matrix (``data.matrix``) is analysed as read, with its
    number of observations: it has no customers, so no scores and no bootstrap."""
    settings = params.factor_grading.factor_analysis
    sign = pd.Series({i.id: -1.0 if i.direction == "cost" else 1.0 for i in params.indicators})
    if params.data.matrix is not None:
        read = io.read_table(directory, "input_correlations", index="indicator")
        corr = read * np.outer(sign[read.index], sign[read.index])  # cost indicators turned, as their z-scores
        result = factors.fit_composite(corr, params.data.matrix.n_obs, settings, file=params.data_path)
        return _fit_tables(params, corr, params.data.matrix.n_obs, result, sign)
    run = engine.current()
    run.table("standardized_indicators", io.table_file(directory, "standardized_indicators"), text=True)
    columns = [i.id for i in params.indicators]
    pairwise = params.cleaning.missing == "pairwise"
    moments = factors.exact_moments(run, "standardized_indicators", columns, params.cleaning.ddof, pairwise=pairwise)
    corr = moments.correlation
    result = factors.fit_composite(corr, moments.n, settings, file=params.data_path)
    tables = _fit_tables(params, corr, moments.n, result, sign)
    bootstrap = settings.bootstrap
    if bootstrap.replicates > 0:
        sample = run.query(f"SELECT * FROM standardized_indicators ORDER BY "
                           f"{engine.hash_order(bootstrap.seed, 'customer_id')} LIMIT {bootstrap.max_customers}")
        tables["loading_intervals"] = factors.loading_intervals(
            sample[list(corr.columns)], result.fit, settings, replicates=bootstrap.replicates,
            confidence=bootstrap.confidence, seed=bootstrap.seed, pairwise=pairwise).assign(customers=len(sample))
    tables["factor_scores"] = factors.engine_factor_scores(run, "standardized_indicators", moments, result.fit,
                                                           result.weights, impute=settings.impute)
    if pairwise:
        tables["indicator_pair_counts"] = moments.pair_counts.rename_axis("indicator").reset_index()
        tables["score_coverage"] = score_coverage(run, "standardized_indicators", columns, settings.impute)
    return tables


def score_coverage(run, table: str, columns: list[str], impute: str) -> pd.DataFrame:
    """:func:`crmlib.factors.score_coverage` of the customers of engine table ``table``, counted by the engine."""
    complete = " AND ".join(f"{engine.quote(c)} IS NOT NULL" for c in columns)
    counts = run.first(f"SELECT COUNT(*) AS customers, SUM(CASE WHEN {complete} THEN 1 ELSE 0 END) AS complete "
                       f"FROM {table}")
    return factors.score_coverage(int(counts["customers"]), int(counts["complete"]), impute)


def _fit_tables(params, corr: pd.DataFrame, n: int, result: factors.CompositeFit, sign: pd.Series
                ) -> dict[str, pd.DataFrame]:
    """The tables of a fit of ``corr`` (indicators in benefit direction; ``sign`` turns them back) from ``n``
    observations."""
    fit = result.fit
    eigen_table = factors.eigenvalues(corr).reset_index().merge(result.parallel, on="component")
    eigen_table["retained"] = eigen_table["component"] <= fit.n_factors
    rotated = fit.loadings.join(fit.communalities.set_index("indicator"))
    original = corr * np.outer(sign[corr.index], sign[corr.index])  # each indicator in its own direction
    extra = ({"likelihood_fit": factors.likelihood_fit(corr, fit.unrotated_loadings, n)}
             if params.factor_grading.factor_analysis.extraction == "ml" else {})
    if fit.factor_correlations is not None:
        extra |= {"structure_matrix": fit.structure.rename_axis("indicator").reset_index(),
                  "oblique_factor_correlations": fit.factor_correlations.rename_axis("factor").reset_index()}
    return extra | {
        "correlation_matrix": original.rename_axis("indicator").reset_index(),
        "kmo": factors.kmo(corr),
        "bartlett": factors.bartlett_sphericity(corr, n).assign(condition_number=result.condition_number),
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
    }


def segment(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: grades from the composite score, their sizes and indicator means, computed by the run's engine."""
    grading = params.factor_grading.grading
    run = engine.current()
    run.table("factor_scores", io.table_file(directory, "factor_scores"), text=True)
    run.table("clean_indicators", io.table_file(directory, "clean_indicators"), text=True)
    thresholds = segmentation.grade_thresholds(run, "factor_scores", grading)
    segmentation.grade_customers(run, "factor_scores", thresholds)
    order = [g.id for g in grading.grades]
    extra = grading_robustness(params) if robust(params) else {}
    first_two = [c for c in run.columns("factor_scores") if c in ("F1", "F2")]
    return extra | {"grade_thresholds": thresholds,
            "composite_histogram": segmentation.composite_histogram(run),
            "biplot_points": segmentation.biplot_points(run, "factor_scores", first_two),
            "customer_grades": engine.EngineTable(run, "SELECT * FROM customer_grades", "customer_id",
                                                  types={"rank": "Int64"}),
            "grade_profile": segmentation.grade_profile(run, order),
            "grade_indicator_means": segmentation.grade_indicator_means(run, "clean_indicators",
                                                                        [i.id for i in params.indicators], order)}


def grading_robustness(params) -> dict[str, pd.DataFrame]:
    """How much the grades depend on the choices (:mod:`crmlib.robustness`), in memory, from the customer file as
    stage 01 reads it (on a hash sample of ``robustness.max_customers`` above that size): the case's own chain
    again (``baseline``, which must reproduce the engine's grades), each alternative convention one at a time, and
    the bootstrap stability of every customer's grade. The bootstrap runs in a second thread beside the
    alternatives (its NumPy work releases the GIL; at 1e6 customers stage 04 took 1 s less); neither shares data it
    changes with the other, and the bootstrap draws from its own seeded generator, so the tables are the same."""
    settings = params.factor_grading.robustness
    rules, fit_settings, grading = params.cleaning, params.factor_grading.factor_analysis, params.factor_grading.grading
    raw, customers = robustness.case_measures(params, settings)
    directions = {i.id: i.direction for i in params.indicators}
    cleaned = robustness.CleanedMeasures(raw)

    def z_scores(cleaning):
        return robustness.benefit_z_scores(cleaned(cleaning), directions, cleaning.ddof)

    base_z = z_scores(rules)
    base = robustness.grading_chain(base_z, rules, fit_settings, grading)
    order = [g.id for g in grading.grades]
    variants = robustness.convention_variants(rules, fit_settings, base.n_factors, len(params.indicators),
                                              bool(raw.isna().to_numpy().any()), settings.conventions)
    with ThreadPoolExecutor(max_workers=1) as beside:  # the bootstrap's NumPy work runs beside the alternatives
        bootstrap = (beside.submit(robustness.bootstrap_stability, base_z, rules, fit_settings, grading, base,
                                   replicates=settings.replicates, seed=settings.seed)
                     if settings.replicates > 0 else None)
        table, transitions = robustness.variant_comparison(
            base, variants,
            lambda variant: robustness.grading_chain(z_scores(variant.cleaning), variant.cleaning, variant.settings,
                                                     grading),
            lambda base, run: {"n_factors": run.n_factors, **robustness.compare_grades(base, run)},
            lambda run: run.grades, order, "grade")
    tables = {"grading_robustness": table.astype({"n_factors": "Int64", "graded": "Int64"}),
              "robustness_customers": pd.DataFrame([{"customers": customers, "analysed": len(raw)}])}
    if transitions is not None:
        tables["grade_transitions"] = transitions
    if bootstrap is not None:
        stability = bootstrap.result()
        tables["grade_stability"] = stability.rename_axis("customer_id").reset_index()
        tables["grade_stability_summary"] = robustness.stability_summary(stability, order, settings.stable_share)
    return tables


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: each grade's problem and strategies joined to its size."""
    profile = io.read_table(directory, "grade_profile")
    return {"strategy": strategy.strategy_table(params.factor_grading.grading, profile)}
