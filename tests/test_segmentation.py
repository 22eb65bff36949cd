"""Grading and the strategy table."""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from crmlib.params import Grading
from crmlib.segmentation import (biplot_points, composite_histogram, grade_customers, grade_indicator_means,
                                 grade_profile, grade_thresholds, segment_means)
from crmlib.strategy import strategy_table

GRADES = [{"id": "AAA", "label_en": "AAA", "label_zh": "AAA级", "lower": 1.0, "problem_en": "philosophy",
           "problem_zh": "经营理念", "strategies_en": ["innovate", "personalize"], "strategies_zh": ["创新", "个性化"]},
          {"id": "AA", "label_en": "AA", "label_zh": "AA级", "lower": 0.0},
          {"id": "A-", "label_en": "A-", "label_zh": "A-级"}]


def grades_of(run, score: pd.Series, grading: Grading) -> tuple[pd.DataFrame, pd.Series]:
    """The thresholds and each customer's grade, by the engine ``run`` (in the customers' order)."""
    run.table("scores", pd.DataFrame({"customer_id": score.index.astype(str), "composite_score": score.to_numpy()}))
    thresholds = grade_thresholds(run, "scores", grading)
    grade_customers(run, "scores", thresholds)
    graded = run.query("SELECT * FROM customer_grades").set_index("customer_id")
    return thresholds, graded["grade"].reindex(score.index.astype(str))


def test_cutoffs_are_half_open_with_ties_going_up(run):
    grading = Grading(method="cutoff", grades=GRADES)
    score = pd.Series([1.0, 0.999, 0.0, -0.001, 5.0], index=list("abcde"))
    assert grades_of(run, score, grading)[1].tolist() == ["AAA", "AA", "AA", "A-", "AAA"]


def test_quantile_bounds_give_the_stated_shares_and_ranks_share_ties(run):
    grading = Grading(method="quantile", grades=[dict(GRADES[0], lower=0.9), dict(GRADES[1], lower=0.3), GRADES[2]])
    score = pd.Series(np.arange(100.0), index=[f"c{n:03d}" for n in range(100)])
    thresholds, grades = grades_of(run, score, grading)
    assert_allclose(thresholds["lower_score"].to_numpy()[:2], np.quantile(score, [0.9, 0.3]), rtol=0, atol=1e-12)
    assert_allclose(thresholds["lower_score"].to_numpy()[:2], [89.1, 29.7], rtol=0, atol=1e-12)
    assert grades.value_counts().to_dict() == {"AA": 60, "A-": 30, "AAA": 10}
    run.table("scores", pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "composite_score": [1.0, 3.0, 1.0, 0.5]}))
    grade_customers(run, "scores", thresholds)
    ranks = run.query("SELECT customer_id, rank FROM customer_grades ORDER BY customer_id")["rank"].tolist()
    assert ranks == [2, 1, 2, 4]  # as pandas' rank(ascending=False, method="min")


def test_profile_and_strategy_table_keep_grade_order_and_empty_grades(run):
    grading = Grading(method="cutoff", grades=GRADES)
    score = pd.Series([2.0, 1.5, -1.0], index=list("abc"))
    grades_of(run, score, grading)
    profile = grade_profile(run, ["AAA", "AA", "A-"])
    assert profile["grade"].tolist() == ["AAA", "AA", "A-"]
    assert profile["customers"].tolist() == [2, 0, 1]
    assert profile["share"].tolist() == [2 / 3, 0, 1 / 3]
    assert profile["mean_score"].tolist()[::2] == [1.75, -1.0] and profile["max_score"].tolist()[0] == 2.0
    run.table("data", pd.DataFrame({"customer_id": list("abc"), "x": [10.0, 20.0, 3.0]}))
    means = grade_indicator_means(run, "data", ["x"], ["AAA", "AA", "A-"])
    assert means.columns.tolist() == ["indicator", "grade", "mean"]
    assert means["mean"].tolist()[::2] == [15.0, 3.0] and np.isnan(means["mean"].iloc[1])  # AA has no customer
    table = strategy_table(grading, profile)
    assert table.loc[0, "strategies_zh"] == "创新；个性化"
    assert table.loc[0, "strategies_en"] == "innovate; personalize"
    assert table["customers"].tolist() == [2, 0, 1]


def test_indicator_means_allow_any_indicator_id():
    """Long, so an indicator named like an output column (share, grade, customers, mean) changes nothing."""
    grades = pd.Series(["A", "B", "A"], name="grade")
    data = pd.DataFrame({"share": [1.0, 2.0, 3.0], "grade": [4.0, 5.0, 6.0], "mean": [0.0, 1.0, 1.0]})
    means = segment_means(grades, data, ["A", "B"])
    assert means.values.tolist() == [["share", "A", 2.0], ["share", "B", 2.0], ["grade", "A", 5.0],
                                     ["grade", "B", 5.0], ["mean", "A", 0.5], ["mean", "B", 1.0]]


def test_the_engine_counts_the_histogram_as_numpy_does(run):
    """Scores on inner bin edges go up a bin, the highest score stays in the last, a customer without a score is
    not counted: numpy.histogram's rule, counted by the engine."""
    rng = np.random.default_rng(5)
    score = pd.Series(np.append(rng.normal(size=996), [-4.0, 4.0, 0.0, np.nan]),
                      index=[f"c{n:04d}" for n in range(1000)])
    edges = np.histogram_bin_edges(score.dropna(), bins=40)
    score.iloc[:3] = edges[[5, 17, 30]]
    grades_of(run, score, Grading(method="cutoff", grades=GRADES))
    histogram = composite_histogram(run)
    counts, expected = np.histogram(score.dropna(), bins=40)
    assert histogram["customers"].tolist() == counts.tolist() and counts.sum() == 999
    assert histogram["lower"].tolist() == expected[:-1].tolist() and histogram["upper"].tolist() == expected[1:].tolist()


def test_the_biplot_draws_every_kth_scored_customer_in_id_order(run):
    ids = [f"c{n:03d}" for n in range(25)][::-1]  # not in id order
    scores = pd.DataFrame({"customer_id": ids, "F1": np.arange(25.0)[::-1], "F2": -np.arange(25.0)[::-1]})
    scores.loc[scores["customer_id"] == "c003", "F2"] = np.nan
    grades_of(run, pd.Series(np.arange(25.0)[::-1] - 12, index=ids), Grading(method="cutoff", grades=GRADES))
    run.table("factor_scores", scores)
    drawn = biplot_points(run, "factor_scores", ["F1", "F2"], points=10)  # 24 scored: every 3rd
    assert drawn["F1"].tolist() == [0, 4, 7, 10, 13, 16, 19, 22]
    assert drawn["grade"].tolist() == ["A-", "A-", "A-", "A-", "AAA", "AAA", "AAA", "AAA"]
    assert len(biplot_points(run, "factor_scores", ["F1", "F2"], points=24)) == 24
