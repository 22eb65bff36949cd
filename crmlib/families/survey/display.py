"""What the survey sections and report show beyond plain tables: the items, the cleaning rules, EFA loadings with
small ones blanked, and the figures."""
from __future__ import annotations

import pandas as pd

from ... import figures, io
from ...labels import Language, named_labels, text


def item_system(params) -> pd.DataFrame:
    """The questionnaire's items: dimension, wording, reverse keying, scale."""
    survey = params.survey
    return pd.DataFrame([{"dimension": i.dimension, "item": i.id, "wording_zh": i.wording_zh,
                          "wording_en": i.wording_en, "reverse": i.reverse,
                          "scale": f"{survey.item_scale(i).min:g}-{survey.item_scale(i).max:g}"}
                         for i in survey.items])


def cleaning_rules(params) -> str:
    """The questionnaire's cleaning rules, in one sentence."""
    survey = params.survey
    return (f"Missing answers: **{survey.missing}**; answers outside the scale: **{survey.out_of_scale}**; "
            f"straight-lining respondents: **{survey.straight_lining}**.")


def missing_text(tables: dict, params, lang: Language = "en") -> str:
    """How the missing answers entered every statistic, as a methods text states it."""
    respondents = int(tables["respondents"]["n_out"].iloc[0]) if "respondents" in tables else 0
    return text(f"survey_missing_{params.survey.missing}", lang, n=respondents)


def level_text(tables: dict, params, lang: Language = "en") -> str:
    """Which correlations the analyses of all items use (``survey.level``), as a methods text states it."""
    kind = tables["survey_bartlett"]["correlations"].iloc[0] if "survey_bartlett" in tables else "pearson"
    if params.survey.level == "ordinal":
        smoothed = kind.endswith("smoothed")
        return text("level_ordinal", lang,
                    smoothed="; the matrix was not positive definite and was smoothed as psych's cor.smooth"
                    if smoothed else "", smoothed_zh="；该矩阵非正定，已按 psych 的 cor.smooth 平滑" if smoothed else "")
    pairwise = kind.endswith("pairwise")
    return text("level_interval", lang, kind="pairwise Pearson" if pairwise else "Pearson",
                kind_zh="成对 Pearson " if pairwise else "Pearson ")


def omega_text(tables: dict, lang: Language = "en") -> str:
    """Omega hierarchical and omega total of the questionnaire in one sentence, with their convention; empty for a
    questionnaire of one dimension."""
    if "omega_hierarchical" not in tables:
        return ""
    row = tables["omega_hierarchical"].iloc[0]
    return text("omega_hierarchical", lang, omega_h=row["omega_h"], omega_total=row["omega_total"],
                k=int(row["n_factors"]), ecv=row["ecv"])


#: Hu and Bentler's (1999) cut-offs for a good fit, and the looser ones usually called acceptable (CFI, RMSEA,
#: SRMR).
GOOD_FIT = (0.95, 0.06, 0.08)
ACCEPTABLE_FIT = (0.90, 0.08, 0.10)
_VERDICTS = {"good": "良好", "acceptable": "可接受", "poor": "较差"}


def fit_verdict(fit: pd.Series) -> str:
    """``good``, ``acceptable`` or ``poor``: the best class whose three cut-offs the CFA's CFI, RMSEA and SRMR
    all meet."""
    for verdict, (cfi, rmsea, srmr) in (("good", GOOD_FIT), ("acceptable", ACCEPTABLE_FIT)):
        if fit["cfi"] >= cfi and fit["rmsea"] <= rmsea and fit["srmr"] <= srmr:
            return verdict
    return "poor"


def cfa_text(tables: dict, params, lang: Language = "en") -> str:
    """The confirmatory factor analysis, construct validity and invariance, a sentence each; empty without a CFA."""
    if "cfa_fit" not in tables:
        return ""
    fit = tables["cfa_fit"].iloc[0]
    verdict = fit_verdict(fit)
    sentences = [text("cfa_fit", lang, k=tables["cfa_loadings"]["construct"].nunique(), verdict=verdict,
                      verdict_zh=_VERDICTS[verdict], n=int(fit["n"]), df=int(fit["df"]),
                      **{c: fit[c] for c in ("chi_square", "p_value", "cfi", "tli", "rmsea", "rmsea_lower",
                                             "rmsea_upper", "srmr")})]
    if not fit["admissible"]:
        sentences.append(text("cfa_inadmissible", lang))
    if "htmt" in tables:
        validity, htmt = tables["construct_validity"], tables["htmt"]
        top = htmt.loc[htmt["htmt"].idxmax()]
        labels = named_labels(params, lang)
        below = top["htmt"] < 0.85
        sentences.append(text(
            "construct_validity", lang, k=len(validity), cr_ok=int((validity["composite_reliability"] >= 0.7).sum()),
            ave_ok=int((validity["ave"] >= 0.5).sum()), fl_ok=int(validity["fornell_larcker"].astype(bool).sum()),
            htmt=top["htmt"], pair=f"{labels[top['construct_a']]} / {labels[top['construct_b']]}",
            htmt_verdict="below" if below else "not below", htmt_verdict_zh="低于" if below else "未低于"))
    if "measurement_invariance" in tables:
        metric = tables["measurement_invariance"].set_index("model").loc["metric"]
        by_chi_square, by_cfi = metric["delta_p_value"] >= 0.05, metric["delta_cfi"] >= -0.01
        verdict = "both" if by_chi_square and by_cfi else "cfi" if by_cfi else "chi_square" if by_chi_square else "none"
        attribute = next(a for a in params.survey.attributes if a.id == params.survey.comparison.attribute)
        sentences.append(text(
            "measurement_invariance", lang, attribute=getattr(attribute, f"label_{lang}") or attribute.label_en,
            groups=int(metric["groups"]), n=int(metric["n"]), delta_chi_square=metric["delta_chi_square"],
            delta_df=int(metric["delta_df"]), delta_p_value=metric["delta_p_value"], delta_cfi=metric["delta_cfi"],
            verdict=text(f"invariance_{verdict}", lang)))
    return " ".join(sentences)


def report_notes(tables: dict, params, lang: Language = "en") -> dict[str, list[str]]:
    """The missing-answer policy, the correlations used, the omega hierarchical sentence and the confirmatory factor
    analysis' sentences, above the reliability and validity tables (stage 03)."""
    return {"03_factor_analysis": [sentence for sentence in (missing_text(tables, params, lang),
                                                              level_text(tables, params, lang),
                                                              omega_text(tables, lang),
                                                              cfa_text(tables, params, lang)) if sentence]}


def efa_loadings(tables: dict, params) -> pd.DataFrame:
    """Item loadings of the exploratory factor analysis, loadings below the params' ``min_loading`` blanked
    (in this display only; the CSV table keeps every loading)."""
    frame = tables["efa_loadings"].copy()
    limit = params.survey.efa.min_loading
    factor_columns = [c for c in frame.columns if c.startswith("F") and c[1:].isdigit()]
    for column in factor_columns:
        frame[column] = [f"{v:.3f}" if abs(v) >= limit else "" for v in frame[column]]
    declared = {i.id: i.dimension for i in params.survey.items}
    frame.insert(1, "dimension", frame["item"].map(declared))
    return frame


def scree_plot(tables: dict, params, lang: Language = "en"):
    """Scree plot of the items' eigenvalues, with the Kaiser line and the parallel-analysis line."""
    return figures.scree_plot(tables["survey_eigenvalues"], lang, params.survey.efa.n_factors.quantile)


def loadings_heatmap(tables: dict, params, lang: Language = "en"):
    """Heat map of the items' EFA loadings, rows labelled with their wording in ``lang``."""
    return figures.loadings_heatmap(tables["efa_loadings"].drop(columns="communality"), named_labels(params, lang),
                                    lang)


def problem_ranking_plot(tables: dict, params, lang: Language = "en"):
    """Mean score per dimension with its confidence interval, lowest (most serious problem) first."""
    return figures.problem_ranking_plot(tables["problem_ranking"], named_labels(params, lang),
                                        params.survey.confidence, lang)


def check_summary(params, directory) -> list[str]:
    """``crmlib check``'s lines on the respondents and dimensions (stage tables in ``directory``)."""
    respondents = io.read_table(directory, "respondents").iloc[0]
    reliability = io.read_table(directory, "reliability")
    return [f"respondents: {respondents['n_in']} read, {respondents['n_out']} kept "
            f"({respondents['n_dropped_straight_lining']} straight-lining, {respondents['n_dropped_missing']} with "
            "too many missing answers left out)",
            "dimensions (items, alpha): " + ", ".join(f"{row.dimension} ({row.n_items}, {row.raw_alpha:.2f})"
                                                      for row in reliability.itertuples())]
