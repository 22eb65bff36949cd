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


def omega_text(tables: dict, lang: Language = "en") -> str:
    """Omega hierarchical and omega total of the questionnaire in one sentence, with their convention; empty for a
    questionnaire of one dimension."""
    if "omega_hierarchical" not in tables:
        return ""
    row = tables["omega_hierarchical"].iloc[0]
    return text("omega_hierarchical", lang, omega_h=row["omega_h"], omega_total=row["omega_total"],
                k=int(row["n_factors"]), ecv=row["ecv"])


def report_notes(tables: dict, params, lang: Language = "en") -> dict[str, list[str]]:
    """The missing-answer policy and the omega hierarchical sentence, above the reliability and validity tables
    (stage 03)."""
    return {"03_factor_analysis": [sentence for sentence in (missing_text(tables, params, lang),
                                                              omega_text(tables, lang)) if sentence]}


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
