"""Pairwise deletion (``survey.missing: pairwise``, psych's default) on psych's ``bfi`` items with their missing
answers, against R psych 2.2.9 on the same file (tests/reference/bfi, written by psych_reliability.R)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from crmlib import factors, load_params, reliability

from conftest import run_stages

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "bfi"
REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
BLOCKS = {"agreeableness": "A", "conscientiousness": "C", "extraversion": "E", "neuroticism": "N", "openness": "O"}


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    items = pd.read_csv(ROOT / "data" / "raw" / "bfi" / "bfi.csv", index_col="id").iloc[:, :25]
    items[REVERSED] = 7 - items[REVERSED]
    return items


def block(answers, name):
    return answers if name == "overall" else answers[[f"{BLOCKS[name]}{i}" for i in range(1, 6)]]


@pytest.mark.parametrize("name", [*BLOCKS, "overall"])
def test_alpha_and_item_statistics_match_psych_under_pairwise_deletion(answers, name):
    """psych::alpha on the items with their missing answers: pairwise covariances, their cov2cor correlations,
    the scale score the mean of the answered items; every figure to 1e-6 (found 1.2e-14)."""
    total = reliability.cronbach_alpha(block(answers, name), pairwise=True).iloc[0]
    theirs = pd.read_csv(REFERENCE / f"alpha_{name}.csv").iloc[0]
    for ours, psych in [("raw_alpha", "raw_alpha"), ("std_alpha", "std.alpha"), ("g6_smc", "G6(smc)"),
                        ("average_r", "average_r"), ("signal_noise", "S/N"), ("median_r", "median_r"),
                        ("mean", "mean"), ("sd", "sd")]:
        assert total[ours] == pytest.approx(theirs[psych], abs=1e-6), ours
    items = reliability.item_total_statistics(block(answers, name), pairwise=True)
    theirs = pd.read_csv(REFERENCE / f"items_{name}.csv")
    assert items["n"].tolist() == theirs["n"].tolist()
    for ours, psych in [("raw_r", "raw.r"), ("std_r", "std.r"), ("r_cor", "r.cor"), ("r_drop", "r.drop"),
                        ("mean", "mean"), ("sd", "sd"), ("alpha_if_deleted", "alpha_if_deleted"),
                        ("std_alpha_if_deleted", "std_alpha_if_deleted")]:
        assert_allclose(items[ours], theirs[psych], rtol=0, atol=1e-6, err_msg=ours)
    if name != "overall":
        omega = reliability.omega_total(block(answers, name), pairwise=True)["omega_total"].iloc[0]
        assert omega == pytest.approx(pd.read_csv(REFERENCE / f"omega_{name}.csv").iloc[0, 0], abs=1e-6)


def test_kmo_bartlett_pair_counts_and_the_factor_analysis_match_psych(answers):
    """KMO(x) and cortest.bartlett(x) from the pairwise correlations (Bartlett's n: all 2,800 rows, as psych counts
    them), pairwiseCount(x) exactly, and fa(x, 5, fm = "pa", rotate = "oblimin") converged tightly (1e-6; found
    2.3e-13)."""
    corr = factors.correlation_matrix(answers, pairwise=True)
    assert_allclose(factors.kmo(corr)["msa"], pd.read_csv(REFERENCE / "kmo_all.csv")["msa"], rtol=0, atol=1e-6)
    ours = factors.bartlett_sphericity(corr, len(answers)).iloc[0]
    theirs = pd.read_csv(REFERENCE / "bartlett_all.csv").iloc[0]
    assert ours["chi_square"] == pytest.approx(theirs["chi_square"], rel=1e-9)
    assert ours["log_p_value"] == pytest.approx(theirs["log_p_value"], rel=1e-9)
    counts = pd.read_csv(REFERENCE / "pair_counts.csv").set_index("item")
    assert (factors.pair_counts(answers).to_numpy() == counts.to_numpy()).all()
    assert counts.to_numpy().min() < len(answers)  # some pairs are short of the full sample
    efa = factors.exploratory_factor_analysis(answers, 5, extraction="pa", rotation="oblimin", pairwise=True)
    loadings = pd.read_csv(REFERENCE / "efa_pa_oblimin_loadings.csv").set_index("item")
    phi = pd.read_csv(REFERENCE / "efa_pa_oblimin_phi.csv").set_index("factor")
    assert_allclose(efa.loadings.to_numpy(), loadings.to_numpy(), rtol=0, atol=1e-6)
    assert_allclose(efa.factor_correlations.to_numpy(), phi.to_numpy(), rtol=0, atol=1e-6)


def test_pairwise_covariances_of_bootstrap_samples_are_rs_cov_use_pairwise(answers):
    """The batched covariances behind the alpha bootstrap equal pandas' pairwise covariances (R's cov(x, use =
    "pairwise")) sample by sample, and a fixed seed gives the same interval, missing answers included."""
    x = block(answers, "agreeableness").to_numpy(dtype=float)
    rows = np.random.default_rng(5).integers(0, len(x), size=(3, len(x)))
    batched = reliability._pairwise_covariances(x[rows])
    for sample, cov in zip(rows, batched):
        assert_allclose(cov, pd.DataFrame(x[sample]).cov().to_numpy(), rtol=1e-12, atol=1e-14)
    interval = reliability.alpha_interval(block(answers, "agreeableness"), replicates=200, confidence=0.95, seed=7,
                                          pairwise=True)
    assert interval == reliability.alpha_interval(block(answers, "agreeableness"), replicates=200, confidence=0.95,
                                                  seed=7, pairwise=True)
    alpha = reliability.cronbach_alpha(block(answers, "agreeableness"), pairwise=True)["raw_alpha"].iloc[0]
    assert interval[0] < alpha < interval[1]


def test_the_bfi_case_keeps_every_respondent_and_reports_pairwise_figures(tmp_path):
    """The case runs the survey stages under pairwise deletion: all 2,800 respondents kept, the reliability table
    equal to psych's alpha per trait, the respondents per pair of items written, and the methods sentence says
    how the missing answers entered every statistic."""
    from crmlib.families.survey import display
    params = load_params(ROOT / "params" / "bfi.yaml")
    run_stages(params, tmp_path)
    assert pd.read_csv(tmp_path / "respondents.csv")["n_out"].iloc[0] == 2800
    table = pd.read_csv(tmp_path / "reliability.csv").set_index("dimension")
    for name in [*BLOCKS, "overall"]:
        assert table.loc[name, "raw_alpha"] == pytest.approx(
            pd.read_csv(REFERENCE / f"alpha_{name}.csv")["raw_alpha"].iloc[0], abs=1e-6)
    counts = pd.read_csv(tmp_path / "item_pair_counts.csv").set_index("item")
    assert counts.loc["A1", "A1"] == 2784 and counts.loc["A1", "A2"] < 2784
    sentence = display.missing_text({"respondents": pd.read_csv(tmp_path / "respondents.csv")}, params)
    assert sentence.startswith("Missing answers: pairwise deletion (psych's default)") and "all 2,800" in sentence
