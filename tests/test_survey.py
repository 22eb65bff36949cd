"""Questionnaire analysis: cleaning rules, descriptives, ranking, group tests, interviews, validity
against psych, and one clear error per kind of mistake."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from crmlib import InputError, factors, load_params, pipeline
from crmlib.params import Interviews, Survey
from crmlib.survey import (clean_responses, group_comparison, interview_themes, item_descriptives,
                           problem_ranking)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "satisfaction"
SATISFACTION = pd.read_csv(ROOT / "data" / "raw" / "satisfaction" / "satisfaction.csv").drop(columns="gender")

SURVEY = Survey(data={"path": "x.csv", "kind": "synthetic", "provenance": "made up"}, scale={"min": 1, "max": 5}, dimensions=[{"id": "d", "label_en": "D", "label_zh": "D"}],
                items=[{"id": "a", "dimension": "d", "wording_en": "", "wording_zh": ""},
                       {"id": "b", "dimension": "d", "wording_en": "", "wording_zh": "", "reverse": True}])


# --- validity against psych: fa(x, 6, fm = "minres") on the 27 satisfaction items -------------------

@pytest.mark.parametrize("rotation", ["oblimin", "varimax", "promax"])
def test_minres_loadings_match_psych(rotation):
    """The kit's minres is the minimum of psych's minres discrepancy (the principal-axis fixed point, converged to
    1e-12): equal to psych's fa(fm = "pa", min.err = 1e-13) to 1e-6 in every rotation, and to psych's own
    fa(fm = "minres") to 2e-5 (loadings) and 3e-5 (factor correlations), because psych's L-BFGS-B stops at R's
    default tolerance, which fa does not let a user tighten."""
    ours = factors.exploratory_factor_analysis(SATISFACTION, 6, rotation=rotation)
    for tight, closeness in (("pa", 1e-6), ("minres", 2e-5)):
        theirs = pd.read_csv(REFERENCE / f"efa_{tight}_{rotation}_loadings.csv").set_index("item")
        assert_allclose(ours.loadings.to_numpy(), theirs.to_numpy(), rtol=0, atol=closeness)
        if rotation != "varimax":
            phi = pd.read_csv(REFERENCE / f"efa_{tight}_{rotation}_phi.csv").set_index("factor")
            assert_allclose(ours.factor_correlations.to_numpy(), phi.to_numpy(), rtol=0, atol=1.5 * closeness)


@pytest.mark.parametrize("rotation", ["oblimin", "varimax", "promax"])
def test_principal_axis_loadings_and_factor_correlations_match_psych_in_every_rotation(rotation):
    """fa(x, 6, fm = "pa", min.err = 1e-13): with the extraction converged as tightly on both sides, the rotations
    (GPArotation's oblimin, psych's promax, varimax) agree to 1e-6 too (found: 7.6e-12)."""
    ours = factors.exploratory_factor_analysis(SATISFACTION, 6, extraction="pa", rotation=rotation)
    theirs = pd.read_csv(REFERENCE / f"efa_pa_{rotation}_loadings.csv").set_index("item")
    assert_allclose(ours.loadings.to_numpy(), theirs.to_numpy(), rtol=0, atol=1e-6)
    if rotation != "varimax":
        phi = pd.read_csv(REFERENCE / f"efa_pa_{rotation}_phi.csv").set_index("factor")
        assert_allclose(ours.factor_correlations.to_numpy(), phi.to_numpy(), rtol=0, atol=1e-6)


def test_item_kmo_and_bartlett_match_psych():
    corr = factors.correlation_matrix(SATISFACTION)
    assert_allclose(factors.kmo(corr)["msa"], pd.read_csv(REFERENCE / "kmo_all.csv")["msa"], atol=1e-6)
    ours = factors.bartlett_sphericity(corr, len(SATISFACTION)).iloc[0]
    theirs = pd.read_csv(REFERENCE / "bartlett_all.csv").iloc[0]
    assert_allclose(ours["chi_square"], theirs["chi_square"], atol=1e-6)
    assert_allclose(ours["log_p_value"], theirs["log_p_value"], atol=1e-6)
    assert np.exp(ours["log_p_value"]) == ours["p_value"] == 0  # the p value underflows; its log does not


def test_item_fit_flags_items_on_another_dimensions_factor():
    loadings = pd.DataFrame({"F1": [0.8, 0.7, 0.6, 0.1], "F2": [0.1, 0.2, 0.1, 0.3]}, index=list("abcd"))
    table = factors.item_fit(loadings, {"a": "x", "b": "x", "c": "y", "d": "y"}, 0.4).set_index("item")
    assert table["fits"].to_dict() == {"a": True, "b": True, "c": False, "d": False}
    assert table.loc["d", "factor_dimension"] == "y"  # fits its factor but loads below 0.4


# --- cleaning -----------------------------------------------------------------------------------

def test_reverse_keying_and_straight_lining(make_case):
    params = load_params(make_case(n=40, base="sz"))
    answers = pd.DataFrame({i.id: [1.0, 3.0, 5.0] for i in params.survey.items}, index=["r1", "r2", "r3"])
    answers.iloc[1, 0] = 2.0
    result = clean_responses(answers, params)
    # straight-liners r1 and r3 are dropped (the case's rule); g4 is reverse-keyed: 6 - 3 = 3
    assert list(result.answers.index) == ["r2"]
    assert result.answers.loc["r2", "g4"] == 3.0 and result.answers.loc["r2", "g1"] == 2.0
    assert result.respondents.iloc[0].to_dict() == {"n_in": 3, "n_straight_lining": 2, "n_dropped_straight_lining": 2,
                                                     "n_dropped_missing": 0, "n_out": 1}


def test_out_of_scale_answers_set_to_missing_and_counted(make_case):
    params = load_params(make_case(n=40, base="sz"))
    answers = pd.DataFrame({i.id: [1.0 + k % 2, 2.0 + k % 3, 4.0 - k % 2] for k, i in enumerate(params.survey.items)},
                           index=["r1", "r2", "r3"])
    answers.loc["r2", "g1"] = 7.0
    result = clean_responses(answers, params)
    log = result.log.set_index("item")
    assert log.loc["g1", "n_out_of_scale"] == 1
    assert result.answers.loc["r2", "g1"] == 2.5  # set to missing, then the median of 1 and 4 (the case's rule)


def test_out_of_scale_in_a_reverse_keyed_item_is_always_an_error(make_case):
    params = load_params(make_case(n=40, base="sz"))
    answers = pd.DataFrame({i.id: [1.0, 2.0, 4.0] for i in params.survey.items}, index=["r1", "r2", "r3"])
    answers.loc["r3", "g4"] = 0.0
    with pytest.raises(InputError, match=r"column 'G4 .*', row 4: answer 0 is outside the item's scale \[1, 5\] "
                                         r"\(a reverse-keyed item cannot be reversed\)"):
        clean_responses(answers, params)


# --- statistics ---------------------------------------------------------------------------------

def test_item_descriptives_by_hand():
    answers = pd.DataFrame({"a": [1.0, 1.0, 5.0, 3.0], "b": [2.0, 2.0, 2.0, 2.0]})
    table = item_descriptives(answers, SURVEY).set_index("item")
    assert table.loc["a", "floor_share"] == 0.5 and table.loc["a", "ceiling_share"] == 0.25
    assert table.loc["b", "share_2"] == 1.0 and table.loc["a", "share_3"] == 0.25


def test_problem_ranking_confidence_interval_by_hand():
    scores = pd.DataFrame({"d": [1.0, 2.0, 3.0, 4.0]})
    row = problem_ranking(scores, SURVEY).iloc[0]
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert_allclose([row["ci_low"], row["ci_high"]], [2.5 - half, 2.5 + half])
    assert row["share_disagree"] == 0.5  # scores <= 2.5 on a 1-5 scale


def test_group_comparisons_and_effect_sizes():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame({"d": np.concatenate([rng.normal(3, 1, 30), rng.normal(3.5, 1, 40), rng.normal(4, 1, 20)])})
    three = pd.Series(["a"] * 30 + ["b"] * 40 + ["c"] * 20)
    two = pd.Series(["a"] * 30 + ["b"] * 60)
    welch = group_comparison(scores, two, "parametric").iloc[0]
    a, b = scores["d"][:30], scores["d"][30:]
    assert_allclose(welch["statistic"], stats.ttest_ind(a, b, equal_var=False).statistic)
    pooled = np.sqrt((29 * a.var() + 59 * b.var()) / 88)
    assert_allclose(welch["effect_size"], (a.mean() - b.mean()) / pooled)
    anova = group_comparison(scores, three, "parametric").iloc[0]
    grand = scores["d"].mean()
    between = sum(len(g) * (g.mean() - grand) ** 2 for _, g in scores["d"].groupby(three))
    assert_allclose(anova["effect_size"], between / ((scores["d"] - grand) ** 2).sum())
    mwu = group_comparison(scores, two, "rank").iloc[0]
    u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    assert_allclose(mwu["effect_size"], 2 * u / (30 * 60) - 1)
    assert mwu["effect_size"] < 0  # the first group scores lower
    kw = group_comparison(scores, three, "rank").iloc[0]
    assert_allclose(kw["effect_size"], stats.kruskal(*[g for _, g in scores["d"].groupby(three)]).statistic / 89)


def test_interview_themes_and_unknown_code():
    interviews = Interviews(path="x.csv", respondent_column="who", theme_column="code",
                            themes=[{"code": "T1", "label_en": "", "label_zh": "", "dimension": "d"},
                                    {"code": "T2", "label_en": "", "label_zh": "", "dimension": "d"}])
    mentions = pd.DataFrame({"who": ["p1", "p1", "p2", "p3"], "code": ["T1", "T1", "T1", "T2"]})
    table = interview_themes(mentions, interviews).set_index("code")
    assert table.loc["T1", "mentions"] == 3 and table.loc["T1", "interviewees"] == 2
    assert_allclose(table.loc["T2", "share_of_interviewees"], 1 / 3)
    with pytest.raises(InputError, match=r"x\.csv, column 'code', row 3: theme code 'T9' is not declared"):
        interview_themes(mentions.assign(code=["T1", "T9", "T1", "T2"]), interviews, file="x.csv")


# --- mistakes -----------------------------------------------------------------------------------

def test_params_mistakes(make_case):
    def no_dimension(p):
        p["survey"]["items"][0]["dimension"] = "nowhere"
    with pytest.raises(InputError, match=r"case\.yaml, key 'survey': .*item 'g1' is in no declared dimension"):
        make_case(n=20, base="sz", edit_params=no_dimension)

    def one_item(p):
        p["survey"]["items"] = [i for i in p["survey"]["items"] if i["dimension"] != "goals" or i["id"] == "g1"]
    with pytest.raises(InputError, match=r"dimension 'goals' has 1 item\(s\): reliability \(alpha\) needs at least 2"):
        make_case(n=20, base="sz", edit_params=one_item)


def _cli(path, tmp_path):
    return subprocess.run([sys.executable, "-m", "crmlib.cli", "run", "--params", str(path), "--output-dir",
                           str(tmp_path / "o")], cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_answer_outside_the_scale_ends_the_run(make_case, tmp_path):
    def outside(table):
        table.loc[5, "P2 业务办理等待时间合理"] = "6"
        return table
    def questionnaire_only(p):  # the A branch case without its customer base
        for key in ("data", "indicators", "cleaning", "customer_base", "synthetic_panel"):
            p.pop(key)
    result = _cli(make_case(n=40, base="a_branch", edit_params=questionnaire_only, edit_data=outside), tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "column 'P2 业务办理等待时间合理', row 7: answer 6 is outside the item's scale [1, 5]" in result.stderr
    assert not [p for p in (tmp_path / "o").rglob("*") if p.is_file()]


def test_repeated_respondent_id(make_case, tmp_path):
    def repeat(table):
        table.loc[3, "问卷编号"] = table.loc[0, "问卷编号"]
        return table
    params = load_params(make_case(n=30, base="sz", edit_data=repeat))
    with pytest.raises(InputError, match=r"column '问卷编号', row 5: customer id 'Q01' appears more than once"):
        pipeline.clean(params, tmp_path / "o")


def test_satisfaction_case_published_reliability(root):
    table = pd.read_csv(root / "data" / "processed" / "satisfaction" / "reliability.csv").set_index("dimension")
    reference = pd.read_csv(REFERENCE / "alpha_imag.csv").iloc[0]
    assert_allclose(table.loc["image", "raw_alpha"], reference["raw_alpha"], atol=1e-12)
    assert (table["raw_alpha"] > 0.8).all()


# --- the synthetic SZ survey: the case's published tables against psych -----------------------------

SZ_REFERENCE = ROOT / "tests" / "reference" / "sz"
SZ_TABLES = ROOT / "data" / "processed" / "sz"


def test_sz_reference_input_is_the_pipeline_input():
    ours = pd.read_csv(SZ_TABLES / "responses.csv")
    pd.testing.assert_frame_equal(ours, pd.read_csv(SZ_REFERENCE / "input.csv"), check_exact=True)


@pytest.mark.parametrize("dimension", ["goals", "information", "effectiveness", "system", "overall"])
def test_sz_reliability_matches_psych(dimension):
    ours = pd.read_csv(SZ_TABLES / "reliability.csv").set_index("dimension").loc[dimension]
    theirs = pd.read_csv(SZ_REFERENCE / f"alpha_{dimension}.csv").iloc[0]
    for mine, psych in {"raw_alpha": "raw_alpha", "std_alpha": "std.alpha", "g6_smc": "G6(smc)",
                        "average_r": "average_r", "mean": "mean", "sd": "sd"}.items():
        assert_allclose(ours[mine], theirs[psych], rtol=0, atol=1e-6, err_msg=mine)
    if dimension != "overall":
        omega = pd.read_csv(SZ_REFERENCE / f"omega_{dimension}.csv").iloc[0]["omega_total"]
        assert_allclose(ours["omega_total"], omega, rtol=0, atol=1e-5)
        items = pd.read_csv(SZ_TABLES / "item_total.csv")
        items = items[items["dimension"] == dimension].set_index("item")
        reference = pd.read_csv(SZ_REFERENCE / f"items_{dimension}.csv").set_index("item")
        for mine, psych in {"r_drop": "r.drop", "alpha_if_deleted": "alpha_if_deleted", "raw_r": "raw.r"}.items():
            assert_allclose(items[mine], reference[psych], rtol=0, atol=1e-6, err_msg=mine)


def test_sz_validity_matches_psych():
    assert_allclose(pd.read_csv(SZ_TABLES / "survey_kmo.csv")["msa"], pd.read_csv(SZ_REFERENCE / "kmo.csv")["msa"],
                    rtol=0, atol=1e-6)
    for column in ("chi_square", "log_p_value"):
        assert_allclose(pd.read_csv(SZ_TABLES / "survey_bartlett.csv")[column],
                        pd.read_csv(SZ_REFERENCE / "bartlett.csv")[column], rtol=0, atol=1e-6, err_msg=column)
    ours = pd.read_csv(SZ_TABLES / "efa_loadings.csv").set_index("item")[["F1", "F2", "F3", "F4"]]
    theirs = pd.read_csv(SZ_REFERENCE / "principal_varimax_loadings.csv").set_index("item")
    assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=0, atol=1e-6)
