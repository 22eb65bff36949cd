"""Cleaning: winsorizing, missing values, and the checks before factor analysis."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from crmlib import InputError
from crmlib.cleaning import check_analysable, clean_indicators, handle_missing, winsorize
from crmlib.params import CleaningRules


def test_winsorize_uses_type_7_quantiles_of_observed_values():
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0, np.nan]})
    clipped, bounds = winsorize(data, 0.0, 0.75)
    # type 7 quantile of (1, 2, 3, 4, 100) at 0.75: position 3 -> 4.0
    assert_allclose(bounds["upper_bound"], [4.0])
    assert_allclose(clipped["x"].to_numpy()[:5], [1, 2, 3, 4, 4])
    assert np.isnan(clipped["x"].iloc[5])
    assert bounds["n_clipped_high"].tolist() == [1]


def test_missing_policies():
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": [1.0, 2.0, 3.0, 4.0]})
    assert len(handle_missing(data, "drop")) == 3
    assert handle_missing(data, "median")["a"].iloc[1] == 3.0
    assert_allclose(handle_missing(data, "mean")["a"].iloc[1], 14 / 3)


def test_clean_indicators_log():
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0, 2.0], "b": [5.0, 2.0, 3.0, 4.0, 1.0],
                         "c": [1.0, 0.0, 1.0, 0.0, 2.0]})
    result = clean_indicators(data, CleaningRules(missing="median", winsorize=None))
    log = result.log.set_index("indicator")
    assert log.loc["a", "n_missing"] == 1
    assert log.loc["a", "fill_value"] == 2.5
    assert result.data.loc[1, "a"] == 2.5
    assert (log["n_customers_out"] == 5).all()


def test_constant_indicator_is_named():
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "same": [7.0] * 4})
    with pytest.raises(InputError, match=r"x\.csv, column 'same': indicator 'same' is constant \(7 for every customer\)"):
        check_analysable(data, file="x.csv")


def test_fewer_customers_than_indicators():
    data = pd.DataFrame(np.arange(12.0).reshape(3, 4) ** 2, columns=list("abcd"))
    with pytest.raises(InputError, match="3 customers with complete data but 4 indicators"):
        check_analysable(data)
