"""Questionnaire analysis: cleaning answers, item descriptives, dimension scores, problem ranking,
group comparisons, the problem table and coded interviews.

Conventions
-----------
- An answer outside its item's declared scale is an error, or (``out_of_scale:
  missing``) set to missing and counted; in a reverse-keyed item it is always an
  error, because reversing it would turn it into a plausible answer.
- Reverse-keyed items are scored ``min + max - answer`` on their scale.
- Straight-lining: a respondent who gives one identical answer to every item
  (at least two answered) is flagged, or dropped (``straight_lining: drop``).
- Missing answers follow the questionnaire's ``survey.missing`` policy
  (listwise deletion, or the item's median or mean).
- A dimension score is the mean of its items; a low score marks a problem.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import io
from .cleaning import handle_missing
from .errors import InputError
from .params import CaseParams, Interviews, Survey

__all__ = [
    "read_responses",
    "SurveyCleaning",
    "clean_responses",
    "item_descriptives",
    "dimension_scores",
    "problem_ranking",
    "group_comparison",
    "problem_table",
    "interview_themes",
]


def read_responses(params: CaseParams) -> io.Measures:
    """Answers (``values``: one column per item, numbers) and respondent attributes (``text``), indexed by
    respondent id, and the rows of the file that are not respondents (:func:`crmlib.io.read_measures`)."""
    survey = params.survey
    return io.read_measures(survey.data, params.resolve(survey.data.path), survey.items,
                            {a.id: a.column for a in survey.attributes}, key="survey.data")


@dataclass(frozen=True)
class SurveyCleaning:
    """Output of :func:`clean_responses`.

    Attributes
    ----------
    answers : DataFrame
        Cleaned answers, reverse-keyed items reversed, indexed by respondent id.
    log : DataFrame
        Per item: ``item``, ``dimension``, ``reverse``, ``n_missing``, ``n_out_of_scale``.
    respondents : DataFrame
        One row: ``n_in``, ``n_straight_lining``, ``n_dropped_straight_lining``,
        ``n_dropped_missing``, ``n_out``.
    """

    answers: pd.DataFrame
    log: pd.DataFrame
    respondents: pd.DataFrame


def clean_responses(answers: pd.DataFrame, params: CaseParams, rows: pd.Series | None = None) -> SurveyCleaning:
    """Scale check, straight-lining, reverse keying and missing answers (see the module notes); every item must
    have at least two different answers within its scale. ``rows`` gives each respondent's file row, for errors (the data
    rows in order without it)."""
    survey = params.survey
    rows = rows if rows is not None else pd.Series(range(survey.data.header_row + 1,
                                                         survey.data.header_row + 1 + len(answers)), index=answers.index)
    path = params.resolve(survey.data.path)
    data = answers.copy()
    out_counts = {}
    for item in survey.items:
        scale = survey.item_scale(item)
        values = data[item.id]
        outside = values.notna() & ((values < scale.min) | (values > scale.max))
        out_counts[item.id] = int(outside.sum())
        if outside.any() and (survey.out_of_scale == "error" or item.reverse):
            position = int(np.flatnonzero(outside.to_numpy())[0])
            rule = "a reverse-keyed item cannot be reversed" if item.reverse else "out_of_scale is 'error'"
            raise InputError(f"answer {values.iloc[position]:g} is outside the item's scale "
                             f"[{scale.min:g}, {scale.max:g}] ({rule}): correct the answer, or leave it empty if it "
                             "is unknown", file=path, column=item.source_column, row=int(rows.iloc[position]))
        data.loc[outside, item.id] = np.nan
    for item in survey.items:
        given = data[item.id].dropna()
        if given.nunique() < 2:
            what = "no respondent answered it" if given.empty else f"every respondent gave the same answer ({given.iloc[0]:g})"
            raise InputError(f"item '{item.id}': {what}, so it carries no information for reliability or factor "
                             "analysis; check the column, or remove the item from survey.items", file=path,
                             column=item.source_column)
    answered = data.notna().sum(axis=1)
    straight = (answered >= 2) & (data.nunique(axis=1) == 1)
    n_in = len(data)
    if survey.straight_lining == "drop":
        data = data[~straight]
    for item in survey.items:
        if item.reverse:
            scale = survey.item_scale(item)
            data[item.id] = scale.min + scale.max - data[item.id]
    log = pd.DataFrame({
        "item": [i.id for i in survey.items],
        "dimension": [i.dimension for i in survey.items],
        "reverse": [i.reverse for i in survey.items],
        "n_missing": answers.isna().sum().to_numpy(),
        "n_out_of_scale": [out_counts[i.id] for i in survey.items],
    })
    before_missing = len(data)
    cleaned = handle_missing(data, survey.missing)
    respondents = pd.DataFrame([{
        "n_in": n_in,
        "n_straight_lining": int(straight.sum()),
        "n_dropped_straight_lining": n_in - before_missing,
        "n_dropped_missing": before_missing - len(cleaned),
        "n_out": len(cleaned),
    }])
    return SurveyCleaning(cleaned, log, respondents)


def item_descriptives(answers: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Per item: ``n``, ``mean``, ``sd`` (n - 1), ``floor_share`` and ``ceiling_share`` (answers at the
    scale's minimum and maximum, after reverse keying), and for a scale of integer points the share of answers at each
    scale point (``share_<point>``)."""
    rows = []
    for item in survey.items:
        scale = survey.item_scale(item)
        values = answers[item.id].dropna()
        row = {"item": item.id, "dimension": item.dimension, "wording_en": item.wording_en,
               "wording_zh": item.wording_zh, "n": int(values.count()), "mean": values.mean(),
               "sd": values.std(ddof=1), "floor_share": float((values == scale.min).mean()),
               "ceiling_share": float((values == scale.max).mean())}
        if scale.points and float(scale.min).is_integer() and float(scale.max).is_integer():
            for point in range(int(scale.min), int(scale.max) + 1):
                row[f"share_{point}"] = float((values == point).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def dimension_scores(answers: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Each respondent's score per dimension: the mean of the dimension's items (after reverse keying)."""
    return pd.DataFrame({d.id: answers[[i.id for i in survey.items if i.dimension == d.id]].mean(axis=1)
                         for d in survey.dimensions}, index=answers.index)


def problem_ranking(scores: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Dimensions ranked from the lowest mean score (rank 1: the most serious problem).

    The confidence interval is Student's t: :math:`\\bar x \\pm t_{(1+c)/2,\\,n-1}\\, s/\\sqrt n`.
    ``share_disagree`` is the share of respondents whose dimension score is at
    most ``survey.disagreement_limit`` (by default just below the scale midpoint,
    e.g. 2.5 on a 1-5 scale).

    Returns
    -------
    DataFrame
        ``rank``, ``dimension``, ``label_en``, ``label_zh``, ``n``, ``mean``,
        ``sd``, ``ci_low``, ``ci_high``, ``share_disagree``.
    """
    rows = []
    for dimension in survey.dimensions:
        values = scores[dimension.id].dropna()
        n, mean, sd = len(values), values.mean(), values.std(ddof=1)
        half = stats.t.ppf((1 + survey.confidence) / 2, n - 1) * sd / np.sqrt(n)
        rows.append({"dimension": dimension.id, "label_en": dimension.label_en, "label_zh": dimension.label_zh,
                     "n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half,
                     "share_disagree": float((values <= survey.disagreement_limit).mean())})
    table = pd.DataFrame(rows).sort_values(["mean", "dimension"], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def group_comparison(scores: pd.DataFrame, groups: pd.Series, method: str) -> pd.DataFrame:
    """Compare each dimension's scores between respondent groups, with an effect size.

    - ``parametric``, two groups: Welch's t-test; Cohen's d with the pooled
      (n - 1) standard deviation, first group minus second (groups sorted).
    - ``parametric``, three or more: one-way ANOVA; eta squared = SS_between / SS_total.
    - ``rank``, two groups: Mann-Whitney U (two-sided, scipy's default method);
      rank-biserial correlation 2U/(n1 n2) - 1 with U of the first group
      (positive when the first group tends to score higher).
    - ``rank``, three or more: Kruskal-Wallis H; epsilon squared = H / (n - 1).

    Returns
    -------
    DataFrame
        One row per dimension: ``dimension``, ``groups``, ``test``, ``statistic``,
        ``p_value``, ``effect_size``, ``effect_measure``, ``n_no_group`` (respondents whose group is missing,
        left out), then ``mean_<group>`` and ``n_<group>`` per group.
    """
    names = sorted(groups.dropna().unique())
    rows = []
    for dimension in scores.columns:
        samples = [scores.loc[groups == g, dimension].dropna().to_numpy() for g in names]
        row = {"dimension": dimension, "groups": len(names)}
        if method == "parametric" and len(names) == 2:
            result = stats.ttest_ind(samples[0], samples[1], equal_var=False)
            n1, n2 = len(samples[0]), len(samples[1])
            pooled = np.sqrt(((n1 - 1) * samples[0].var(ddof=1) + (n2 - 1) * samples[1].var(ddof=1)) / (n1 + n2 - 2))
            row |= {"test": "Welch t", "statistic": result.statistic, "p_value": result.pvalue,
                    "effect_size": (samples[0].mean() - samples[1].mean()) / pooled, "effect_measure": "Cohen's d"}
        elif method == "parametric":
            result = stats.f_oneway(*samples)
            everything = np.concatenate(samples)
            between = sum(len(s) * (s.mean() - everything.mean()) ** 2 for s in samples)
            row |= {"test": "one-way ANOVA F", "statistic": result.statistic, "p_value": result.pvalue,
                    "effect_size": between / ((everything - everything.mean()) ** 2).sum(),
                    "effect_measure": "eta squared"}
        elif len(names) == 2:
            result = stats.mannwhitneyu(samples[0], samples[1], alternative="two-sided")
            row |= {"test": "Mann-Whitney U", "statistic": result.statistic, "p_value": result.pvalue,
                    "effect_size": 2 * result.statistic / (len(samples[0]) * len(samples[1])) - 1,
                    "effect_measure": "rank-biserial r"}
        else:
            result = stats.kruskal(*samples)
            n = sum(len(s) for s in samples)
            row |= {"test": "Kruskal-Wallis H", "statistic": result.statistic, "p_value": result.pvalue,
                    "effect_size": result.statistic / (n - 1), "effect_measure": "epsilon squared"}
        row["n_no_group"] = int(groups.isna().sum())
        for name, sample in zip(names, samples):
            row[f"mean_{name}"] = sample.mean()
            row[f"n_{name}"] = len(sample)
        rows.append(row)
    return pd.DataFrame(rows)


def problem_table(ranking: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """The problems in rank order with their evidence, cause category and countermeasures (from the params)."""
    text = pd.DataFrame([{"dimension": d.id, "problem_en": d.problem_en, "problem_zh": d.problem_zh,
                          "cause_en": d.cause_en, "cause_zh": d.cause_zh,
                          "countermeasures_en": "; ".join(d.countermeasures_en),
                          "countermeasures_zh": "；".join(d.countermeasures_zh)} for d in survey.dimensions])
    evidence = ranking[["rank", "dimension", "mean", "ci_low", "ci_high", "share_disagree"]]
    table = evidence.merge(text, on="dimension", how="left", validate="one_to_one")
    return table[["rank", "problem_en", "problem_zh", "dimension", "mean", "ci_low", "ci_high", "share_disagree",
                  "cause_en", "cause_zh", "countermeasures_en", "countermeasures_zh"]]


def interview_themes(mentions: pd.DataFrame, interviews: Interviews, *, file=None) -> pd.DataFrame:
    """Theme frequencies of coded interviews, linked to the problem dimensions.

    Parameters
    ----------
    mentions : DataFrame
        One row per (respondent, theme code) mention, columns as declared.

    Returns
    -------
    DataFrame
        One row per declared theme: ``code``, ``label_en``, ``label_zh``,
        ``dimension``, ``mentions``, ``interviewees`` (distinct respondents),
        ``share_of_interviewees``.

    Raises
    ------
    InputError
        For a theme code not declared in the params, naming the file, column and row.
    """
    for column in (interviews.respondent_column, interviews.theme_column):
        if column not in mentions.columns:
            raise InputError(f"column not found (the file has: {', '.join(mentions.columns)}): write the header as "
                             "it is in the file", file=file,
                             column=column)
    codes = mentions[interviews.theme_column].astype(str).str.strip()
    known = {t.code for t in interviews.themes}
    unknown = np.flatnonzero(~codes.isin(known).to_numpy())
    if unknown.size:
        position = int(unknown[0])
        raise InputError(f"theme code '{codes.iloc[position]}' is not declared in interviews.themes: correct the "
                         "code, or declare the theme",
                         file=file, column=interviews.theme_column, row=position + 2)
    respondents = mentions[interviews.respondent_column].astype(str)
    total = respondents.nunique()
    rows = []
    for theme in interviews.themes:
        mask = codes == theme.code
        rows.append({"code": theme.code, "label_en": theme.label_en, "label_zh": theme.label_zh,
                     "dimension": theme.dimension, "mentions": int(mask.sum()),
                     "interviewees": int(respondents[mask].nunique()),
                     "share_of_interviewees": respondents[mask].nunique() / total})
    return pd.DataFrame(rows)
