"""Indicator construction: direction and z-scores."""
from __future__ import annotations

import pandas as pd
from numpy.testing import assert_allclose

from crmlib.indicators import descriptive_statistics, standardize, to_benefit_direction


def test_cost_indicators_change_sign_only():
    data = pd.DataFrame({"deposit": [1.0, 2.0], "overdue": [3.0, 0.0]})
    turned = to_benefit_direction(data, {"deposit": "benefit", "overdue": "cost"})
    assert turned["deposit"].tolist() == [1.0, 2.0]
    assert turned["overdue"].tolist() == [-3.0, -0.0]


def test_standardize_uses_sample_sd_by_default():
    data = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    assert_allclose(standardize(data)["x"], [-1.161895, -0.387298, 0.387298, 1.161895], atol=1e-6)
    assert_allclose(standardize(data, ddof=0)["x"].std(ddof=0), 1.0)


def test_descriptive_statistics():
    table = descriptive_statistics(pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0]})).iloc[0]
    assert (table["n"], table["mean"], table["median"], table["max"]) == (4, 4.0, 2.5, 10.0)
    assert_allclose(table["sd"], 4.0824829, atol=1e-7)
    assert table["skewness"] > 0
