"""Stages of the survey family: clean the answers (01), item descriptives (02), reliability and validity (03),
dimension scores, problem ranking and group comparison (04), the problem table and coded interviews (05)."""
from __future__ import annotations

import pandas as pd

from ... import confirmatory, factors, io, ordinal, reliability, survey
from ...errors import InputError


def clean(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: read the response file; scale check, straight-lining, reverse keying, missing answers."""
    read = survey.read_responses(params)
    result = survey.clean_responses(read.values, params, rows=read.rows)
    return {"responses": result.answers, "respondent_attributes": read.text.loc[result.answers.index],
            "survey_cleaning_log": result.log, "respondents": result.respondents, "survey_dropped_rows": read.dropped}


def build_indicators(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 02: item descriptives."""
    answers = io.read_table(directory, "responses", index="customer_id")
    return {"item_descriptives": survey.item_descriptives(answers, params.survey)}


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: reliability per dimension (alpha, omega, item-total; ordinal alpha for ordinal items), omega
    hierarchical of the whole questionnaire (a Schmid-Leiman solution with one group factor per dimension), an
    exploratory factor analysis (of the polychoric correlations for ordinal items) and the confirmatory factor
    analysis of the dimensions; under
    pairwise deletion (``survey.missing: pairwise``) every correlation and covariance from the respondents who
    answered both items, Bartlett's test and parallel analysis with n the number of respondents (as psych), and
    the respondents per pair of items."""
    questionnaire = params.survey
    pairwise = questionnaire.missing == "pairwise"
    answers = io.read_table(directory, "responses", index="customer_id")
    groups = {d.id: [i.id for i in questionnaire.items if i.dimension == d.id] for d in questionnaire.dimensions}
    groups["overall"] = [i.id for i in questionnaire.items]
    alpha = pd.concat([reliability.cronbach_alpha(answers[items], pairwise).assign(dimension=name)
                       for name, items in groups.items()], ignore_index=True)
    bootstrap = questionnaire.alpha_bootstrap
    if bootstrap.replicates > 0:
        bounds = [reliability.alpha_interval(answers[items], replicates=bootstrap.replicates,
                                             confidence=questionnaire.confidence, seed=bootstrap.seed,
                                             pairwise=pairwise)
                  for items in groups.values()]
        alpha = alpha.assign(alpha_lower=[low for low, _ in bounds], alpha_upper=[high for _, high in bounds])
    polychoric = ordinal.polychoric_correlations(answers, questionnaire.points) \
        if questionnaire.level == "ordinal" else None
    if polychoric is not None:
        alpha["ordinal_alpha"] = [ordinal.ordinal_alpha(polychoric.correlations.loc[items, items])
                                  for items in groups.values()]
    omega = pd.concat([reliability.omega_total(answers[items], pairwise).assign(dimension=name)
                       for name, items in groups.items() if name != "overall"], ignore_index=True)
    alpha = alpha.merge(omega[["dimension", "omega_total"]], on="dimension", how="left")
    items = pd.concat([reliability.item_total_statistics(answers[items], pairwise).assign(dimension=name)
                       for name, items in groups.items() if name != "overall"], ignore_index=True)
    settings = questionnaire.efa
    # n below: every respondent, as psych counts them
    corr = factors.correlation_matrix(answers, pairwise) if polychoric is None else polychoric.correlations
    given = None if polychoric is None else corr  # the analyses of all items take these instead of Pearson's
    kappa = factors.check_conditioning(corr, 1e10, file=params.resolve(questionnaire.data.path))
    k, parallel = factors.retained_factors(corr, len(answers), settings.n_factors)
    efa = factors.exploratory_factor_analysis(answers, k, extraction=settings.extraction, rotation=settings.rotation,
                                              pairwise=pairwise, correlations=given)
    declared = {i.id: i.dimension for i in questionnaire.items}
    eigen = factors.eigenvalues(corr).reset_index().merge(parallel, on="component")
    eigen["retained"] = eigen["component"] <= k
    tables = {
        "reliability": alpha[["dimension"] + [c for c in alpha.columns if c != "dimension"]],
        "item_total": items[["dimension"] + [c for c in items.columns if c != "dimension"]],
        "survey_kmo": factors.kmo(corr),
        "survey_bartlett": factors.bartlett_sphericity(corr, len(answers)).assign(
            condition_number=kappa, correlations=correlation_kind(questionnaire, polychoric)),
        "survey_eigenvalues": eigen,
        "efa_loadings": efa.loadings.join(efa.communalities.set_index("item")).rename_axis("item").reset_index(),
        "item_fit": factors.item_fit(efa.loadings, declared, settings.min_loading),
    }
    if len(questionnaire.dimensions) > 1:  # one group factor per designed dimension
        omega = reliability.omega_hierarchical(answers, len(questionnaire.dimensions), pairwise, correlations=given)
        tables |= {"omega_hierarchical": omega.summary, "schmid_leiman": omega.loadings, "omega_groups": omega.groups}
    if efa.factor_correlations is not None:
        tables["factor_correlations"] = efa.factor_correlations.rename_axis("factor").reset_index()
    if questionnaire.confirmatory_blocks() is not None:
        tables |= confirmatory_tables(answers, corr, params, directory)
    if polychoric is not None:
        tables["polychoric_thresholds"] = polychoric.thresholds.reset_index()
    if pairwise:
        tables["item_pair_counts"] = factors.pair_counts(answers).rename_axis("item").reset_index()
    return tables


def correlation_kind(questionnaire, polychoric) -> str:
    """Which correlations the analyses of all items use: ``pearson``, ``pearson pairwise``, ``polychoric`` or
    ``polychoric smoothed`` (not positive definite, smoothed as psych's cor.smooth)."""
    if polychoric is not None:
        return "polychoric smoothed" if polychoric.smoothed else "polychoric"
    return "pearson pairwise" if questionnaire.missing == "pairwise" else "pearson"


def confirmatory_tables(answers, correlations, params, directory) -> dict[str, pd.DataFrame]:
    """The confirmatory factor analysis of the designed dimensions (respondents who answered every item), composite
    reliability, AVE, Fornell-Larcker and HTMT (from the correlations of the rest of the stage), and configural and
    metric invariance across the comparison attribute's groups."""
    questionnaire = params.survey
    blocks = questionnaire.confirmatory_blocks()
    file = params.resolve(questionnaire.data.path)
    cfa = confirmatory.confirmatory_factor_analysis(answers, blocks, file=file)
    tables = {"cfa_fit": cfa.fit, "cfa_loadings": cfa.loadings,
              "construct_validity": confirmatory.composite_reliability(cfa)}
    if len(blocks) > 1:
        tables |= {"construct_correlations": cfa.construct_correlations,
                   "htmt": confirmatory.heterotrait_monotrait(correlations, blocks)}
    if questionnaire.comparison is not None:
        attributes = io.read_table(directory, "respondent_attributes", index="customer_id")
        group = attributes.loc[answers.index, questionnaire.comparison.attribute]
        tables["measurement_invariance"] = confirmatory.measurement_invariance(
            answers, group.where(group.isna(), group.astype(str)), blocks, file=file)
    return tables


def segment(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: dimension scores, the problem ranking, and the comparison between respondent groups."""
    questionnaire = params.survey
    answers = io.read_table(directory, "responses", index="customer_id")
    scores = survey.dimension_scores(answers, questionnaire)
    tables = {"dimension_scores": scores, "problem_ranking": survey.problem_ranking(scores, questionnaire)}
    if questionnaire.comparison is not None:
        attributes = io.read_table(directory, "respondent_attributes", index="customer_id")
        attribute = attributes[questionnaire.comparison.attribute]  # blank: NaN, in no group (counted)
        attribute = attribute.where(attribute.isna(), attribute.astype(str))
        tables["group_comparison"] = survey.group_comparison(scores, attribute.loc[scores.index],
                                                             questionnaire.comparison.method)
    return tables


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: the problem table, and the coded interviews when the params name an interview file."""
    tables = {"problem_table": survey.problem_table(io.read_table(directory, "problem_ranking"), params.survey)}
    interviews = params.survey.interviews
    if interviews is not None:
        path = params.resolve(interviews.path)
        if not path.is_file():
            raise InputError("interview file does not exist: check survey.interviews.path (relative to the params "
                             "file)", file=path, key="survey.interviews.path")
        mentions = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        tables["interview_themes"] = survey.interview_themes(mentions, interviews, file=path)
    return tables
