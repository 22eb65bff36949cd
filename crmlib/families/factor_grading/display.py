"""What the factor-grading sections and report show beyond plain tables: the factors read off their loadings, the
composite formula, and the figures."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from ... import figures, io, report
from ...labels import Language, named_labels, reversed_labels, text


def factor_interpretation(tables: dict, params, threshold: float = 0.5) -> pd.DataFrame:
    """Indicators whose absolute rotated loading on a factor is at least ``threshold``, strongest first.

    Returns
    -------
    DataFrame
        ``factor``, ``indicator``, ``label_zh``, ``label_en``, ``dimension``, ``loading``.
    """
    loadings = tables["loadings_rotated"]
    factor_columns = [c for c in loadings.columns if c.startswith("F") and c[1:].isdigit()]
    long = loadings.melt(id_vars="indicator", value_vars=factor_columns, var_name="factor", value_name="loading")
    salient = long[long["loading"].abs() >= threshold].copy()
    salient["strength"] = -salient["loading"].abs()
    salient = salient.sort_values(["factor", "strength"], kind="stable").drop(columns="strength")
    dimensions = pd.DataFrame([(i.id, i.dimension) for i in params.indicators], columns=["indicator", "dimension"])
    labelled = report.with_labels(salient.merge(dimensions, on="indicator", how="left"), params)
    return labelled[["factor", "indicator", "label_zh", "label_en", "dimension", "loading"]].reset_index(drop=True)


def formula_text(tables: dict, params, lang: Language = "en") -> str:
    """The composite score as a sentence with its formula and weights, e.g. ``F = 0.6120 F1 + 0.3880 F2``; for a
    published correlation matrix, why there are no scores."""
    if params.data.matrix is not None:
        return text("no_scores_from_matrix", lang, n=params.data.matrix.n_obs)
    weights = tables["composite_weights"]
    terms = " + ".join(f"{w:.4f} {f}" for f, w in zip(weights["factor"], weights["weight"]))
    settings = params.factor_grading.factor_analysis
    convention = {"rotated_variance": "rotated_variance", "eigenvalue": "eigenvalue_share",
                  "equal": "equal_weights"}[settings.composite_weights]
    return text("composite_formula", lang, terms=terms, convention=text(convention, lang),
                scores=text(f"scores_{settings.scores}", lang))


def composite_formula(tables: dict, params) -> Markdown:
    """:func:`formula_text` for a notebook."""
    return Markdown(formula_text(tables, params))


def method_text(params, lang: Language = "en") -> str:
    """The extraction, rotation and score method of the case's factor analysis, as a methods text states them."""
    return report.factor_method_text(params.factor_grading.factor_analysis, lang, scores=params.data.matrix is None)


def method(params) -> Markdown:
    """:func:`method_text` for a notebook."""
    return Markdown(method_text(params))


def likelihood_fit(tables: dict, params):
    """The maximum likelihood model's fit (chi-square, TLI, RMSEA, BIC), or a line saying the extraction has
    none."""
    if "likelihood_fit" not in tables:
        return Markdown(f"*No likelihood fit: extraction `{params.factor_grading.factor_analysis.extraction}` is "
                        "not maximum likelihood.*")
    return report.table(tables, "likelihood_fit")


def loading_intervals(tables: dict, params):
    """The bootstrap intervals of the rotated loadings, or a line saying where to ask for them."""
    if "loading_intervals" not in tables:
        return Markdown("*No bootstrap intervals of the loadings: `factor_analysis.bootstrap.replicates` is 0.*")
    return report.table(tables, "loading_intervals", params)


def coverage_text(tables: dict, lang: Language = "en") -> str:
    """How the customers with a missing indicator were scored (pairwise deletion), or an empty string."""
    if "score_coverage" not in tables:
        return ""
    return report.score_coverage_text(tables["score_coverage"].iloc[0], lang)


def coverage(tables: dict) -> Markdown:
    """:func:`coverage_text` for a notebook."""
    return Markdown(coverage_text(tables) or "*No missing values to score: cleaning.missing is not pairwise.*")


def robustness_text(tables: dict, params, lang: Language = "en") -> str:
    """How much the grading depends on the choices (:func:`crmlib.report.robustness_text`)."""
    return report.robustness_text(tables, ("grading_robustness", "grade_stability_summary", "robustness_customers"),
                                  "grade", lang)


def robustness_plot(tables: dict, params, lang: Language = "en"):
    """The share of customers changing grade under each alternative convention
    (:func:`crmlib.report.robustness_plot`)."""
    return report.robustness_plot(tables, ("grading_robustness", "grade_stability_summary"), "grade", lang)


def report_notes(tables: dict, params, lang: Language = "en") -> dict[str, list[str]]:
    """Sentences the case report shows above a stage's tables: the extraction and rotation, the composite
    formula and, under pairwise deletion, how customers with a missing indicator were scored (stage 03); how much
    the grading depends on the choices (stage 04)."""
    written = [method_text(params, lang), formula_text(tables, params, lang), coverage_text(tables, lang)]
    notes = {"03_factor_analysis": [sentence for sentence in written if sentence]}
    robustness = robustness_text(tables, params, lang)
    return notes | ({"04_segmentation": [robustness]} if robustness else {})


def scree_plot(tables: dict, params, lang: Language = "en"):
    """Scree plot of the eigenvalues, with the Kaiser line and the parallel-analysis line."""
    quantile = params.factor_grading.factor_analysis.n_factors.quantile
    return figures.scree_plot(tables["eigenvalues"], lang, quantile)


def loadings_heatmap(tables: dict, params, lang: Language = "en"):
    """Heat map of the rotated loadings, rows labelled in ``lang``."""
    return figures.loadings_heatmap(tables["loadings_rotated"].drop(columns="communality"),
                                    reversed_labels(params, lang), lang)


def score_histogram(tables: dict, params, lang: Language = "en"):
    """Histogram of the composite scores with the grade cut-offs."""
    order = [g.id for g in params.factor_grading.grading.grades]
    return figures.score_histogram(tables["composite_histogram"], tables["grade_thresholds"], order,
                                   named_labels(params, lang), lang)


def grade_bar_chart(tables: dict, params, lang: Language = "en"):
    """Customers per grade, best first, in the rank colours."""
    return figures.segment_bar_chart(tables["grade_profile"], "grade", named_labels(params, lang), lang)


def biplot(tables: dict, params, lang: Language = "en"):
    """The customers drawn (``biplot_points``) on F1 and F2, coloured by grade, with the loadings as arrows (two
    factors or more); the legend counts every customer of each grade (``grade_profile``)."""
    if "F2" not in tables["biplot_points"]:
        return Markdown("*One factor retained: no biplot.*")
    order = [g.id for g in params.factor_grading.grading.grades]
    counts = tables["grade_profile"].set_index("grade")["customers"]
    return figures.biplot(tables["biplot_points"], counts, order, tables["loadings_rotated"],
                          reversed_labels(params, lang), lang)


def check_summary(params, directory) -> list[str]:
    """``crmlib check``'s lines on the factor analysis and the grades (stage tables in ``directory``)."""
    settings = params.factor_grading.factor_analysis
    count = settings.n_factors
    variance = io.read_table(directory, "variance_explained")
    lines = [f"factors: rule {count.rule}{f' (n = {count.n})' if count.rule == 'fixed' else ''} retains "
             f"{len(variance)}, explaining {variance['cumulative_var'].iloc[-1]:.1%} of the variance; rotation "
             f"{settings.rotation}"]
    if io.table_file(directory, "score_coverage").is_file():
        lines.append(coverage_text({"score_coverage": io.read_table(directory, "score_coverage")}))
    if (Path(directory) / "grade_profile.csv").is_file():
        grades = io.read_table(directory, "grade_profile")
        lines.append("grades: " + ", ".join(f"{row.grade} {row.customers}" for row in grades.itertuples()))
    return lines
