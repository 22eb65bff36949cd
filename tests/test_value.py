"""The customer value model and value matrix: thresholds, classes, shares, stages, and params mistakes."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmlib import InputError, load_params, pipeline
from crmlib.params import AxisThreshold, RelationshipStages, ValueMatrix
from crmlib.segmentation import (axis_threshold, class_summary, middle_band_share, relationship_stage, segment_means,
                                 value_matrix_classes)
from crmlib.value import percentile_rank

CLASSES = {key: {"id": name, "label_en": name, "label_zh": name} for key, name in
           [("high_high", "platinum"), ("high_low", "gold"), ("low_high", "iron"), ("low_low", "lead")]}


def matrix(**changes) -> ValueMatrix:
    return ValueMatrix(x="current", y="potential", **CLASSES, **changes)


def test_axis_threshold_rules():
    v = pd.Series([1.0, 2.0, 3.0, 10.0])
    assert axis_threshold(v, AxisThreshold(rule="mean")) == 4.0
    assert axis_threshold(v, AxisThreshold(rule="median")) == 2.5
    assert axis_threshold(v, AxisThreshold(rule="quantile", q=0.75)) == 4.75
    assert axis_threshold(v, AxisThreshold(rule="fixed", value=3.0)) == 3.0


def test_quadrants_map_to_classes_and_ties_go_high():
    values = pd.DataFrame({"current": [0.9, 0.9, 0.1, 0.1, 0.5], "potential": [0.9, 0.1, 0.9, 0.1, 0.5]},
                          index=list("abcde"))
    fixed = AxisThreshold(rule="fixed", value=0.5)
    thresholds, classes = value_matrix_classes(values, matrix(x_threshold=fixed, y_threshold=fixed))
    assert classes["class"].tolist() == ["platinum", "gold", "iron", "lead", "platinum"]
    assert thresholds["threshold"].tolist() == [0.5, 0.5]


def test_class_summary_shares():
    values = pd.DataFrame({"current": [0.0, 1.0, 3.0, 4.0], "potential": [1.0, 0.0, 1.0, 0.0]}, index=list("abcd"))
    fixed = AxisThreshold(rule="fixed", value=2.0)
    _, classes = value_matrix_classes(values, matrix(x_threshold=fixed, y_threshold=AxisThreshold(
        rule="fixed", value=0.5)))
    data = pd.DataFrame({"profit": [1.0, 1.0, 2.0, 6.0]}, index=list("abcd"))
    summary = class_summary(classes, data, matrix()).set_index("class")
    assert summary["customers"].tolist() == [1, 1, 1, 1]
    # min-max scaled current value: 0, 0.25, 0.75, 1 -> shares 0.75/2, 1/2, 0, 0.25/2
    assert_allclose(summary["x_value_share"], [0.375, 0.5, 0.0, 0.125])
    raw = class_summary(classes, data, matrix(value_share_basis="profit")).set_index("class")
    assert_allclose(raw["x_value_share"], [0.2, 0.6, 0.1, 0.1])
    means = segment_means(classes["class"], data, list(summary.index)).set_index("class")
    assert means.loc["gold", "mean"] == 6.0


def test_middle_band_share_by_hand():
    values = pd.DataFrame({"v": [0.0, 0.2, 0.4, 0.5, 0.6, 1.0]})
    row = middle_band_share(values, ["v"], (1 / 3, 2 / 3)).iloc[0]
    assert (row["customers_in_band"], row["share_in_band"]) == (3, 0.5)


def test_relationship_stage_bounds_are_inclusive():
    stages = RelationshipStages(indicator="years", stages=[
        {"id": "exploration", "label_en": "", "label_zh": ""},
        {"id": "formation", "label_en": "", "label_zh": "", "lower": 2},
        {"id": "stability", "label_en": "", "label_zh": "", "lower": 5}])
    years = pd.Series([0.3, 1.99, 2.0, 4.9, 5.0, 20.0])
    assert relationship_stage(years, stages).tolist() == ["exploration", "exploration", "formation", "formation",
                                                          "stability", "stability"]


def test_percentile_rank():
    assert percentile_rank(pd.Series([3.0, 1.0, 2.0, 2.0])).tolist() == [1.0, 0.25, 0.75, 0.75]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=60),
       st.sampled_from(["mean", "median", "quantile"]))
def test_every_customer_gets_exactly_one_class(points, rule):
    values = pd.DataFrame(points, columns=["current", "potential"])
    axis = AxisThreshold(rule=rule, q=0.3 if rule == "quantile" else None)
    _, classes = value_matrix_classes(values, matrix(x_threshold=axis, y_threshold=axis))
    assert classes["class"].isin(["platinum", "gold", "iron", "lead"]).all()
    assert len(classes) == len(values)


def test_jd_case_published_tables(root):
    summary = pd.read_csv(root / "data" / "processed" / "jd" / "class_summary.csv")
    assert summary["class"].tolist() == ["platinum", "gold", "iron", "lead"]
    assert summary["customers"].sum() == 500
    assert_allclose(summary["share"].sum(), 1.0)
    assert_allclose(summary["x_value_share"].sum(), 1.0)
    consistency = pd.read_csv(root / "data" / "processed" / "jd" / "ahp_consistency.csv").iloc[0]
    assert consistency["consistency_ratio"] < 0.10
    weights = pd.read_csv(root / "data" / "processed" / "jd" / "value_weights.csv")
    assert_allclose(weights.groupby("dimension")["weight"].sum(), [1.0, 1.0])


def test_factor_method_is_the_composite_of_the_groups_components(make_case, tmp_path):
    def factor_weights(p):
        p["value_matrix"]["model"]["dimensions"][1]["weights"] = {"method": "factor"}
    params = load_params(make_case(n=120, base="jd", edit_params=factor_weights))
    pipeline.clean(params, tmp_path)
    pipeline.build_indicators(params, tmp_path)
    tables = pipeline.factor_analysis(params, tmp_path)
    z = pd.read_csv(tmp_path / "standardized_indicators.csv").set_index("customer_id")
    group = params.value_matrix.model.dimensions[1].indicators
    implied = tables["value_weights"].set_index("indicator").loc[group, "weight"]
    assert_allclose(tables["customer_values"]["potential_value"], z[group] @ implied, atol=1e-10)
    assert "kmo" not in tables  # no factor analysis of all indicators unless the params ask for it


# --- params mistakes: one line naming the params file and key --------------------------------------

def _ahp(matrix_rows):
    def edit(p):
        p["value_matrix"]["model"]["dimensions"][1]["weights"]["matrix"] = matrix_rows
    return edit


SIX_ONES = [[1] * 6 for _ in range(6)]
INCONSISTENT = [[1, 9, 9, "1/9", 9, 9], ["1/9", 1, 9, 9, "1/9", 9], ["1/9", "1/9", 1, 9, 9, "1/9"],
                [9, "1/9", "1/9", 1, 9, 9], ["1/9", 9, "1/9", "1/9", 1, 9], ["1/9", "1/9", 9, "1/9", "1/9", 1]]

AHP_MISTAKES = {
    "AHP not square": (_ahp(SIX_ONES[:5]), "must be square"),
    "AHP not positive": (_ahp([[0 if i == j == 0 else 1 for j in range(6)] for i in range(6)]), "must be positive"),
    "AHP not reciprocal": (_ahp([[3 if (i, j) == (0, 1) else 1 for j in range(6)] for i in range(6)]),
                           "not reciprocal"),
    "AHP inconsistent": (_ahp(INCONSISTENT), "inconsistent: CR ="),
}


@pytest.mark.parametrize("mistake", AHP_MISTAKES)
def test_ahp_mistakes_are_found_by_stage_03(mistake, make_case, tmp_path):
    """Loading validates and does not compute: an AHP matrix is checked where its weights are computed, and the
    error names the params file and key."""
    edit, message = AHP_MISTAKES[mistake]
    params = load_params(make_case(n=30, base="jd", edit_params=edit))
    pipeline.clean(params, tmp_path)
    pipeline.build_indicators(params, tmp_path)
    with pytest.raises(InputError, match=r"case\.yaml, key 'value_matrix\.model\.dimensions\.1\.weights\.matrix'") \
            as caught:
        pipeline.factor_analysis(params, tmp_path)
    assert message in str(caught.value)


MISTAKES = {
    "indicator twice": (lambda p: p["value_matrix"]["model"]["dimensions"][0]["indicators"].append("deposit_growth"),
                        "", "listed twice: ['deposit_growth']"),
    "indicator in no group": (lambda p: p["value_matrix"]["model"]["dimensions"][0]["indicators"].remove("fee_income"),
                              "", "in no dimension: ['fee_income']"),
    "unknown threshold rule": (lambda p: p["value_matrix"]["matrix"]["x_threshold"].update(rule="mode"),
                               "value_matrix.matrix.x_threshold.rule", "Input should be"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_value_params_mistakes(mistake, make_case):
    edit, key, message = MISTAKES[mistake]
    with pytest.raises(InputError, match=r"case\.yaml") as caught:
        make_case(n=30, base="jd", edit_params=edit)
    assert key in str(caught.value) and message in str(caught.value)


def test_zero_variance_indicator_ends_the_run_cleanly(make_case, tmp_path):
    def constant(table):
        table["行业前景评分(1-5)"] = "3"
        return table
    path = make_case(n=60, base="jd", edit_data=constant)
    result = subprocess.run([sys.executable, "-m", "crmlib.cli", "run", "--params", str(path), "--output-dir",
                             str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "case.yaml key 'indicators.10'" in line and "indicator 'industry_prospect'" in line and "zero variance" in line
    assert not [p for p in (tmp_path / "o").rglob("*") if p.is_file()]


def test_inconsistent_ahp_matrix_ends_the_run_in_stage_03(make_case, tmp_path):
    path = make_case(n=30, base="jd")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["value_matrix"]["model"]["dimensions"][1]["weights"]["matrix"] = INCONSISTENT
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "crmlib.cli", "run", "--params", str(path), "--output-dir",
                             str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "case.yaml, key 'value_matrix.model.dimensions.1.weights.matrix': pairwise comparison matrix is inconsistent" \
        in result.stderr and "[stage 03_factor_analysis" in result.stderr
    assert not [p for p in (tmp_path / "o").rglob("*") if p.is_file()]


def test_factor_method_reports_a_near_singular_group(make_case, tmp_path):
    def factor_weights(p):
        p["value_matrix"]["model"]["dimensions"][1]["weights"] = {"method": "factor"}

    def copy_column(table):
        table["持有产品数"] = table["合作年限(年)"]
        return table
    params = load_params(make_case(n=80, base="jd", edit_params=factor_weights, edit_data=copy_column))
    pipeline.clean(params, tmp_path)
    pipeline.build_indicators(params, tmp_path)
    with pytest.raises(InputError, match="near-singular.*relationship_years.*products_held"):
        pipeline.factor_analysis(params, tmp_path)
