"""Churn models: the logistic fit is the maximum-likelihood one, retention and pseudonyms, the shipped cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from crmlib import churn, privacy, survival
from crmlib.errors import InputError
from crmlib.params import ChurnModel


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.normal(size=(3000, 3)) * [1, 5, 0.2] + [0, 10, 1], columns=["a", "b", "c"])
    z = (x - x.mean()) / x.std(ddof=1)
    p = 1 / (1 + np.exp(-(-1.5 + 1.0 * z["a"] - 0.5 * z["b"])))
    return x, pd.Series((rng.random(3000) < p).astype(int))


def test_logistic_coefficients_are_the_maximum_likelihood_estimates(simulated):
    x, y = simulated
    table = churn.logistic_drivers(x, y).set_index("term")
    z = churn.standardize(x)
    reference = LogisticRegression(penalty=None, tol=1e-12, max_iter=10_000).fit(z, y)
    np.testing.assert_allclose(table.loc[["a", "b", "c"], "coefficient"], reference.coef_[0], atol=1e-6)
    assert table.loc["const", "coefficient"] == pytest.approx(reference.intercept_[0], abs=1e-6)
    design = np.column_stack([np.ones(len(z)), z])

    def negative_log_likelihood(beta):
        eta = design @ beta
        return np.sum(np.logaddexp(0, eta) - y * eta)

    optimum = minimize(negative_log_likelihood, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(table["coefficient"], optimum.x, atol=1e-5)
    # Wald standard errors: square roots of the diagonal of the inverse Fisher information
    p = 1 / (1 + np.exp(-design @ table["coefficient"].to_numpy()))
    information = design.T @ (design * (p * (1 - p))[:, None])
    np.testing.assert_allclose(table["std_error"], np.sqrt(np.diag(np.linalg.inv(information))), rtol=1e-8)
    assert table.loc["a", "odds_ratio"] == pytest.approx(np.exp(table.loc["a", "coefficient"]))
    assert table.loc[["a", "b", "c"], "rank"].tolist() == [1, 2, 3]


def test_cross_validation_is_seeded_and_out_of_fold(simulated):
    x, y = simulated
    settings = ChurnModel(features=["a", "b", "c"], folds=3, seed=4, max_iter=20, permutation_repeats=2)
    first, second = churn.cross_validate(x, y, settings), churn.cross_validate(x, y, settings)
    pd.testing.assert_frame_equal(first.predictions, second.predictions)
    assert sorted(first.predictions["fold"].unique()) == [1, 2, 3]
    metrics = churn.discrimination(first.predictions).set_index("model")
    assert metrics.loc["logistic", "roc_auc"] > 0.7
    assert first.importances["feature"].iloc[0] == "a"
    calibration = churn.calibration_table(first.predictions, 10)
    assert calibration.groupby("model")["customers"].sum().tolist() == [3000, 3000]


def test_kaplan_meier_hand_example():
    customers = pd.DataFrame({"tier": ["t"] * 6, "duration": [1, 2, 2, 3, 4, 5], "lost": [1, 0, 1, 1, 0, 1],
                              "customers": 1})
    curve = survival.kaplan_meier(customers, ["t"])
    curve = curve[curve["tier"] == "t"].set_index("month")
    # S(1) = 5/6; at 2: 5 at risk, 1 lost (the censored one is still at risk) -> 5/6 * 4/5; at 3: * 2/3
    np.testing.assert_allclose(curve["retention"].loc[[1, 2, 3, 4, 5]], [5 / 6, 2 / 3, 4 / 9, 4 / 9, 0], atol=1e-15)
    assert curve.loc[2, "at_risk"] == 5
    table = survival.retention_at(survival.kaplan_meier(customers, ["t"]), [2, 3, 9])
    assert table.iloc[0]["retention_3m"] == pytest.approx(4 / 9)
    assert np.isnan(table.iloc[0]["retention_9m"])


def test_kaplan_meier_of_counts_is_that_of_the_customers():
    """The engine counts customers per (tier, duration, lost); weighting each time by its count gives the curve
    and interval of the customer-level fit exactly."""
    from lifelines import KaplanMeierFitter
    rng = np.random.default_rng(4)
    duration, lost = rng.integers(0, 24, 3000), rng.integers(0, 2, 3000)
    counts = pd.DataFrame({"tier": "t", "duration": duration, "lost": lost}).value_counts().rename(
        "customers").reset_index()
    curve = survival.kaplan_meier(counts, ["t"]).query("tier == 'all'")
    direct = KaplanMeierFitter().fit(duration, lost.astype(bool))
    np.testing.assert_array_equal(curve["retention"], direct.survival_function_.iloc[:, 0])
    np.testing.assert_array_equal(curve["ci_lower"], direct.confidence_interval_survival_function_.iloc[:, 0])
    assert curve["at_risk"].tolist() == direct.event_table["at_risk"].tolist()


def test_pseudonyms_are_keyed_hashes(monkeypatch):
    ids = pd.Series(["A00001", "A00002"])
    first = privacy.pseudonymize(ids, "salt-1")
    assert first.str.fullmatch(r"P[0-9a-f]{12}").all() and first.nunique() == 2
    assert not first.equals(privacy.pseudonymize(ids, "salt-2"))
    monkeypatch.setenv(privacy.SALT_ENV, "from-env")
    assert privacy.pseudonym_salt("from-params") == "from-env"
    monkeypatch.delenv(privacy.SALT_ENV)
    with pytest.raises(InputError, match="pseudonymized"):
        privacy.pseudonym_salt(None, file="case.yaml")


def test_real_case_reaches_the_required_discrimination(root):
    """bank_churners: gradient boosting >= 0.98 and logistic regression >= 0.90 five-fold ROC AUC."""
    metrics = pd.read_csv(root / "data" / "processed" / "bank_churners" / "churn_discrimination.csv").set_index("model")
    assert metrics.loc["gradient_boosting", "roc_auc"] >= 0.98
    assert metrics.loc["logistic", "roc_auc"] >= 0.90


def test_synthetic_churn_drivers_are_recovered(root):
    """a_branch: the logistic model finds the declared drivers' signs and order, above every non-driver."""
    from crmlib import load_params

    drivers = load_params(root / "params" / "a_branch.yaml").synthetic_panel.drivers
    table = pd.read_csv(root / "data" / "processed" / "a_branch" / "churn_logistic.csv").set_index("term")
    declared = {name: beta for name, beta in drivers.items() if beta != 0}
    for name, beta in declared.items():
        assert np.sign(table.loc[name, "coefficient"]) == np.sign(beta)
        assert table.loc[name, "ci_lower"] * table.loc[name, "ci_upper"] > 0  # interval excludes 0
    by_effect = sorted(declared, key=lambda name: -abs(declared[name]))
    assert table.loc[by_effect, "rank"].tolist() == list(range(1, len(by_effect) + 1))
