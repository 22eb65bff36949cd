"""Reliability statistics against R psych 2.2.9 on the satisfaction survey (250 respondents, 27 items).

Reference files: tests/reference/satisfaction/, written by tests/reference/psych_reliability.R
(``psych::alpha(x)`` for each block of items and for all 27, and omega total from
``psych::fa(x, 1, fm = "minres")``). Closed forms (alpha, item statistics) are compared to 1e-6;
omega, which rests on an iterative minres fit, to 1e-5. Omega hierarchical (``psych::omega``) on the
satisfaction, SZ and bfi questionnaires: tests/reference/<questionnaire>/omega_h_*.csv, written by
tests/reference/psych_omega.R.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from crmlib.errors import InputError
from crmlib.reliability import (alpha_interval, cronbach_alpha, item_total_statistics, omega_hierarchical,
                                omega_total)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "satisfaction"
DATA = pd.read_csv(ROOT / "data" / "raw" / "satisfaction" / "satisfaction.csv")
BLOCKS = {"imag": 5, "expe": 5, "qual": 5, "val": 4, "sat": 4, "loy": 4}
ITEMS = {name: [f"{name}{i}" for i in range(1, k + 1)] for name, k in BLOCKS.items()}
ITEMS["all"] = [item for name in BLOCKS for item in ITEMS[name]]


@pytest.mark.parametrize("block", ITEMS)
def test_alpha_matches_psych(block):
    ours = cronbach_alpha(DATA[ITEMS[block]]).iloc[0]
    theirs = pd.read_csv(REFERENCE / f"alpha_{block}.csv").iloc[0]
    pairs = {"raw_alpha": "raw_alpha", "std_alpha": "std.alpha", "g6_smc": "G6(smc)", "average_r": "average_r",
             "signal_noise": "S/N", "median_r": "median_r", "mean": "mean", "sd": "sd"}
    for mine, psych in pairs.items():
        assert_allclose(ours[mine], theirs[psych], rtol=0, atol=1e-6, err_msg=mine)


@pytest.mark.parametrize("block", ITEMS)
def test_item_statistics_match_psych(block):
    ours = item_total_statistics(DATA[ITEMS[block]]).set_index("item")
    theirs = pd.read_csv(REFERENCE / f"items_{block}.csv").set_index("item")
    assert list(ours.index) == list(theirs.index)
    pairs = {"n": "n", "mean": "mean", "sd": "sd", "raw_r": "raw.r", "std_r": "std.r", "r_cor": "r.cor",
             "r_drop": "r.drop", "alpha_if_deleted": "alpha_if_deleted",
             "std_alpha_if_deleted": "std_alpha_if_deleted"}
    for mine, psych in pairs.items():
        assert_allclose(ours[mine], theirs[psych], rtol=0, atol=1e-6, err_msg=mine)


@pytest.mark.parametrize("block", ITEMS)
def test_omega_total_matches_psych_one_factor_minres(block):
    ours = omega_total(DATA[ITEMS[block]]).iloc[0]
    theirs = pd.read_csv(REFERENCE / f"omega_{block}.csv").iloc[0]
    for column in ["omega_total", "sum_loadings", "sum_uniquenesses"]:
        assert_allclose(ours[column], theirs[column], rtol=0, atol=1e-5, err_msg=column)


def test_alpha_by_hand():
    # Two parallel items with correlation r: standardized alpha = 2r / (1 + r).
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [2.0, 1.0, 4.0, 3.0, 5.0]})
    r = data.corr().iloc[0, 1]
    assert_allclose(cronbach_alpha(data)["std_alpha"].iloc[0], 2 * r / (1 + r))


def test_the_alpha_interval_covers_the_true_alpha_as_often_as_it_says():
    """200 simulated scales of 5 parallel items (inter-item correlation 0.4, so alpha = 2 / 2.6 = 0.769) of 150
    respondents each: the 95% bootstrap interval (400 replicates) covers the true alpha in 88-99% of them (the
    percentile bootstrap of alpha runs a little short of its level), and is narrower for more respondents."""
    rng = np.random.default_rng(11)
    truth, covered = 2 / 2.6, 0
    for scale in range(200):
        factor = rng.normal(size=(150, 1))
        items = pd.DataFrame(factor + rng.normal(scale=np.sqrt(1.5), size=(150, 5)))  # var(e) = 1.5: r = 0.4
        low, high = alpha_interval(items, replicates=400, confidence=0.95, seed=scale)
        covered += low <= truth <= high
    assert 0.88 <= covered / 200 <= 0.99
    wide = alpha_interval(items.iloc[:50], replicates=400, confidence=0.95, seed=1)
    narrow = alpha_interval(items, replicates=400, confidence=0.95, seed=1)
    assert wide[1] - wide[0] > narrow[1] - narrow[0]


def test_the_alpha_interval_of_a_seed_is_the_same_numbers_and_brackets_alpha():
    items = DATA[[f"imag{j}" for j in range(1, 6)]]
    first = alpha_interval(items, replicates=1000, confidence=0.95, seed=5)
    assert first == alpha_interval(items, replicates=1000, confidence=0.95, seed=5)
    assert first != alpha_interval(items, replicates=1000, confidence=0.95, seed=6)
    assert first[0] < cronbach_alpha(items)["raw_alpha"].iloc[0] < first[1]


def questionnaire(name: str) -> tuple[pd.DataFrame, int, bool, str]:
    """The items, the number of group factors, whether answers are missing (pairwise) and the reference files'
    prefix, as tests/reference/psych_omega.R reads them."""
    if name == "satisfaction":
        return DATA[ITEMS["all"]], 6, False, "omega_h"
    if name == "satisfaction_two":  # image and loyalty: two group factors, psych's option "equal"
        return DATA[ITEMS["imag"] + ITEMS["loy"]], 2, False, "omega_h_two"
    if name == "sz":
        return pd.read_csv(ROOT / "tests" / "reference" / "sz" / "input.csv").iloc[:, 1:], 4, False, "omega_h"
    items = pd.read_csv(ROOT / "data" / "raw" / "bfi" / "bfi.csv").iloc[:, 1:26]
    reversed_items = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
    items[reversed_items] = 7 - items[reversed_items]
    return items, 5, True, "omega_h"


@pytest.mark.parametrize("name", ["satisfaction", "satisfaction_two", "sz", "bfi"])
def test_omega_hierarchical_matches_psychs_schmid_leiman_converged_tightly(name):
    """psych::omega(x, k)'s steps with minres and oblimin converged tightly (psych_omega.R): omega_h, omega total,
    omega limit, alpha, ECV, the Schmid-Leiman loadings and the group omegas to 1e-6; psych's own omega(), stopped
    at R's default tolerances, to 1e-4. bfi: pairwise correlations of the answers with their missing values; two
    group factors: the general loadings of psych's option "equal"."""
    items, k, pairwise, prefix = questionnaire(name)
    ours = omega_hierarchical(items, k, pairwise)
    reference = ROOT / "tests" / "reference" / name.removesuffix("_two")
    tight = pd.read_csv(reference / f"{prefix}_tight.csv").iloc[0]
    summary = ours.summary.iloc[0]
    for column in ("omega_h", "omega_total", "omega_limit", "alpha", "ecv"):
        assert summary[column] == pytest.approx(tight[column], abs=1e-6), column
    assert (summary["n_items"], summary["n_factors"], summary["items_reversed"]) == \
        (tight["n_items"], k, tight["items_reversed"])
    loadings = pd.read_csv(reference / f"{prefix}_loadings.csv")
    assert_allclose(ours.loadings.iloc[:, 1:].to_numpy(), loadings.iloc[:, 1:].to_numpy(), rtol=0, atol=1e-6)
    groups = pd.read_csv(reference / f"{prefix}_groups.csv")
    assert_allclose(ours.groups.iloc[:, 1:].to_numpy(dtype=float), groups.iloc[:, 1:].to_numpy(dtype=float),
                    rtol=0, atol=1e-6)
    psych = pd.read_csv(reference / f"{prefix}_psych.csv").iloc[0]
    for column in ("omega_h", "omega_total", "omega_limit", "alpha", "ecv"):
        assert summary[column] == pytest.approx(psych[column], abs=1e-4), column


def test_omega_hierarchical_needs_two_group_factors():
    with pytest.raises(InputError, match="at least two group factors"):
        omega_hierarchical(DATA[ITEMS["imag"]], 1)
