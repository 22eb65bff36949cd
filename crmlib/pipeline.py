"""The five stages every case runs, as functions of (params, stage-table directory).

Each stage reads only the params and the tables earlier stages wrote to the
directory, writes its own tables there (atomically, see :func:`crmlib.io.write_table`)
and returns them so a notebook can display them. The notebooks in
``notebooks/`` are thin wrappers around these functions.

Each stage also records what its tables were made from in ``<directory>/stages.json``
(:mod:`crmlib.stages`), so that a partial rerun or a report never uses stale tables.

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
    (component, eigenvalue, random_mean and random_quantile of parallel
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

A case with a customer value model (``value_model``, ``value_matrix``) adds:
02 ``normalized_indicators`` (customer_id, one normalized value per indicator);
03 ``value_weights``, ``ahp_consistency``, ``customer_values`` (see
:class:`crmlib.value.ValueModelResult`); 04 ``value_thresholds``,
``customer_classes`` (:func:`crmlib.segmentation.value_matrix_classes`, plus
``stage``), ``class_summary``, ``middle_band``; 05 ``class_strategy``,
``stage_strategy`` (:mod:`crmlib.strategy`).

A questionnaire case (``survey``) writes instead: 01 ``responses``
(customer_id = respondent id, one column per item, reverse-keyed items reversed),
``respondent_attributes``, ``cleaning_log``, ``respondents``
(:class:`crmlib.survey.SurveyCleaning`); 02 ``item_descriptives``; 03
``reliability`` (dimension, :func:`crmlib.reliability.cronbach_alpha` columns,
omega_total), ``item_total`` (dimension,
:func:`crmlib.reliability.item_total_statistics` columns), ``kmo``,
``bartlett``, ``eigenvalues``, ``efa_loadings`` (item, F1..Fk, communality),
``item_fit``, ``factor_correlations`` (oblique rotations); 04
``dimension_scores``, ``problem_ranking``, ``group_comparison``; 05
``problem_table``, ``interview_themes`` (:mod:`crmlib.survey`).

A customer-base case (``customer_base``) adds: 01 ``panel_summary``
(:func:`crmlib.customer_base.panel_summary`) or ``churn_flags`` (customer_id,
status, lost); 02 ``customer_base`` (customer_id, the indicators, tier, lost,
assets_lost, duration, lifecycle, and with a panel the columns of
:func:`crmlib.customer_base.panel_customer_table`), ``monthly_flows``,
``tier_migration``; 03 ``churn_logistic``, ``churn_discrimination``,
``churn_calibration``, ``churn_importance``, ``churn_predictions`` (customer_id,
fold, lost, one out-of-fold probability per model; :mod:`crmlib.churn`); 04
``tier_profile``, ``concentration``, ``lorenz_curve`` (measure, customer_share,
value_share), ``attrition_by_tier``, ``retention_curves``, ``retention``
(:mod:`crmlib.survival`), ``lifecycle_profile`` (stage, one count per tier,
customers, share), ``top_risk`` (pseudonymized), ``pseudonym_key`` (salt_source: the
environment variable or the params key the pseudonym salt came from, never the salt; method); 05 ``tier_strategy``,
``lifecycle_strategy``.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from . import (cleaning, concentration, customer_base, factors, indicators, io, privacy, reliability, segmentation,
               stages, strategy, survey, value)
from .errors import InputError
from .params import STAGES, CaseParams

__all__ = ["STAGES", "clean", "build_indicators", "factor_analysis", "segment", "strategies"]


def _stage(name: str):
    """A stage function: after it has written its tables, record what they were made from
    (:func:`crmlib.stages.record_stage`, ``stages.json`` beside the tables)."""
    def decorate(function):
        @functools.wraps(function)
        def run(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
            tables = function(params, directory)
            stages.record_stage(params, directory, name, tables)
            return tables
        return run
    return decorate


def _write(tables: dict[str, pd.DataFrame], directory) -> dict[str, pd.DataFrame]:
    for name, table in tables.items():
        io.write_table(table, Path(directory) / f"{name}.csv")
    return tables


def _survey_clean(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    answers, attributes = survey.read_responses(params)
    result = survey.clean_responses(answers, params)
    return _write({"responses": result.answers, "respondent_attributes": attributes.loc[result.answers.index],
                   "cleaning_log": result.log, "respondents": result.respondents}, directory)


@_stage("01_clean")
def clean(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: read the customer file, winsorize, handle missing values, check (survey: answers)."""
    if params.survey is not None:
        return _survey_clean(params, directory)
    base = params.customer_base
    flag = {"status": base.churn.column} if base is not None and base.churn is not None else {}
    raw, text = io.read_measures(params, params.indicators, flag)
    if base is not None and base.panel is None:
        basis = next(i for i in params.indicators if i.id == base.tiers.basis)
        customer_base.check_tier_basis(raw[basis.id], file=params.data_path, column=basis.source_column,
                                       first_row=params.data.header_row + 1)
    declared = {i.id: f"{params.source_file} key 'indicators.{n}'" for n, i in enumerate(params.indicators)}
    result = cleaning.clean_indicators(raw, params.cleaning, file=params.data_path, declared=declared)
    tables = {"clean_indicators": result.data, "cleaning_log": result.log}
    if flag:
        status = text.loc[result.data.index, "status"]
        tables["churn_flags"] = status.to_frame().assign(lost=status.isin(base.churn.lost_values).astype(int))
    if base is not None and base.panel is not None:
        tables["panel_summary"] = customer_base.panel_summary(_read_panel(params, result.data.index))
    return _write(tables, directory)


def _read_panel(params: CaseParams, customers: pd.Index) -> customer_base.PanelData:
    panel = params.customer_base.panel
    return customer_base.read_panel(panel, (params.source_file.parent / panel.path).resolve(), customers)


@_stage("02_indicators")
def build_indicators(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 02: descriptive statistics, benefit direction, z-scores; normalized indicators for a value model
    (survey: item descriptives)."""
    if params.survey is not None:
        answers = io.read_table(directory, "responses", index="customer_id")
        return _write({"item_descriptives": survey.item_descriptives(answers, params.survey)}, directory)
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    meta = pd.DataFrame([i.model_dump(include={"id", "label_en", "label_zh", "unit", "direction", "dimension"})
                         for i in params.indicators]).rename(columns={"id": "indicator"})
    descriptives = meta.merge(indicators.descriptive_statistics(data), on="indicator")
    directions = {i.id: i.direction for i in params.indicators}
    z = indicators.standardize(indicators.to_benefit_direction(data, directions), ddof=params.cleaning.ddof)
    tables = {"descriptives": descriptives, "standardized_indicators": z}
    if params.value_model is not None:
        tables["normalized_indicators"] = value.normalize_for_value_model(data, params)
    if params.customer_base is not None:
        tables |= _customer_base_table(params, directory, data)
    return _write(tables, directory)


def _customer_base_table(params: CaseParams, directory, data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    base = params.customer_base
    tables = {}
    if base.panel is not None:
        panel = _read_panel(params, data.index)
        tenure = data[base.panel.tenure_indicator] if base.panel.tenure_indicator is not None else None
        derived = customer_base.panel_customer_table(panel, base.tiers, base.panel, tenure)
        customers = data.join(derived)
        migration = base.panel.migration or (None, None)
        tables["monthly_flows"] = customer_base.monthly_flows(panel, customers, base.tiers)
        tables["tier_migration"] = customer_base.tier_migration(panel, base.tiers, *migration, base.panel.unit)
    else:
        lost = io.read_table(directory, "churn_flags", index="customer_id")["lost"].loc[data.index]
        tiers = customer_base.assign_tiers(data[base.tiers.basis], base.tiers, params.tier_basis_unit())
        customers = data.assign(tier=tiers, lost=lost,
                                assets_lost=data[base.churn.lost_assets].where(lost == 1, 0.0),
                                duration=data[base.churn.duration])
    customers["lifecycle"] = customer_base.lifecycle_stage(customers, base.lifecycle)
    return {"customer_base": customers} | tables


def _factor_tables(params: CaseParams, z: pd.DataFrame) -> dict[str, pd.DataFrame]:
    result = factors.fit_composite(z, params.factor_analysis, params.cleaning.ddof, file=params.data_path)
    fit, corr = result.fit, result.fit.correlation
    eigen_table = factors.eigenvalues(corr).reset_index().merge(result.parallel, on="component")
    eigen_table["retained"] = eigen_table["component"] <= fit.n_factors
    rotated = fit.loadings.join(fit.communalities.set_index("indicator"))
    return {
        "correlation_matrix": corr.rename_axis("indicator").reset_index(),
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
        "composite_weights": result.weights.reset_index(),
        "factor_scores": result.scores,
    }


def _survey_validity(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    questionnaire = params.survey
    answers = io.read_table(directory, "responses", index="customer_id")
    groups = {d.id: [i.id for i in questionnaire.items if i.dimension == d.id] for d in questionnaire.dimensions}
    groups["overall"] = [i.id for i in questionnaire.items]
    alpha = pd.concat([reliability.cronbach_alpha(answers[items]).assign(dimension=name)
                       for name, items in groups.items()], ignore_index=True)
    omega = pd.concat([reliability.omega_total(answers[items]).assign(dimension=name)
                       for name, items in groups.items() if name != "overall"], ignore_index=True)
    alpha = alpha.merge(omega[["dimension", "omega_total"]], on="dimension", how="left")
    items = pd.concat([reliability.item_total_statistics(answers[items]).assign(dimension=name)
                       for name, items in groups.items() if name != "overall"], ignore_index=True)
    settings = questionnaire.efa
    corr = factors.correlation_matrix(answers)
    kappa = factors.check_conditioning(corr, 1e10, file=params.data_path)
    k, parallel = factors.retained_factors(corr, len(answers), settings.n_factors)
    efa = factors.exploratory_factor_analysis(answers, k, extraction=settings.extraction, rotation=settings.rotation)
    declared = {i.id: i.dimension for i in questionnaire.items}
    eigen = factors.eigenvalues(corr).reset_index().merge(parallel, on="component")
    eigen["retained"] = eigen["component"] <= k
    tables = {
        "reliability": alpha[["dimension"] + [c for c in alpha.columns if c != "dimension"]],
        "item_total": items[["dimension"] + [c for c in items.columns if c != "dimension"]],
        "kmo": factors.kmo(answers),
        "bartlett": factors.bartlett_sphericity(answers).assign(condition_number=kappa),
        "eigenvalues": eigen,
        "efa_loadings": efa.loadings.join(efa.communalities.set_index("item")).rename_axis("item").reset_index(),
        "item_fit": factors.item_fit(efa.loadings, declared, settings.min_loading),
    }
    if efa.factor_correlations is not None:
        tables["factor_correlations"] = efa.factor_correlations.rename_axis("factor").reset_index()
    return tables


@_stage("03_factor_analysis")
def factor_analysis(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: factor analysis and composite score, and/or the customer value model, as the params ask
    (survey: reliability and validity)."""
    if params.survey is not None:
        return _write(_survey_validity(params, directory), directory)
    z = io.read_table(directory, "standardized_indicators", index="customer_id")
    tables = {}
    if params.customer_base is not None:
        tables |= _churn_models(params, directory)
    if params.factor_analysis is not None:
        tables |= _factor_tables(params, z)
    if params.value_model is not None:
        normalized = io.read_table(directory, "normalized_indicators", index="customer_id")
        result = value.evaluate_value_model(normalized, z, params)
        tables |= {"value_weights": result.weights, "ahp_consistency": result.consistency,
                   "customer_values": result.values}
    return _write(tables, directory)


def _churn_models(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    from . import churn  # statsmodels and scikit-learn: imported by the cases that use them
    settings = params.customer_base.churn_model
    customers = io.read_table(directory, "customer_base", index="customer_id")
    sample = churn.model_sample(customers.index, settings)
    features, lost = customers.loc[sample, settings.features], customers.loc[sample, "lost"]
    result = churn.cross_validate(features, lost, settings)
    return {"churn_logistic": churn.logistic_drivers(features, lost),
            "churn_discrimination": churn.discrimination(result.predictions),
            "churn_calibration": churn.calibration_table(result.predictions, settings.calibration_bins),
            "churn_importance": result.importances,
            "churn_predictions": result.predictions}


def _grade_tables(params: CaseParams, directory, data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    scores = io.read_table(directory, "factor_scores", index="customer_id")["composite_score"]
    thresholds = segmentation.grade_thresholds(scores, params.grading)
    grades = segmentation.assign_grades(scores, thresholds)
    customer_grades = pd.DataFrame({
        "composite_score": scores,
        "rank": scores.rank(ascending=False, method="min").astype(int),
        "grade": grades,
    })
    order = [g.id for g in params.grading.grades]
    profile = segmentation.grade_profile(grades, scores, data.loc[scores.index], order)
    return {"grade_thresholds": thresholds, "customer_grades": customer_grades, "grade_profile": profile}


def _matrix_tables(params: CaseParams, directory, data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    matrix = params.value_matrix
    values = io.read_table(directory, "customer_values", index="customer_id")
    thresholds, classes = segmentation.value_matrix_classes(values, matrix)
    if matrix.relationship_stages is not None:
        stages = matrix.relationship_stages
        classes["stage"] = segmentation.relationship_stage(data.loc[classes.index, stages.indicator], stages)
    dimensions = [d.id for d in params.value_model.dimensions]
    return {
        "value_thresholds": thresholds,
        "customer_classes": classes,
        "class_summary": segmentation.class_summary(classes, data.loc[classes.index], matrix),
        "middle_band": segmentation.middle_band_share(values, dimensions, matrix.middle_band),
    }


def _survey_scores(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    questionnaire = params.survey
    answers = io.read_table(directory, "responses", index="customer_id")
    scores = survey.dimension_scores(answers, questionnaire)
    tables = {"dimension_scores": scores, "problem_ranking": survey.problem_ranking(scores, questionnaire)}
    if questionnaire.comparison is not None:
        attributes = io.read_table(directory, "respondent_attributes", index="customer_id")
        attribute = attributes[questionnaire.comparison.attribute].astype(str)
        tables["group_comparison"] = survey.group_comparison(scores, attribute.loc[scores.index],
                                                             questionnaire.comparison.method)
    return tables


@_stage("04_segmentation")
def segment(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: grades from the composite score and/or classes of the customer value matrix
    (survey: dimension scores, problem ranking, group comparison)."""
    if params.survey is not None:
        return _write(_survey_scores(params, directory), directory)
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    tables = {}
    if params.grading is not None:
        tables |= _grade_tables(params, directory, data)
    if params.value_matrix is not None:
        tables |= _matrix_tables(params, directory, data)
    if params.customer_base is not None:
        tables |= _customer_base_segments(params, directory)
    return _write(tables, directory)


def _customer_base_segments(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    from . import churn, survival  # statsmodels, scikit-learn and lifelines: imported by the cases that use them
    base = params.customer_base
    customers = io.read_table(directory, "customer_base", index="customer_id")
    measures = base.concentration.measures
    for measure in measures:
        concentration.check_non_negative(customers[measure], file=params.data_path)
    tier_ids = [t.id for t in base.tiers.levels]
    curves = survival.kaplan_meier(customers, tier_ids)
    lorenz = pd.concat([concentration.lorenz_curve(customers[m]).assign(measure=m) for m in measures],
                       ignore_index=True)[["measure", "customer_share", "value_share"]]
    assets = "aum_start" if base.panel is not None else base.churn.lost_assets
    risk = io.read_table(directory, "churn_predictions", index="customer_id")[base.churn_model.risk_model]
    salt_key = "customer_base.pseudonym_salt"
    salt = privacy.pseudonym_salt(base.pseudonym_salt, file=params.source_file, key=salt_key)
    return {
        "tier_profile": customer_base.tier_profile(customers, base.tiers, measures),
        "concentration": concentration.concentration_statistics(customers, measures, base.concentration.top_percent,
                                                                base.concentration.bootstrap),
        "lorenz_curve": lorenz,
        "attrition_by_tier": customer_base.attrition_by_tier(customers, base.tiers, assets),
        "retention_curves": curves,
        "retention": survival.retention_at(curves, base.retention_months),
        "lifecycle_profile": customer_base.lifecycle_profile(customers, base.lifecycle, base.tiers),
        "top_risk": churn.top_risk(customers, risk, base.tiers.focus, base.churn_model.top_risk, salt),
        "pseudonym_key": pd.DataFrame({"salt_source": [privacy.salt_source(salt_key)],
                                       "method": [privacy.PSEUDONYM_METHOD]}),
    }


@_stage("05_strategy")
def strategies(params: CaseParams, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: problem and strategy tables per grade, per value class and per relationship stage
    (survey: the problem table and coded interviews)."""
    tables = {}
    if params.survey is not None:
        ranking = io.read_table(directory, "problem_ranking")
        tables["problem_table"] = survey.problem_table(ranking, params.survey)
        interviews = params.survey.interviews
        if interviews is not None:
            path = (params.source_file.parent / interviews.path).resolve()
            if not path.is_file():
                raise InputError("interview file does not exist", file=path, key="survey.interviews.path")
            mentions = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            tables["interview_themes"] = survey.interview_themes(mentions, interviews, file=path)
    if params.grading is not None:
        profile = io.read_table(directory, "grade_profile")
        tables["strategy"] = strategy.strategy_table(params.grading, profile)
    matrix = params.value_matrix
    if matrix is not None:
        summary = io.read_table(directory, "class_summary")
        tables["class_strategy"] = strategy.class_strategy_table(matrix, summary)
        if matrix.relationship_stages is not None:
            classes = io.read_table(directory, "customer_classes", index="customer_id")
            tables["stage_strategy"] = strategy.stage_strategy_table(matrix, classes["class"], classes["stage"])
    base = params.customer_base
    if base is not None:
        tables["tier_strategy"] = strategy.tier_strategy_table(base.tiers, io.read_table(directory, "attrition_by_tier"))
        tables["lifecycle_strategy"] = strategy.lifecycle_strategy_table(base.lifecycle,
                                                                         io.read_table(directory, "lifecycle_profile"))
    return _write(tables, directory)
