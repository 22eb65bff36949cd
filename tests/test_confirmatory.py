"""The confirmatory factor analysis, construct validity and measurement invariance (crmlib.confirmatory) against R
lavaan 0.6-14 and semTools 0.5.6 on every questionnaire of the kit: tests/reference/<case>/lavaan_*.csv and
semtools_*.csv, written by tests/reference/lavaan_reference.R.

Tolerances: the references are converged tightly (BFGS, gradient below 1e-6; lavaan's default nlminb stops up to
2.5e-5 from the optimum on the bfi items), the kit's fit to FIT_TOLERANCE. Estimates, standard errors, CR and AVE agree
within 1e-6 (largest difference seen 1.0e-7), fit indices within 1e-8 relative (largest 1.7e-9), HTMT within 1e-12.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlib import InputError, confirmatory, load_params

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
ESTIMATE = 1e-6
FIT = 1e-8


def _bfi():
    raw = pd.read_csv(ROOT / "data" / "raw" / "bfi" / "bfi.csv")
    answers = raw.iloc[:, 1:26].copy()
    for item in ("A1", "C4", "C5", "E1", "E2", "O2", "O5"):
        answers[item] = 7 - answers[item]
    return answers, raw["gender"]


def _exported(case, attribute):
    answers = pd.read_csv(REFERENCE / case / "input.csv", index_col=0)
    return answers, pd.read_csv(REFERENCE / case / "attributes.csv", index_col=0)[attribute]


def _questionnaire(case):
    """The answers as the case's stage 01 leaves them, the groups it compares, and its blocks."""
    if case == "holzinger_swineford":
        raw = pd.read_csv(ROOT / "data" / "raw" / case / "HolzingerSwineford1939.csv")
        return raw, raw["school"], {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                                    "speed": ["x7", "x8", "x9"]}
    if case == "satisfaction":
        raw = pd.read_csv(ROOT / "data" / "raw" / case / "satisfaction.csv")
        prefixes = {"image": "imag", "expectations": "expe", "quality": "qual", "value": "val",
                    "satisfaction": "sat", "loyalty": "loy"}
        return raw, raw["gender"], {block: [c for c in raw.columns if c.rstrip("0123456789") == prefix]
                                    for block, prefix in prefixes.items()}
    if case == "sz":
        answers, groups = _exported(case, "role")
        return answers, groups, {b: [f"{b[0]}{j}" for j in range(1, 5)]
                                 for b in ("goals", "information", "effectiveness", "system")}
    if case == "a_branch":
        answers, groups = _exported(case, "tier")
        return answers, groups, {"crm_system": ["c1", "c2", "c3", "c4"], "process": ["p1", "p2", "p3", "p4"],
                                 "service": ["v1", "v2", "v3", "v4"], "capability": ["k1", "k2", "k3", "k4"]}
    answers, groups = _bfi()
    return answers, groups, {t: [f"{t[0].upper()}{j}" for j in range(1, 6)]
                             for t in ("agreeableness", "conscientiousness", "extraversion", "neuroticism",
                                       "openness")}


CASES = ("holzinger_swineford", "satisfaction", "sz", "a_branch", "bfi")
_FITS = {}


def _fit(case):
    if case not in _FITS:
        answers, _, blocks = _questionnaire(case)
        _FITS[case] = confirmatory.confirmatory_factor_analysis(answers, blocks)
    return _FITS[case]


@pytest.mark.parametrize("case", CASES)
def test_fit_indices_match_lavaan(case):
    ours = _fit(case).fit.iloc[0]
    theirs = pd.read_csv(REFERENCE / case / "lavaan_fit.csv").iloc[0]
    assert ours["n"] == theirs["ntotal"] and ours["df"] == theirs["df"]
    assert ours["baseline_df"] == theirs["baseline.df"]
    pairs = {"chi_square": "chisq", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea_lower": "rmsea.ci.lower",
             "rmsea_upper": "rmsea.ci.upper", "srmr": "srmr", "baseline_chi_square": "baseline.chisq"}
    for mine, lavaan in pairs.items():
        scale = max(1.0, abs(theirs[lavaan]))
        assert abs(ours[mine] - theirs[lavaan]) <= FIT * scale, (mine, ours[mine], theirs[lavaan])
    assert ours["p_value"] == pytest.approx(theirs["pvalue"], rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_loadings_and_correlations_match_lavaan(case):
    cfa = _fit(case)
    theirs = pd.read_csv(REFERENCE / case / "lavaan_loadings.csv")
    ours = cfa.loadings
    assert list(ours["item"]) == list(theirs["item"]) and list(ours["construct"]) == list(theirs["construct"])
    for column in ("estimate", "std_loading", "std_se"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=0, atol=ESTIMATE, err_msg=column)
    markers = ours["se"].isna()
    assert list(markers) == list(theirs["se"] == 0)
    np.testing.assert_allclose(ours.loc[~markers, "se"], theirs.loc[~markers, "se"], rtol=0, atol=ESTIMATE)
    np.testing.assert_allclose(ours["std_residual"], 1 - theirs["std_loading"] ** 2, rtol=0, atol=2 * ESTIMATE)
    correlations = pd.read_csv(REFERENCE / case / "lavaan_correlations.csv")
    mine = cfa.construct_correlations
    assert list(zip(mine["construct_a"], mine["construct_b"])) == list(zip(correlations["construct_a"],
                                                                           correlations["construct_b"]))
    np.testing.assert_allclose(mine[["correlation", "se"]], correlations[["correlation", "se"]], rtol=0,
                               atol=ESTIMATE)


@pytest.mark.parametrize("case", CASES)
def test_composite_reliability_and_ave_match_semtools(case):
    ours = confirmatory.composite_reliability(_fit(case)).set_index("construct")
    theirs = pd.read_csv(REFERENCE / case / "semtools_validity.csv").set_index("construct")
    np.testing.assert_allclose(ours.loc[theirs.index, ["composite_reliability", "ave"]],
                               theirs[["composite_reliability", "ave"]], rtol=0, atol=ESTIMATE)
    np.testing.assert_allclose(ours["sqrt_ave"] ** 2, ours["ave"], rtol=1e-15)
    assert list(ours["fornell_larcker"]) == list(ours["sqrt_ave"] > ours["max_correlation"])


@pytest.mark.parametrize("case", CASES)
def test_htmt_matches_semtools(case):
    answers, _, blocks = _questionnaire(case)
    items = [i for block in blocks.values() for i in block]
    ours = confirmatory.heterotrait_monotrait(answers[items].corr(), blocks)  # pandas: pairwise, as R's "pairwise"
    theirs = pd.read_csv(REFERENCE / case / "semtools_htmt.csv")
    assert list(zip(ours["construct_a"], ours["construct_b"])) == list(zip(theirs["construct_a"],
                                                                           theirs["construct_b"]))
    np.testing.assert_allclose(ours[["htmt", "htmt2"]], theirs[["htmt", "htmt2"]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_measurement_invariance_matches_lavaan(case):
    answers, groups, blocks = _questionnaire(case)
    ours = confirmatory.measurement_invariance(answers, groups.where(groups.isna(), groups.astype(str)), blocks)
    theirs = pd.read_csv(REFERENCE / case / "lavaan_invariance.csv")
    assert list(ours["model"]) == list(theirs["model"])
    assert list(ours["n"]) == list(theirs["ntotal"]) and list(ours["df"]) == list(theirs["df"])
    for mine, lavaan in {"chi_square": "chisq", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea"}.items():
        np.testing.assert_allclose(ours[mine], theirs[lavaan], rtol=FIT, atol=FIT, err_msg=mine)
    metric, reference = ours.iloc[1], theirs.iloc[1]
    assert metric["delta_df"] == reference["delta_df"]
    assert metric["delta_chi_square"] == pytest.approx(reference["delta_chi_square"], rel=FIT, abs=FIT)
    assert metric["delta_p_value"] == pytest.approx(reference["delta_p_value"], rel=1e-5, abs=1e-12)


def test_degrees_of_freedom_count_the_free_parameters():
    assert confirmatory.degrees_of_freedom({"a": ["x1", "x2", "x3"]}) == 0
    assert confirmatory.degrees_of_freedom({"a": ["x1", "x2"], "b": ["x3", "x4"]}) == 1
    assert confirmatory.degrees_of_freedom({"a": ["1", "2", "3"], "b": ["4", "5", "6"], "c": ["7", "8", "9"]}) == 24


def test_rmsea_interval_brackets_its_point_and_is_zero_for_a_perfect_fit():
    point, lower, upper = confirmatory.rmsea(85.3055217699727, 24, 301)
    assert lower < point < upper
    assert confirmatory.rmsea(10.0, 24, 301) == (0.0, 0.0, 0.0)  # chi-square far below its df


def _simulated(loadings_by_group, n=400, seed=20261127):
    """Two blocks of four items in each group, each item z = loading * factor + noise (factor correlation 0.3)."""
    rng = np.random.default_rng(seed)
    frames, groups = [], []
    for group, loadings in loadings_by_group.items():
        factors_ = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
        loadings = np.asarray(loadings)
        noise = rng.normal(size=(n, 8)) * np.sqrt(1 - loadings ** 2)
        values = np.column_stack([factors_[:, 0:1] * loadings[:4], factors_[:, 1:2] * loadings[4:]]) + noise
        frames.append(pd.DataFrame(values, columns=[f"a{j}" for j in range(4)] + [f"b{j}" for j in range(4)]))
        groups += [group] * n
    return (pd.concat(frames, ignore_index=True), pd.Series(groups),
            {"a": [f"a{j}" for j in range(4)], "b": [f"b{j}" for j in range(4)]})


def test_invariance_is_kept_for_equal_loadings_and_rejected_for_different_ones():
    same = [0.8, 0.7, 0.6, 0.7, 0.8, 0.7, 0.6, 0.7]
    answers, groups, blocks = _simulated({"x": same, "y": same})
    equal = confirmatory.measurement_invariance(answers, groups, blocks).set_index("model")
    assert equal.loc["metric", "delta_df"] == 6 and equal.loc["configural", "df"] == 2 * 19
    # under equal loadings the p value is uniform: this seed gives 0.038; CFI is the steadier criterion
    assert equal.loc["metric", "delta_p_value"] > 0.01 and equal.loc["metric", "delta_cfi"] > -0.01
    answers, groups, blocks = _simulated({"x": same, "y": [0.8, 0.2, 0.9, 0.3, 0.8, 0.2, 0.9, 0.3]})
    unequal = confirmatory.measurement_invariance(answers, groups, blocks).set_index("model")
    assert unequal.loc["metric", "delta_p_value"] < 1e-6 and unequal.loc["metric", "delta_cfi"] < -0.01
    configural = confirmatory.confirmatory_factor_analysis(answers[groups == "x"], blocks).fit.iloc[0]["chi_square"]
    configural += confirmatory.confirmatory_factor_analysis(answers[groups == "y"], blocks).fit.iloc[0]["chi_square"]
    assert unequal.loc["configural", "chi_square"] == pytest.approx(configural, rel=1e-8)  # the groups' own fits


def test_a_strong_structure_passes_validity_and_a_merged_one_fails_discriminant_validity():
    answers, _, blocks = _simulated({"x": [0.8] * 8})
    strong = confirmatory.confirmatory_factor_analysis(answers, blocks)
    validity = confirmatory.composite_reliability(strong)
    assert (validity["composite_reliability"] > 0.8).all() and (validity["ave"] > 0.55).all()
    assert validity["fornell_larcker"].all()
    assert strong.construct_correlations["correlation"].iloc[0] == pytest.approx(0.3, abs=0.1)
    merged = answers.assign(**{f"b{j}": answers[f"a{j}"] + np.random.default_rng(1).normal(0, 0.3, len(answers))
                               for j in range(4)})
    weak = confirmatory.composite_reliability(confirmatory.confirmatory_factor_analysis(merged, blocks))
    assert not weak["fornell_larcker"].any()
    assert confirmatory.heterotrait_monotrait(merged.corr(), blocks)["htmt"].iloc[0] > 0.9


def test_too_few_complete_respondents_is_an_input_error():
    answers, _, blocks = _simulated({"x": [0.8] * 8}, n=20)
    answers.iloc[:13, 0] = np.nan
    with pytest.raises(InputError, match="needs more respondents with every item answered than items: 7 for 8"):
        confirmatory.confirmatory_factor_analysis(answers, blocks)


def test_fit_verdict_takes_the_best_class_all_three_indices_meet():
    from crmlib.families.survey.display import fit_verdict
    assert fit_verdict(pd.Series({"cfi": 0.96, "rmsea": 0.05, "srmr": 0.04})) == "good"
    assert fit_verdict(pd.Series({"cfi": 0.96, "rmsea": 0.07, "srmr": 0.04})) == "acceptable"
    assert fit_verdict(pd.Series({"cfi": 0.931, "rmsea": 0.092, "srmr": 0.065})) == "poor"  # Holzinger-Swineford


def test_params_leave_the_cfa_out_when_asked_or_unidentified(make_case):
    def off(p):
        p["survey"]["cfa"] = False
    assert load_params(make_case(n=30, base="sz", edit_params=off)).survey.confirmatory_blocks() is None
    assert load_params(make_case(n=30, base="sz")).survey.confirmatory_blocks()["goals"] == ["g1", "g2", "g3", "g4"]

    def one_block_of_three(p):
        p["survey"]["dimensions"] = p["survey"]["dimensions"][:1]
        p["survey"]["items"] = [i for i in p["survey"]["items"] if i["id"] in ("g1", "g2", "g3")]
        p["survey"].pop("interviews")
        p["survey"]["synthetic"]["indicators"] = {k: v for k, v in p["survey"]["synthetic"]["indicators"].items()
                                                  if k in ("g1", "g2", "g3")}
    params = load_params(make_case(n=30, base="sz", edit_params=one_block_of_three))
    assert params.survey.confirmatory_blocks() is None  # 0 degrees of freedom: it fits by construction


def test_admissible_says_where_lavaan_warns():
    """lavaan warns that the satisfaction survey's construct covariances are not positive definite (smallest
    eigenvalue of their correlations -0.00076: expectations and quality correlate 0.98); the other fits pass."""
    assert [bool(_fit(case).fit.iloc[0]["admissible"]) for case in CASES] == [True, False, True, True, True]
