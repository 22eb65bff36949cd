"""Indicator construction: direction and z-scores."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from numpy.testing import assert_allclose

from crmlib import engine, io
from crmlib.indicators import (descriptive_statistics, exact_moments, exact_sums, standardize,
                               standardize_on_engine, to_benefit_direction)

from conftest import engine_or_skip


def test_cost_indicators_change_sign_only():
    data = pd.DataFrame({"deposit": [1.0, 2.0], "overdue": [3.0, 0.0]})
    turned = to_benefit_direction(data, {"deposit": "benefit", "overdue": "cost"})
    assert turned["deposit"].tolist() == [1.0, 2.0]
    assert turned["overdue"].tolist() == [-3.0, -0.0]


def test_standardize_uses_sample_sd_by_default():
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    assert_allclose(standardize(data)["x"], [-1.161895, -0.387298, 0.387298, 1.161895], atol=1e-6)
    assert_allclose(standardize(data, ddof=0)["x"].std(ddof=0), 1.0)


def test_descriptive_statistics(run):
    run.table("t", pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0]}))
    table = descriptive_statistics(run, "t", ["x"]).iloc[0]
    assert (table["n"], table["mean"], table["min"], table["median"], table["max"]) == (4, 4.0, 1.0, 2.5, 10.0)
    assert table["sd"] == np.sqrt(50 / 3)
    # G1 = sqrt(n(n-1))/(n-2) * m3 / m2^1.5, deviations -3, -2, -1, 6: m2 = 50/4, m3 = 180/4
    assert_allclose(table["skewness"], np.sqrt(12) / 2 * 45 / 12.5 ** 1.5, rtol=1e-15)


def _skewed(seed: int = 3) -> pd.DataFrame:
    """Amounts over nine orders of magnitude, a tiny-valued column, counts, and missing values."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"balance": rng.lognormal(9, 2.5, 5000), "ratio": rng.normal(1e-6, 1e-8, 5000),
                         "count": rng.poisson(3, 5000).astype(float), "negative": -rng.lognormal(2, 1, 5000)})
    data.loc[::9, "balance"] = np.nan
    return data.assign(customer_id=[f"C{i:05d}" for i in range(5000)])


def test_exact_moments_equal_pandas_and_do_not_depend_on_the_row_order(run):
    data = _skewed()
    columns = ["balance", "ratio", "count", "negative"]
    run.table("t", data)
    run.table("shuffled", data.sample(frac=1, random_state=1))
    found = exact_moments(run, "t", columns)
    assert found["n"].tolist() == data[columns].count().tolist()
    assert_allclose(found["mean"], data[columns].mean(), rtol=1e-14)
    assert_allclose(found["sd"], data[columns].std(), rtol=1e-13)
    # scipy, not pandas: pandas' skew is 0 for a variance below 1e-14 (it takes it for rounding error), as "ratio"'s
    assert_allclose(found["skewness"], stats.skew(data[columns], bias=False, nan_policy="omit"), rtol=1e-12, atol=1e-13)
    pd.testing.assert_frame_equal(exact_moments(run, "shuffled", columns), found)  # to the last bit
    assert exact_moments(run, "t", ["count"], ddof=0)["sd"].iloc[0] == pytest.approx(data["count"].std(ddof=0), rel=1e-14)


def test_exact_moments_of_short_and_constant_columns(run):
    run.table("t", pd.DataFrame({"two": [1.0, 2.0, np.nan], "same": [5.0, 5.0, 5.0], "none": [np.nan] * 3}))
    found = exact_moments(run, "t", ["two", "same", "none"])
    assert found["n"].tolist() == [2, 3, 0]
    assert np.isnan(found.loc["two", "skewness"]) and found.loc["same", "skewness"] == 0.0
    assert found.loc["same", "sd"] == 0.0 and np.isnan(found.loc["none", "mean"])


def test_z_scores_on_the_engine_equal_pandas_with_costs_reversed(run):
    data = _skewed()
    directions = {"balance": "benefit", "ratio": "benefit", "count": "cost", "negative": "cost"}
    run.table("t", data)
    sql = standardize_on_engine(run, "t", list(directions), directions, ddof=1, keep=("customer_id",))
    z = run.query(sql + " ORDER BY customer_id").set_index("customer_id")
    expected = standardize(to_benefit_direction(data.set_index("customer_id"), directions))
    assert_allclose(z.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.xdist_group("spark")
def test_spark_gives_the_same_moments_and_z_scores_to_the_last_bit(tmp_path, monkeypatch):
    """Descriptives and z-scores on Spark and DuckDB; the z-scores, a table above the Parquet bound (lowered to 1,000
    rows), written by each engine as one Parquet file in the input's order."""
    data = _skewed()
    columns = ["balance", "ratio", "count", "negative"]
    directions = dict.fromkeys(columns, "benefit")
    monkeypatch.setattr(io, "PARQUET_ROWS", 1000)
    written = {}
    for run in (engine_or_skip("spark"), engine.current("duckdb")):
        run.table("t", data.sample(frac=1, random_state=2), numbered=True)
        sums = exact_sums(run, "t", columns)  # as the stages take them: once, for both
        written[run.name] = descriptive_statistics(run, "t", columns, sums)
        sql = standardize_on_engine(run, "t", columns, directions, keep=("customer_id",), sums=sums)
        assert engine.EngineTable(run, sql, order="input_row").write(tmp_path / run.name, "z") is None
        written[f"z_{run.name}"] = io.read_table(tmp_path / run.name, "z")
    pd.testing.assert_frame_equal(written["spark"], written["duckdb"])
    pd.testing.assert_frame_equal(written["z_spark"], written["z_duckdb"])
    assert written["z_duckdb"]["customer_id"].tolist() == data.sample(frac=1, random_state=2)["customer_id"].tolist()
