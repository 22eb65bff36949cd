"""Polychoric correlations and ordinal alpha (crmlib.ordinal) against R psych 2.2.9 on the trust, honesty and
compassion items of the SAPA Personality Inventory: tests/reference/spi/, written by
tests/reference/psych_polychoric.R."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from crmlib import InputError, factors, ordinal

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference" / "spi"
REVERSED = ("q_871", "q_4296", "q_501", "q_1896")
BLOCKS = {"trust": slice(0, 5), "honesty": slice(5, 10), "compassion": slice(10, 15), "overall": slice(0, 15)}


@pytest.fixture(scope="module")
def spi():
    raw = pd.read_csv(ROOT / "data" / "raw" / "spi" / "spi_trust_honesty_compassion.csv")
    answers = raw.drop(columns=["sex", "age"])
    for item in REVERSED:
        answers[item] = 7 - answers[item]
    return answers, ordinal.polychoric_correlations(answers, range(1, 7))


def _reference(name):
    return pd.read_csv(REFERENCE / name, index_col=0)


def test_bivariate_normal_cdf_matches_integration_at_zero_and_infinite_limits():
    for h, k, rho in [(0.3, -1.2, 0.5), (0.0, 0.7, -0.4), (-0.5, 0.0, 0.9), (0.0, 0.0, 0.3), (1.1, 0.4, -0.95),
                      (-2.0, -1.5, 0.2)]:
        root = np.sqrt(1 - rho ** 2)
        exact = integrate.quad(lambda x: stats.norm.pdf(x) * stats.norm.cdf((k - rho * x) / root), -np.inf, h,
                               epsabs=1e-15, epsrel=1e-13)[0]
        assert ordinal.bivariate_normal_cdf(h, k, rho) == pytest.approx(exact, abs=1e-13)
    limits = ordinal.bivariate_normal_cdf([np.inf, -np.inf, 0.4, np.inf], [0.4, 2.0, np.inf, np.inf], 0.3)
    np.testing.assert_allclose(limits, [stats.norm.cdf(0.4), 0.0, stats.norm.cdf(0.4), 1.0], atol=1e-15)


def test_thresholds_match_psych(spi):
    _, poly = spi
    theirs = _reference("thresholds_psych.csv")
    np.testing.assert_allclose(poly.thresholds.to_numpy(), theirs.to_numpy(), rtol=0, atol=1e-14)
    assert list(poly.thresholds.columns) == ["t1", "t2", "t3", "t4", "t5"]


def test_polychoric_correlations_match_psych_converged_tightly(spi):
    _, poly = spi
    tight = _reference("polychoric_tight.csv")
    assert list(poly.correlations.columns) == list(tight.columns) and not poly.smoothed
    np.testing.assert_allclose(poly.correlations.to_numpy(), tight.to_numpy(), rtol=0, atol=1e-6)
    # psych's own polychoric() stops its optimize at about 1e-4 and integrates to 1e-6
    np.testing.assert_allclose(poly.correlations.to_numpy(), _reference("polychoric_psych.csv").to_numpy(),
                               rtol=0, atol=1e-4)


def test_polychoric_exceeds_pearson_for_coarse_categories(spi):
    answers, poly = spi
    pearson = answers.corr().to_numpy()
    upper = np.triu_indices(15, 1)
    assert (np.abs(poly.correlations.to_numpy()[upper]) >= np.abs(pearson[upper]) - 1e-12).mean() > 0.95


def test_ordinal_alpha_matches_psych(spi):
    _, poly = spi
    theirs = pd.read_csv(REFERENCE / "ordinal_alpha.csv").set_index("dimension")["ordinal_alpha"]
    items = list(poly.correlations.columns)
    for name, block in BLOCKS.items():
        r = poly.correlations.loc[items[block], items[block]]
        assert ordinal.ordinal_alpha(r) == pytest.approx(theirs[name], abs=1e-6)


def test_kmo_and_bartlett_of_the_polychoric_matrix_match_psych(spi):
    answers, poly = spi
    kmo = factors.kmo(poly.correlations).set_index("indicator")["msa"]
    theirs = pd.read_csv(REFERENCE / "kmo.csv").set_index("item")["msa"]
    np.testing.assert_allclose(kmo.loc[theirs.index], theirs, rtol=0, atol=1e-6)
    bartlett = factors.bartlett_sphericity(poly.correlations, len(answers)).iloc[0]
    reference = pd.read_csv(REFERENCE / "bartlett.csv").iloc[0]
    assert bartlett["chi_square"] == pytest.approx(reference["chi_square"], rel=1e-6)
    assert bartlett["df"] == reference["df"]


def test_a_matrix_that_is_not_positive_definite_is_smoothed_as_psych():
    matrix = pd.read_csv(REFERENCE / "smooth_input.csv").to_numpy()
    smoothed, changed = ordinal.smooth_correlations(matrix)
    assert changed
    np.testing.assert_allclose(smoothed, pd.read_csv(REFERENCE / "smooth_output.csv").to_numpy(), rtol=0, atol=1e-14)
    assert ordinal.smooth_correlations(np.eye(3)) == (pytest.approx(np.eye(3)), False)


def test_polychoric_of_a_bivariate_normal_recovers_its_correlation():
    rng = np.random.default_rng(20261127)
    latent = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=20000)
    answers = pd.DataFrame(np.digitize(latent, [-1.0, -0.2, 0.5, 1.3]) + 1, columns=["a", "b"])
    poly = ordinal.polychoric_correlations(answers, range(1, 6))
    assert poly.correlations.loc["a", "b"] == pytest.approx(0.6, abs=0.02)
    np.testing.assert_allclose(poly.thresholds.loc["a"], [-1.0, -0.2, 0.5, 1.3], atol=0.03)


def test_the_spi_case_reports_psych_s_ordinal_figures(root):
    """The committed stage-03 tables of the spi case (test_pipeline checks a fresh run against them)."""
    processed = root / "data" / "processed" / "spi"
    reliability = pd.read_csv(processed / "reliability.csv").set_index("dimension")["ordinal_alpha"]
    theirs = pd.read_csv(REFERENCE / "ordinal_alpha.csv").set_index("dimension")["ordinal_alpha"]
    np.testing.assert_allclose(reliability.loc[theirs.index], theirs, rtol=0, atol=1e-6)
    bartlett = pd.read_csv(processed / "survey_bartlett.csv").iloc[0]
    assert bartlett["correlations"] == "polychoric"
    assert bartlett["chi_square"] == pytest.approx(pd.read_csv(REFERENCE / "bartlett.csv")["chi_square"][0], rel=1e-6)
    thresholds = pd.read_csv(processed / "polychoric_thresholds.csv").set_index("item")
    np.testing.assert_allclose(thresholds.to_numpy(), _reference("thresholds_psych.csv").loc[thresholds.index],
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale, message", [({"min": 0, "max": 10}, "at most 8 integer points"),
                                            ({"min": 1, "max": 5, "points": False}, "at most 8 integer points")])
def test_ordinal_level_needs_a_few_integer_points(make_case, scale, message):
    def ordinal_level(p):
        p["survey"]["level"] = "ordinal"
        p["survey"]["scale"] = scale
    with pytest.raises(InputError, match=message):
        make_case(n=20, base="sz", edit_params=ordinal_level)


def test_the_analyses_of_all_items_take_the_correlations_they_are_given(spi):
    """The exploratory factor analysis and omega hierarchical of a given matrix (the polychoric one) are those of
    the same steps on raw answers whose correlations it is: here Pearson's, passed explicitly and computed."""
    from crmlib import reliability

    answers, poly = spi
    pearson = factors.correlation_matrix(answers, False)
    given = factors.exploratory_factor_analysis(answers, 3, correlations=pearson)
    computed = factors.exploratory_factor_analysis(answers, 3)
    pd.testing.assert_frame_equal(given.loadings, computed.loadings)
    omega_given = reliability.omega_hierarchical(answers, 3, correlations=pearson).summary
    pd.testing.assert_frame_equal(omega_given, reliability.omega_hierarchical(answers, 3).summary)
    polychoric = factors.exploratory_factor_analysis(answers, 3, correlations=poly.correlations)
    assert not np.allclose(polychoric.loadings, computed.loadings, atol=0.01)  # the polychoric matrix is analysed
    assert (polychoric.communalities["communality"] > computed.communalities["communality"]).mean() > 0.8
