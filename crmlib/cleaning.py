"""Cleaning stage: outliers, missing values, and checks that factor analysis can run.

Order of operations (stated once, used everywhere):

1. winsorize each indicator at the quantiles of its *observed* values;
2. handle missing values: listwise deletion, or imputation with the median or
   mean of the observed, winsorized values;
3. check the result: no indicator missing for more than ``max_missing_share`` of the customers, no constant
   indicator, more customers than indicators.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .params import CleaningRules

__all__ = ["winsorize", "fill_values", "handle_missing", "check_missing_share", "check_analysable", "CleaningResult", "clean_indicators"]


def winsorize(data: pd.DataFrame, lower: float, upper: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clip each column at quantiles of its observed values.

    Parameters
    ----------
    data : DataFrame
        Indicators, one column each; NaN marks a missing value and is kept.
    lower, upper : float
        Quantile levels, ``0 <= lower < upper <= 1``.

    Returns
    -------
    clipped : DataFrame
        Same shape and labels as ``data``.
    bounds : DataFrame
        One row per indicator: ``indicator``, ``lower_bound``, ``upper_bound``,
        ``n_clipped_low``, ``n_clipped_high``.

    Notes
    -----
    Quantiles use linear interpolation between order statistics
    (``numpy.quantile(method="linear")``, R's ``quantile(type = 7)``), computed
    with missing values left out.
    """
    quantiles = data.quantile([lower, upper], interpolation="linear")  # both in one pass over each column
    low, high = quantiles.iloc[0], quantiles.iloc[1]
    clipped = data.clip(lower=low, upper=high, axis=1)
    bounds = pd.DataFrame({
        "indicator": data.columns,
        "lower_bound": low.to_numpy(),
        "upper_bound": high.to_numpy(),
        "n_clipped_low": (data.lt(low, axis=1)).sum().to_numpy(),
        "n_clipped_high": (data.gt(high, axis=1)).sum().to_numpy(),
    })
    return clipped, bounds


def fill_values(data: pd.DataFrame, policy: str) -> pd.Series:
    """Value that replaces a missing value of each indicator (NaN under ``drop``)."""
    if policy == "median":
        return data.median()
    if policy == "mean":
        return data.mean()
    return pd.Series(np.nan, index=data.columns)


def handle_missing(data: pd.DataFrame, policy: str, fill: pd.Series | None = None) -> pd.DataFrame:
    """Apply the missing-value policy.

    ``drop`` removes every customer with a missing indicator (listwise deletion,
    SPSS's default); ``median`` and ``mean`` replace a missing value with that
    statistic of the indicator's observed values (``fill``, when
    :func:`fill_values` has computed it already); ``pairwise`` keeps the missing
    values, for statistics that use every pair of observed values (psych's default).
    """
    if policy == "drop":
        return data.dropna(axis=0, how="any")
    if policy == "pairwise":
        return data
    return data.fillna(fill_values(data, policy) if fill is None else fill)


def check_missing_share(data: pd.DataFrame, largest: float, *, file=None,
                        declared: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
    """Raise :class:`InputError` for the first indicator missing for more than ``largest`` of the customers."""
    share = data.isna().mean()
    over = share[share > largest]
    if not over.empty:
        column = over.index[0]
        where = f" (declared in {declared[column]})" if column in (declared or {}) else ""
        raise InputError(f"indicator '{column}' is missing for {share[column]:.0%} of the customers ({int(data[column].isna().sum())} "
                         f"of {len(data)}), more than cleaning.max_missing_share = {largest:g}: imputing it would make "
                         f"it a near-constant; remove it from the indicators, or raise the share if that is "
                         f"meant{where}", file=file, column=(headers or {}).get(column, column))


def check_analysable(data: pd.DataFrame, *, file=None, declared: dict[str, str] | None = None,
                     headers: dict[str, str] | None = None) -> None:
    """Raise :class:`InputError` when the indicators cannot be analysed.

    Checks that no indicator is entirely missing or constant (zero variance: no
    correlation, z-score, min-max normalization or entropy weight is defined), and
    that there are more customers than indicators (otherwise the correlation
    matrix is singular). ``declared`` maps an indicator to where the params declare it, ``headers`` to its
    column header in the data file, for the message.
    """
    declared, headers = declared or {}, headers or {}
    for column in data.columns:
        values = data[column].dropna()
        where = f" (declared in {declared[column]})" if column in declared else ""
        if values.empty:
            raise InputError(f"indicator '{column}' has no values after cleaning: check its column, or remove it "
                             f"from the indicators{where}", file=file,
                             column=headers.get(column, column))
        with np.errstate(over="ignore"):
            spread = float(np.std(values.to_numpy(dtype=float)))
        if not np.isfinite(spread):
            raise InputError(f"indicator '{column}''s values are too large to compute a variance (largest: {values.abs().max():g}):"
                             f" a cell is wrong or in the wrong unit; correct it, or declare the indicator's valid_range "
                             f"so that such cells are named{where}", file=file, column=headers.get(column, column))
        if values.min() == values.max():
            raise InputError(f"indicator '{column}' is constant ({float(values.iloc[0]):g} for every customer): zero variance, so it "
                             f"carries no information and cannot be standardized or weighted; remove it from the "
                             f"indicators{where}",
                             file=file, column=headers.get(column, column))
    n, p = data.shape
    if n <= p:
        raise InputError(f"{n} customers with complete data but {p} indicators: "
                         "factor analysis needs more customers than indicators: give more customers (or impute "
                         "missing values: cleaning.missing: median), or fewer indicators", file=file)


@dataclass(frozen=True)
class CleaningResult:
    """Output of :func:`clean_indicators`.

    Attributes
    ----------
    data : DataFrame
        Cleaned indicators in their own units, indexed by customer id.
    log : DataFrame
        One row per indicator: ``indicator``, ``n_missing``, ``lower_bound``,
        ``upper_bound``, ``n_clipped_low``, ``n_clipped_high``, ``fill_value``
        (NaN under listwise deletion), plus ``n_customers_in``, ``n_customers_out``.
    """

    data: pd.DataFrame
    log: pd.DataFrame


def clean_indicators(data: pd.DataFrame, rules: CleaningRules, *, file=None,
                     declared: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> CleaningResult:
    """Winsorize, handle missing values and check the result (see module notes for the order)."""
    if rules.winsorize is None:
        clipped = data
        bounds = pd.DataFrame({"indicator": data.columns, "lower_bound": np.nan, "upper_bound": np.nan,
                               "n_clipped_low": 0, "n_clipped_high": 0})
    else:
        clipped, bounds = winsorize(data, *rules.winsorize)
    check_missing_share(data, rules.max_missing_share, file=file, declared=declared, headers=headers)
    fill = fill_values(clipped, rules.missing)
    cleaned = handle_missing(clipped, rules.missing, fill)
    check_analysable(cleaned, file=file, declared=declared, headers=headers)
    log = bounds.assign(
        n_missing=data.isna().sum().to_numpy(),
        fill_value=fill.to_numpy(),
        n_customers_in=len(data),
        n_customers_out=len(cleaned),
    )[["indicator", "n_missing", "fill_value", "lower_bound", "upper_bound", "n_clipped_low",
       "n_clipped_high", "n_customers_in", "n_customers_out"]]
    return CleaningResult(data=cleaned, log=log)
