"""Concentration of assets and profit: Lorenz curve, Gini coefficient, top-x% shares, bootstrap intervals.

All statistics treat customers as equally weighted units and values as
non-negative amounts (a negative amount is an input error, see
:func:`check_non_negative`). The point estimates on the whole customer base are
computed by the engine (:func:`engine_concentration`:
the cumulative sums of the sorted values at the ranks needed, exact, so every
engine gives the same figures); the bootstrap resamples customers in memory
and computes each replicate with the NumPy functions below, which the tests
hold equal to the engine's. Reference: Cowell, F. (2011), *Measuring
Inequality*, 3rd ed., Oxford University Press, ch. 2 and the technical appendix.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import EXACT, hash_order, quote
from .errors import InputError
from .params import Bootstrap

__all__ = ["check_non_negative", "lorenz_curve", "gini", "top_share", "concentration_statistics",
           "engine_concentration", "bootstrap_values"]


def check_non_negative(engine, measure: str, *, file=None, table: str = "customer_base") -> None:
    """Raise :class:`InputError` naming the measure and customer (the first by id) of the first negative or
    missing value of column ``measure`` of engine table ``table``."""
    bad = engine.query(f"SELECT customer_id, CAST({quote(measure)} AS DOUBLE) AS value FROM {table} "
                       f"WHERE {quote(measure)} IS NULL OR {quote(measure)} < 0 ORDER BY customer_id LIMIT 1")
    if not bad.empty:
        raise InputError(f"concentration needs non-negative amounts; customer '{bad['customer_id'].iloc[0]}' has "
                         f"{bad['value'].iloc[0]}: correct the amount, or leave the measure out of "
                         "concentration.measures", file=file, column=measure)


def _cumulative_sums(engine, measure: str, ranks: list[int], n: int, table: str
                     ) -> tuple[dict[int, float], float]:
    """C(k), the exact sum of the k smallest values, at each rank k (ties ordered by customer id), and the Gini's
    numerator (n + 1) T - 2 sum_k C(k), computed exactly. The ranked values are materialized once (one sort)."""
    value = f"CAST({quote(measure)} AS {EXACT})"
    engine.create("ranked_values", f"""
        SELECT ROW_NUMBER() OVER (ORDER BY {quote(measure)}, customer_id) AS k,
               SUM({value}) OVER (ORDER BY {quote(measure)}, customer_id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c,
               {value} AS x
        FROM {table}""")
    listed = ", ".join(str(k) for k in ranks) or "0"
    cumulative = engine.query(f"""
        SELECT k, CAST(c AS DOUBLE) AS c, 0 AS whole FROM ranked_values WHERE k IN ({listed})
        UNION ALL
        SELECT 0, CAST({n + 1} * SUM(x) - 2 * SUM(c) AS DOUBLE), 1 FROM ranked_values""")
    numerator = cumulative[cumulative["whole"] == 1]["c"].iloc[0]
    points = cumulative[cumulative["whole"] == 0]
    sums = dict(zip(points["k"].astype(int), points["c"].astype(float)))
    return sums | {0: 0.0}, float(numerator)


def _bracketing(shares: np.ndarray, n: int) -> list[int]:
    """The ranks k whose shares k/n bracket each share (with a margin of one for rounding)."""
    below = np.floor(shares * n).astype(int)
    return sorted({int(k) for f in below for k in (f - 1, f, f + 1, f + 2) if 0 < k <= n} | {n})


def _lorenz_at(shares: np.ndarray, sums: dict[int, float], n: int) -> np.ndarray:
    ranks = np.array(sorted(sums))
    return np.interp(shares, ranks / n, np.array([sums[k] for k in ranks]) / sums[n])


def engine_concentration(engine, measure: str, top_percent: list[float], points: int = 101,
                         table: str = "customer_base") -> tuple[list[float], pd.DataFrame]:
    r"""Gini and the top-x% shares (:func:`gini`, :func:`top_share`), and the Lorenz curve (:func:`lorenz_curve`),
    of column ``measure`` of engine table ``table``, computed by the engine from one sort of the values.

    With C(k) the sum of the k smallest values and T = C(n),
    :math:`\sum_i i\, x_{(i)} = (n + 1) T - \sum_{k=1}^{n} C(k)`, so
    :math:`G = ((n + 1) T - 2 \sum_k C(k)) / (n T)`; the Lorenz curve and the top shares interpolate C(k)/T
    linearly between the ranks around each share.
    """
    n = int(engine.query(f"SELECT COUNT(*) AS n FROM {table}")["n"].iloc[0])
    share = np.linspace(0.0, 1.0, points)
    tops = np.array([1.0 - p / 100.0 for p in top_percent])
    sums, numerator = _cumulative_sums(engine, measure, _bracketing(np.concatenate([share, tops]), n), n, table)
    statistics = [float(numerator / (n * sums[n]))] + [float(1.0 - v) for v in _lorenz_at(tops, sums, n)]
    return statistics, pd.DataFrame({"customer_share": share, "value_share": _lorenz_at(share, sums, n)})


def bootstrap_values(engine, measures: list[str], bootstrap: Bootstrap, table: str = "customer_base") -> np.ndarray:
    """The values the bootstrap resamples: every customer's, or with ``bootstrap.sample_size`` those of a sample
    drawn by hash (:func:`crmlib.engine.hash_order`), in customer-id order."""
    columns = ", ".join(f"CAST({quote(m)} AS DOUBLE) AS {quote(m)}" for m in measures)
    source = table
    if bootstrap.sample_size is not None:
        source = (f"(SELECT * FROM {table} ORDER BY {hash_order(bootstrap.seed, 'customer_id')} "
                  f"LIMIT {bootstrap.sample_size})")
    return engine.query(f"SELECT {columns} FROM {source} s ORDER BY customer_id").to_numpy(dtype=float)


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


def concentration_statistics(engine, measures: list[str], top_percent: list[float],
                             bootstrap: Bootstrap, estimates: dict[str, list[float]],
                             table: str = "customer_base") -> pd.DataFrame:
    """Gini and top-x% shares of each measure of engine table ``table``, with percentile bootstrap confidence
    intervals.

    Point estimates use every customer: ``estimates`` maps each measure to its Gini and top shares
    (:func:`engine_concentration`). The bootstrap draws ``replicates``
    resamples of customers with replacement (NumPy PCG64, ``bootstrap.seed``) from the customers in id order,
    the same resample for every measure; with ``sample_size`` it resamples a
    sample of that many customers drawn by hash instead (:func:`bootstrap_values`), so the interval is the
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
    values = bootstrap_values(engine, measures, bootstrap, table)
    m = len(values)
    replicates = np.empty((bootstrap.replicates, len(measures), len(names)))
    for b in range(bootstrap.replicates):
        resample = values[rng.integers(0, m, size=m)]
        for j in range(len(measures)):
            replicates[b, j] = _statistics(np.sort(resample[:, j]), top_percent)
    alpha = (1 - bootstrap.level) / 2
    lower, upper = np.quantile(replicates, [alpha, 1 - alpha], axis=0)
    rows = []
    for j, measure in enumerate(measures):
        estimate = estimates[measure]
        rows += [(measure, name, estimate[s], lower[j, s], upper[j, s]) for s, name in enumerate(names)]
    table = pd.DataFrame(rows, columns=["measure", "statistic", "estimate", "ci_lower", "ci_upper"])
    return table.assign(level=bootstrap.level, replicates=bootstrap.replicates, bootstrap_customers=m)
