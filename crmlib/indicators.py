"""Indicator construction: direction, standardization and descriptive statistics.

:func:`descriptive_statistics`, :func:`exact_moments` and :func:`standardize_on_engine` run on an engine table
(:mod:`crmlib.engine`: DuckDB or Spark) and return one row per indicator; :func:`standardize` is their in-memory
counterpart for the resampling in :mod:`crmlib.robustness`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from .engine import exact_quantiles, number, quote

__all__ = ["to_benefit_direction", "standardize", "EXACT_DIGITS", "ExactSums", "exact_sums", "exact_moments",
           "descriptive_statistics", "standardize_on_engine"]

#: Significant digits of the largest value of a column that the exact sums keep (:func:`exact_moments`): each
#: value is scaled to an integer below 10**17, as exact as the double it is.
EXACT_DIGITS = 17
_SPLIT = 10**9  # a scaled value x = a * _SPLIT + b, so that cubes of a and b fit in DECIMAL(38, 0)


def to_benefit_direction(data: pd.DataFrame, directions: dict[str, str]) -> pd.DataFrame:
    """Turn cost indicators into benefit direction by multiplying them by -1.

    Notes
    -----
    For z-scores this is the same as the ``max - x`` transform used in many
    theses (both give ``-z``); unlike the reciprocal ``1/x`` it keeps the
    indicator's correlations up to sign, so factor analysis sees the same data.
    """
    signs = pd.Series({column: -1.0 if directions[column] == "cost" else 1.0 for column in data.columns})
    return data * signs


def standardize(data: pd.DataFrame, ddof: int = 1) -> pd.DataFrame:
    """z-scores per column, :math:`z = (x - \\bar x) / s`, with ``s`` computed with ``ddof``.

    ``ddof=1`` (the sample standard deviation) matches R's ``scale()``, SPSS's
    saved z-scores and psych's factor scores.
    """
    return (data - data.mean()) / data.std(ddof=ddof)


def _scale(largest: float) -> float:
    """The power of ten that brings ``largest`` (a column's largest magnitude) below 10**EXACT_DIGITS."""
    if not np.isfinite(largest) or largest == 0:
        return 1.0
    return 10.0 ** min(300, EXACT_DIGITS - 1 - math.floor(math.log10(largest)))


@dataclass(frozen=True)
class ExactSums:
    """The exact power sums of columns of an engine table (:func:`exact_sums`): per column, the observed values
    ``n``, the sums :math:`S_1, S_2, S_3` of the values scaled by ``scale`` (Python integers), and the ``low`` and
    ``high`` values. :meth:`moments` turns them into moments for any ``ddof``."""

    columns: list[str]
    n: list[int]
    s1: list[int]
    s2: list[int]
    s3: list[int]
    scale: list[float]
    low: list[float]
    high: list[float]

    def moments(self, ddof: int = 1) -> pd.DataFrame:
        """:func:`exact_moments` from these sums."""
        rows = []
        for i, c in enumerate(self.columns):
            n, s1, s2, s3, f = self.n[i], self.s1[i], self.s2[i], self.s3[i], Fraction(self.scale[i])
            if n == 0:
                rows.append({"indicator": c, "n": 0, "mean": np.nan, "sd": np.nan, "skewness": np.nan,
                             "min": np.nan, "max": np.nan})
                continue
            m2 = Fraction(s2) - Fraction(s1 * s1, n)
            m3 = Fraction(s3) - Fraction(3 * s1 * s2, n) + Fraction(2 * s1 ** 3, n * n)
            sd = math.sqrt(m2 / (n - ddof) / (f * f)) if n > ddof else np.nan
            if n < 3:
                skewness = np.nan
            elif m2 == 0:
                skewness = 0.0
            else:
                skewness = float(m3 / n) / float(m2 / n) ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2)
            rows.append({"indicator": c, "n": n, "mean": float(Fraction(s1, n) / f), "sd": sd, "skewness": skewness,
                         "min": self.low[i], "max": self.high[i]})
        return pd.DataFrame(rows).set_index("indicator")


def exact_moments(run, table: str, columns: list[str], ddof: int = 1) -> pd.DataFrame:
    """``n`` (observed values), ``mean``, ``sd`` (``ddof``) and ``skewness`` (adjusted Fisher-Pearson, as pandas'
    ``skew`` and SPSS) of each of ``columns`` of engine table ``table``, from sums the engine computes exactly; with
    the ``min`` and ``max``, which the first of its two queries finds to scale the values.

    Each value x of a column is scaled by a power of ten F to an integer X = round(x F) below 10**17
    (:data:`EXACT_DIGITS` significant digits of the column's largest magnitude: as exact as the double), split as
    X = a 10^9 + b, and the engine sums the products of a and b up to the third power as ``DECIMAL(38, 0)``,
    exactly. Python recombines the sums :math:`S_k = \\sum X^k` in integers and computes the central sums
    :math:`M_2 = S_2 - S_1^2/n`, :math:`M_3 = S_3 - 3 S_1 S_2/n + 2 S_1^3/n^2` as fractions; only the last
    division and root are in floating point:

    .. math:: \\bar x = \\frac{S_1}{nF}, \\quad s = \\frac{1}{F}\\sqrt{\\frac{M_2}{n - ddof}}, \\quad
              G_1 = \\frac{\\sqrt{n(n-1)}}{n-2} \\cdot \\frac{M_3/n}{(M_2/n)^{3/2}}

    The result does not depend on the engine, the order of the rows or the number of threads, and the one-pass
    formulas lose nothing to cancellation. Missing values (NULL) are left out per column. ``sd`` is NaN for
    ``n <= ddof``; ``skewness`` NaN for n < 3 and 0 for a constant column (as pandas). R: ``mean(x)``, ``sd(x)``
    (ddof 1), ``e1071::skewness(x, type = 2)``.
    """
    return exact_sums(run, table, columns).moments(ddof)


def exact_sums(run, table: str, columns: list[str]) -> ExactSums:
    """The sums behind :func:`exact_moments`, from two queries of engine table ``table``: the lowest and highest
    value of each of ``columns`` (which fix its scale), then the exact sums. Computed once, they give the moments
    for every ``ddof`` (:meth:`ExactSums.moments`)."""
    extremes = run.first("SELECT " + ", ".join(f"MIN(CAST({quote(c)} AS DOUBLE)) AS lo{i}, MAX(CAST({quote(c)} AS "
                                               f"DOUBLE)) AS hi{i}" for i, c in enumerate(columns)) + f" FROM {table}")
    low = [np.nan if extremes[f"lo{i}"] is None or pd.isna(extremes[f"lo{i}"]) else float(extremes[f"lo{i}"])
           for i in range(len(columns))]
    high = [np.nan if extremes[f"hi{i}"] is None or pd.isna(extremes[f"hi{i}"]) else float(extremes[f"hi{i}"])
            for i in range(len(columns))]
    scale = [_scale(max(abs(lo), abs(hi))) for lo, hi in zip(low, high)]
    parts, terms = [], []
    for i, c in enumerate(columns):
        x = f"ROUND(CAST({quote(c)} AS DOUBLE) * {number(scale[i])})"
        parts += [f"CAST(FLOOR({x} / {number(_SPLIT)}) AS BIGINT) AS a{i}", f"CAST({x} AS BIGINT) AS x{i}"]
        a, b = f"CAST(a{i} AS DECIMAL(38, 0))", f"CAST(x{i} - a{i} * {_SPLIT} AS DECIMAL(38, 0))"
        terms += [f"COUNT(a{i})", f"SUM({a})", f"SUM({b})", f"SUM({a} * {a})", f"SUM({a} * {b})", f"SUM({b} * {b})",
                  f"SUM({a} * {a} * {a})", f"SUM({a} * {a} * {b})", f"SUM({a} * {b} * {b})", f"SUM({b} * {b} * {b})"]
    sums = run.query("SELECT " + ", ".join(f"CAST({t} AS VARCHAR) AS s{k}" for k, t in enumerate(terms))
                     + f" FROM (SELECT {', '.join(parts)} FROM {table}) AS scaled").iloc[0].tolist()
    k, n, s1, s2, s3 = _SPLIT, [], [], [], []
    for i in range(len(columns)):
        count, a1, b1, a2, ab, b2, a3, a2b, ab2, b3 = (0 if v is None or pd.isna(v) else int(v)
                                                      for v in sums[10 * i:10 * i + 10])
        n.append(count)
        s1.append(a1 * k + b1)
        s2.append(a2 * k * k + 2 * ab * k + b2)
        s3.append(a3 * k ** 3 + 3 * a2b * k * k + 3 * ab2 * k + b3)
    return ExactSums(list(columns), n, s1, s2, s3, scale, low, high)


def descriptive_statistics(run, table: str, columns: list[str], sums: ExactSums | None = None) -> pd.DataFrame:
    """One row per indicator of engine table ``table``: ``indicator``, ``n``, ``mean``, ``sd`` (ddof=1), ``min``,
    ``median``, ``max``, ``skewness``, computed by the engine.

    ``n`` counts the observed values; the moments are exact (:func:`exact_moments`); the median is the exact
    ``quantile_cont(x, 0.5)`` (Spark: ``percentile``; :func:`crmlib.engine.exact_quantiles`), R's ``median``.
    Skewness is the adjusted Fisher-Pearson coefficient (pandas ``skew``, SPSS's "Skewness"). ``sums``: the
    columns' :func:`exact_sums`, when the caller has them.
    """
    moments = (sums or exact_sums(run, table, columns)).moments(1)
    return pd.DataFrame({
        "indicator": columns,
        "n": moments["n"].to_numpy(),
        "mean": moments["mean"].to_numpy(),
        "sd": moments["sd"].to_numpy(),
        "min": moments["min"].to_numpy(),
        "median": exact_quantiles(run, table, columns, [0.5], rows=int(moments["n"].max()))[:, 0],
        "max": moments["max"].to_numpy(),
        "skewness": moments["skewness"].to_numpy(),
    })


def standardize_on_engine(run, table: str, columns: list[str], directions: dict[str, str], ddof: int = 1,
                          keep: tuple[str, ...] = (), sums: ExactSums | None = None) -> str:
    """The SQL of the z-scores of ``columns`` of engine table ``table`` in benefit direction (:func:`standardize`
    of :func:`to_benefit_direction`): :math:`z = \\pm (x - \\bar x) / s`, minus for a cost indicator, with the
    exact mean and sd (``ddof``) of :func:`exact_moments` (from ``sums``, the columns' :func:`exact_sums`, when the
    caller has them); the columns ``keep`` (the customer id) come first."""
    moments = (sums or exact_sums(run, table, columns)).moments(ddof)
    z = [f"{'-' if directions[c] == 'cost' else ''}((CAST({quote(c)} AS DOUBLE) - {number(moments.loc[c, 'mean'])}) / "
         f"{number(moments.loc[c, 'sd'])}) AS {quote(c)}" for c in columns]
    return f"SELECT {', '.join([quote(k) for k in keep] + z)} FROM {table}"
