"""Indicator construction: direction, standardization and descriptive statistics."""
from __future__ import annotations

import pandas as pd

__all__ = ["to_benefit_direction", "standardize", "descriptive_statistics"]


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


def descriptive_statistics(data: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: ``indicator``, ``n``, ``mean``, ``sd`` (ddof=1), ``min``, ``median``, ``max``, ``skewness``.

    Skewness is the adjusted Fisher-Pearson coefficient (pandas ``skew``,
    SPSS's "Skewness").
    """
    return pd.DataFrame({
        "indicator": data.columns,
        "n": data.count().to_numpy(),
        "mean": data.mean().to_numpy(),
        "sd": data.std(ddof=1).to_numpy(),
        "min": data.min().to_numpy(),
        "median": data.median().to_numpy(),
        "max": data.max().to_numpy(),
        "skewness": data.skew().to_numpy(),
    })
