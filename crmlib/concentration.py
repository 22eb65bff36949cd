"""Concentration of assets and profit: Lorenz curve, Gini coefficient, top-x% shares, bootstrap intervals.

All statistics treat customers as equally weighted units and values as
non-negative amounts (a negative amount is an input error, see
:func:`check_non_negative`). Reference: Cowell, F. (2011), *Measuring
Inequality*, 3rd ed., Oxford University Press, ch. 2 and the technical appendix.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from .params import Bootstrap

__all__ = ["check_non_negative", "lorenz_curve", "gini", "top_share", "concentration_statistics"]


def check_non_negative(values: pd.Series, *, file=None) -> None:
    """Raise :class:`InputError` naming the measure and customer of the first negative or missing value."""
    bad = values.isna() | (values < 0)
    if bad.any():
        customer = values.index[np.flatnonzero(bad.to_numpy())[0]]
        raise InputError(f"concentration needs non-negative amounts; customer '{customer}' has "
                         f"{values[customer]}: correct the amount, or leave the measure out of concentration.measures", file=file, column=str(values.name))


def _lorenz_ordinates(sorted_values: np.ndarray) -> np.ndarray:
    """L(k/n), k = 0..n, of values sorted ascending."""
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_values)])
    return cumulative / cumulative[-1]


def lorenz_curve(values, points: int = 101) -> pd.DataFrame:
    """The Lorenz curve at equally spaced population shares.

    With customers sorted by value ascending, :math:`L(k/n) = \\sum_{i \\le k} x_{(i)} / \\sum_i x_i`;
    between those points the curve is linear (a fractional customer holds
    a fraction of its value), which gives the exact value at any share p.

    Returns
    -------
    DataFrame
        ``customer_share`` (0, 1/(points-1), ..., 1) and ``value_share``.
    """
    x = np.sort(np.asarray(values, dtype=float))
    ordinates = _lorenz_ordinates(x)
    share = np.linspace(0.0, 1.0, points)
    return pd.DataFrame({"customer_share": share,
                         "value_share": np.interp(share, np.arange(len(x) + 1) / len(x), ordinates)})


def _gini_sorted(x: np.ndarray) -> float:
    n = len(x)
    rank = np.arange(1, n + 1)
    return float(np.dot(2 * rank - n - 1, x) / (n * x.sum()))


def gini(values) -> float:
    """Gini coefficient, :math:`G = \\sum_i (2i - n - 1)\\, x_{(i)} / (n \\sum_i x_i)` (values sorted ascending).

    This is twice the area between the diagonal and the empirical Lorenz curve,
    equal to the mean absolute difference over all n² ordered pairs divided by
    twice the mean (no n/(n-1) small-sample factor). It is 0 when all hold the
    same and (n-1)/n when one customer holds everything.
    """
    return _gini_sorted(np.sort(np.asarray(values, dtype=float)))


def _top_share_sorted(x: np.ndarray, percent: float) -> float:
    n = len(x)
    ordinates = _lorenz_ordinates(x)
    return float(1.0 - np.interp(1.0 - percent / 100.0, np.arange(n + 1) / n, ordinates))


def top_share(values, percent: float) -> float:
    """Share of the total held by the top ``percent`` % of customers: :math:`1 - L(1 - x/100)`.

    L is the piecewise-linear Lorenz curve of :func:`lorenz_curve`, so when
    x% of n is not a whole number of customers the boundary customer counts
    with the fraction that falls in the top group.
    """
    return _top_share_sorted(np.sort(np.asarray(values, dtype=float)), percent)


def _statistics(x_sorted: np.ndarray, top_percent: list[float]) -> list[float]:
    return [_gini_sorted(x_sorted)] + [_top_share_sorted(x_sorted, p) for p in top_percent]


def concentration_statistics(data: pd.DataFrame, measures: list[str], top_percent: list[float],
                             bootstrap: Bootstrap) -> pd.DataFrame:
    """Gini and top-x% shares of each measure, with percentile bootstrap confidence intervals.

    Point estimates use every customer. The bootstrap draws ``replicates``
    resamples of customers with replacement (NumPy PCG64, ``bootstrap.seed``),
    the same resample for every measure; with ``sample_size`` it resamples a
    seeded random subset of that many customers instead, so the interval is the
    (wider) one of a base of that size. Interval: the (1 - level)/2 and
    (1 + level)/2 quantiles of the replicates (type 7).

    Returns
    -------
    DataFrame
        ``measure``, ``statistic`` (``gini`` or ``top_<x>pct_share``), ``estimate``,
        ``ci_lower``, ``ci_upper``, ``level``, ``replicates``, ``bootstrap_customers``.
    """
    names = ["gini"] + [f"top_{p:g}pct_share" for p in top_percent]
    rng = np.random.default_rng(bootstrap.seed)
    n = len(data)
    subset = np.arange(n)
    if bootstrap.sample_size is not None and bootstrap.sample_size < n:
        subset = np.sort(rng.choice(n, size=bootstrap.sample_size, replace=False))
    m = len(subset)
    values = data[measures].to_numpy(dtype=float)
    replicates = np.empty((bootstrap.replicates, len(measures), len(names)))
    for b in range(bootstrap.replicates):
        resample = values[subset[rng.integers(0, m, size=m)]]
        for j in range(len(measures)):
            replicates[b, j] = _statistics(np.sort(resample[:, j]), top_percent)
    alpha = (1 - bootstrap.level) / 2
    lower, upper = np.quantile(replicates, [alpha, 1 - alpha], axis=0)
    rows = []
    for j, measure in enumerate(measures):
        estimate = _statistics(np.sort(values[:, j]), top_percent)
        rows += [(measure, name, estimate[s], lower[j, s], upper[j, s]) for s, name in enumerate(names)]
    table = pd.DataFrame(rows, columns=["measure", "statistic", "estimate", "ci_lower", "ci_upper"])
    return table.assign(level=bootstrap.level, replicates=bootstrap.replicates, bootstrap_customers=m)
