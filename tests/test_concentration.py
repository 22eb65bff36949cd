"""Gini, Lorenz and top shares against hand examples and closed forms; the bootstrap is seeded."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from crmlib import concentration, engine
from crmlib.errors import InputError
from crmlib.params import Bootstrap


@pytest.mark.parametrize(("values", "gini"), [([1, 1, 1, 1], 0.0), ([0, 0, 0, 1], 0.75), ([1, 2, 3, 4], 0.25),
                                              ([4, 1, 3, 2], 0.25)])
def test_gini_hand_examples(values, gini):
    assert concentration.gini(values) == pytest.approx(gini, abs=1e-15)


def test_gini_is_the_mean_absolute_difference_over_twice_the_mean():
    x = np.random.default_rng(3).lognormal(size=500)
    assert concentration.gini(x) == pytest.approx(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()), rel=1e-12)


@pytest.mark.parametrize(("percent", "share"), [(25, 0.4), (50, 0.7), (10, 0.16), (100 - 1e-9, 1.0)])
def test_top_share_hand_examples(percent, share):
    # [1, 2, 3, 4]: the top 25% is customer 4 (4/10); the top 10% is 0.4 of customer 4 (1.6/10)
    assert concentration.top_share([3, 1, 4, 2], percent) == pytest.approx(share, abs=1e-9)


def test_lorenz_curve_points():
    curve = concentration.lorenz_curve([1, 2, 3, 4], points=5)
    np.testing.assert_allclose(curve["value_share"], [0, 0.1, 0.3, 0.6, 1.0], atol=1e-15)


def test_closed_forms_on_large_samples():
    """Log-normal(sigma): G = 2 Phi(sigma / sqrt 2) - 1, top-p share = 1 - Phi(z_(1-p) - sigma);
    Pareto(alpha): G = 1 / (2 alpha - 1), top-p share = p^(1 - 1/alpha). n = 10^6; tolerance 0.003."""
    rng = np.random.default_rng(20240101)
    sigma, alpha = 1.7, 3.0
    lognormal = rng.lognormal(0.0, sigma, 1_000_000)
    pareto = rng.pareto(alpha, 1_000_000) + 1.0
    assert concentration.gini(lognormal) == pytest.approx(2 * norm.cdf(sigma / np.sqrt(2)) - 1, abs=0.003)
    assert concentration.top_share(lognormal, 20) == pytest.approx(1 - norm.cdf(norm.ppf(0.8) - sigma), abs=0.003)
    assert concentration.gini(pareto) == pytest.approx(1 / (2 * alpha - 1), abs=0.003)
    assert concentration.top_share(pareto, 20) == pytest.approx(0.2 ** (1 - 1 / alpha), abs=0.003)


def customers(run, **columns) -> None:
    """Register engine table ``customer_base`` with ids c0000, c0001, ... and the given columns."""
    n = len(next(iter(columns.values())))
    run.table("customer_base", pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)], **columns}))


def test_the_engine_computes_the_statistics_of_the_numpy_functions(run):
    """Gini, top shares and the Lorenz curve by the engine (exact cumulative sums) equal the NumPy ones, ties
    included, to 1e-12."""
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.lognormal(10, 1.7, 997), [0.0, 5e4, 5e4]]).round(2)
    customers(run, aum=values)
    (gini, top20, top10), curve = concentration.engine_concentration(run, "aum", [20.0, 10.0])
    assert gini == pytest.approx(concentration.gini(values), abs=1e-12)
    assert top20 == pytest.approx(concentration.top_share(values, 20), abs=1e-12)
    assert top10 == pytest.approx(concentration.top_share(values, 10), abs=1e-12)
    np.testing.assert_allclose(curve["value_share"], concentration.lorenz_curve(values)["value_share"], atol=1e-12)


def test_bootstrap_is_seeded_and_covers_the_estimate():
    run = engine.current()
    customers(run, aum=np.random.default_rng(1).lognormal(0, 1.5, 2000))
    settings = Bootstrap(replicates=200, seed=5)
    estimates = {"aum": concentration.engine_concentration(run, "aum", [20.0])[0]}
    first = concentration.concentration_statistics(run, ["aum"], [20.0], settings, estimates)
    second = concentration.concentration_statistics(run, ["aum"], [20.0], settings, estimates)
    pd.testing.assert_frame_equal(first, second)
    assert first["statistic"].tolist() == ["gini", "top_20pct_share"]
    assert (first["ci_lower"] < first["estimate"]).all() and (first["estimate"] < first["ci_upper"]).all()
    other = concentration.concentration_statistics(run, ["aum"], [20.0], Bootstrap(replicates=200, seed=6),
                                                   estimates)
    assert not np.array_equal(first["ci_lower"], other["ci_lower"])
    sampled = concentration.concentration_statistics(run, ["aum"], [20.0],
                                                     Bootstrap(replicates=200, seed=5, sample_size=500),
                                                     estimates)
    assert sampled["bootstrap_customers"].iloc[0] == 500
    assert (sampled["estimate"] == first["estimate"]).all()  # point estimates use every customer


def test_a_hash_sample_is_the_same_on_every_engine_and_depends_on_the_seed(run):
    """The bootstrap's sample is the customers with the smallest MD5 of '<seed>:<id>' (checked against Python's
    hashlib), another set for another seed; Spark draws the same (test_spark_gives_the_tables_of_the_default_engine)."""
    import hashlib
    ids = [f"c{i:04d}" for i in range(1000)]
    customers(run, aum=np.arange(1000, dtype=float))
    drawn = concentration.bootstrap_values(run, ["aum"], Bootstrap(seed=11, sample_size=200))[:, 0]
    expected = sorted(sorted(ids, key=lambda c: (hashlib.md5(f"11:{c}".encode()).hexdigest(), c))[:200])
    assert drawn.tolist() == [float(ids.index(c)) for c in expected]
    other = concentration.bootstrap_values(run, ["aum"], Bootstrap(seed=12, sample_size=200))[:, 0]
    assert set(other) != set(drawn)


def test_negative_amount_is_an_input_error():
    run = engine.current()
    run.table("customer_base", pd.DataFrame({"customer_id": ["c1", "c2"], "profit": [1.0, -1.0]}))
    with pytest.raises(InputError, match="customer 'c2' has -1.0") as error:
        concentration.check_non_negative(run, "profit", file="f.csv")
    assert error.value.column == "profit"
