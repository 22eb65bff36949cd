"""Retention curves: Kaplan-Meier estimates of the share of customers not yet lost, by tier.

Uses lifelines' :class:`~lifelines.KaplanMeierFitter`: at each event time t,
:math:`\\hat S(t) = \\prod_{t_i \\le t} (1 - d_i / n_i)` with :math:`d_i` losses
and :math:`n_i` customers at risk (customers censored at t are still at risk at
t). Confidence intervals are lifelines' exponential Greenwood ("log-log")
intervals. Time is in months since the customer's start (see
:mod:`crmlib.customer_base`); customers not lost are censored at the end of
their observation. Reference: Kaplan, E. L. and Meier, P. (1958), JASA 53:457-481.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

__all__ = ["survival_counts", "kaplan_meier", "retention_at"]


def survival_counts(engine) -> pd.DataFrame:
    """Customers per (tier, duration, lost) of engine table ``customer_base``: all the Kaplan-Meier estimator
    needs."""
    return engine.query("SELECT tier, CAST(duration AS DOUBLE) AS duration, lost, COUNT(*) AS customers "
                        "FROM customer_base GROUP BY tier, duration, lost ORDER BY tier, duration, lost")


def _fit(counts: pd.DataFrame, level: float) -> KaplanMeierFitter:
    return KaplanMeierFitter(alpha=1 - level).fit(counts["duration"].to_numpy(dtype=float),
                                                  counts["lost"].to_numpy(dtype=bool),
                                                  weights=counts["customers"].to_numpy(dtype=float))


def kaplan_meier(counts: pd.DataFrame, groups: list[str], level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier retention curve of each group of column ``tier`` and of ``all`` customers.

    The estimator needs only the number of customers per (tier, duration, lost), which the engine counts
    (:func:`survival_counts`); lifelines weights each distinct time by that count, which gives the curve and
    interval of the customer-level data exactly.

    Parameters
    ----------
    counts : DataFrame
        Columns ``tier``, ``duration`` (months), ``lost`` (1 = lost, 0 = censored) and ``customers``.
    groups : list of str
        Tier ids, in display order.

    Returns
    -------
    DataFrame
        ``tier``, ``month`` (0 and each distinct duration), ``at_risk``, ``lost``,
        ``censored``, ``retention`` (:math:`\\hat S`), ``ci_lower``, ``ci_upper``.
    """
    parts = []
    for group in groups + ["all"]:
        member = counts if group == "all" else counts[counts["tier"] == group]
        if member.empty:
            continue
        fit = _fit(member, level)
        events = fit.event_table
        interval = fit.confidence_interval_survival_function_
        parts.append(pd.DataFrame({
            "tier": group, "month": events.index.to_numpy(dtype=float), "at_risk": events["at_risk"].to_numpy(dtype=int),
            "lost": events["observed"].to_numpy(dtype=int), "censored": events["censored"].to_numpy(dtype=int),
            "retention": fit.survival_function_.iloc[:, 0].to_numpy(),
            "ci_lower": interval.iloc[:, 0].to_numpy(), "ci_upper": interval.iloc[:, 1].to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


def retention_at(curves: pd.DataFrame, months: list[int]) -> pd.DataFrame:
    """Retention of each tier at the given months, read off the step curves (right-continuous).

    Returns
    -------
    DataFrame
        ``tier``, then ``retention_<m>m`` per month m (NaN beyond the last observed month).
    """
    rows = []
    for tier, curve in curves.groupby("tier", sort=False):
        times = curve["month"].to_numpy()
        values = curve["retention"].to_numpy()
        row = {"tier": tier}
        for month in months:
            position = np.searchsorted(times, month, side="right") - 1
            row[f"retention_{month}m"] = values[position] if month <= times.max() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
