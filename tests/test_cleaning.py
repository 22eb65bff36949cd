"""Cleaning: winsorizing, missing values, and the checks before factor analysis, on the engine."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from crmlib import InputError
from crmlib.cleaning import check_analysable, clean_indicators, handle_missing
from crmlib.params import CleaningRules



def test_winsorize_uses_type_7_quantiles_of_observed_values():
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0, np.nan], "y": [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]})
    result = clean_indicators(data, CleaningRules(winsorize=(0.0, 0.75), missing="pairwise"))
    log = result.log.set_index("indicator")
    # type 7 quantile of (1, 2, 3, 4, 100) at 0.75: position 3 -> 4.0; of (1..6): 1 + 0.75 * 5 = 4.75
    assert_allclose(log["upper_bound"], [4.0, 4.75])
    assert_allclose(log["lower_bound"], [1.0, 1.0])
    assert_allclose(result.data["x"].to_numpy()[:5], [1, 2, 3, 4, 4])
    assert np.isnan(result.data["x"].iloc[5])
    assert result.data["y"].tolist() == [4.75, 4.75, 4.0, 3.0, 2.0, 1.0]
    assert log["n_clipped_high"].tolist() == [1, 2]
    assert log["n_clipped_low"].tolist() == [0, 0]
    assert log["n_missing"].tolist() == [1, 0]


def test_missing_policies():
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": [1.0, 2.0, 3.0, 4.0]})
    assert len(handle_missing(data, "drop")) == 3
    assert handle_missing(data, "median")["a"].iloc[1] == 3.0
    assert_allclose(handle_missing(data, "mean")["a"].iloc[1], 14 / 3)
    rules = {policy: CleaningRules(missing=policy, winsorize=None) for policy in ("drop", "median", "mean", "pairwise")}
    assert clean_indicators(data, rules["drop"]).data.index.tolist() == [0, 2, 3]
    assert clean_indicators(data, rules["median"]).data.loc[1, "a"] == 3.0
    assert clean_indicators(data, rules["mean"]).data.loc[1, "a"] == 14 / 3
    assert np.isnan(clean_indicators(data, rules["pairwise"]).data.loc[1, "a"])


def test_clean_indicators_log():
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0, 2.0], "b": [5.0, 2.0, 3.0, 4.0, 1.0],
                         "c": [1.0, 0.0, 1.0, 0.0, 2.0]}, index=pd.Index(list("vwxyz"), name="customer_id"))
    result = clean_indicators(data, CleaningRules(missing="median", winsorize=None))
    log = result.log.set_index("indicator")
    assert log.loc["a", "n_missing"] == 1
    assert log.loc["a", "fill_value"] == 2.5
    assert result.data.loc["w", "a"] == 2.5
    assert result.data.index.tolist() == list("vwxyz")  # the input's ids, in its order
    assert (log["n_customers_out"] == 5).all()
    assert np.isnan(log["lower_bound"]).all() and (log["n_clipped_low"] == 0).all()


def test_the_mean_fill_is_the_exact_mean_of_the_winsorized_values():
    values = np.array([0.1, 0.2, 0.7, 1e9, np.nan] * 40)
    result = clean_indicators(pd.DataFrame({"a": values, "b": np.arange(200.0)}),
                              CleaningRules(missing="mean", winsorize=(0.0, 0.9)))
    observed = np.sort(values[~np.isnan(values)])
    upper = np.quantile(observed, 0.9)  # type 7
    expected = np.clip(observed, None, upper)
    assert result.log.loc[0, "upper_bound"] == upper
    assert_allclose(result.log.loc[0, "fill_value"], expected.mean(), rtol=1e-15)
    assert result.log.loc[0, "n_clipped_high"] == 0  # 1e9 is the 0.9 quantile's neighbour: 40 of 160 at 1e9
    assert result.data["a"].isna().sum() == 0


def test_constant_indicator_is_named():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "same": [7.0] * 4})
    with pytest.raises(InputError, match=r"x\.csv, column 'same': indicator 'same' is constant \(7 for every customer\)"):
        clean_indicators(data, CleaningRules(winsorize=None), file="x.csv")


def test_fewer_customers_than_indicators():
    summary = pd.DataFrame({"count": [3] * 4, "min": [0.0] * 4, "max": [1.0] * 4}, index=list("abcd"))
    with pytest.raises(InputError, match="3 customers with complete data but 4 indicators"):
        check_analysable(summary, 3)
    data = pd.DataFrame(np.arange(12.0).reshape(3, 4) ** 2, columns=list("abcd"))
    with pytest.raises(InputError, match="3 customers with complete data but 4 indicators"):
        clean_indicators(data, CleaningRules(winsorize=None))


def test_an_indicator_missing_too_often_is_named_with_its_count():
    data = pd.DataFrame({"a": [1.0, np.nan, np.nan, np.nan, 2.0], "b": np.arange(5.0)})
    with pytest.raises(InputError, match=r"indicator 'a' is missing for 60% of the customers \(3 of 5\)"):
        clean_indicators(data, CleaningRules(max_missing_share=0.5))
