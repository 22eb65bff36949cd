"""A personal-customer base: tiers by assets, the monthly panel, lost customers and assets, migration, life cycle.

Conventions (all stated once here):

- **Tiers** are half-open intervals ``[lower, upper)`` of the tier basis (AUM):
  a customer with exactly 500,000 yuan is in the tier that starts at 500,000.
- **Panel window**: every month from the panel's first to its last month. A
  customer's rows must be consecutive months; its *start tier* is the tier of
  its AUM in its first month (the window's first month, or the month it opened).
- **Closure**: a customer whose rows stop before the window's last month closed
  in the month after its last row. Months after closure count as AUM 0.
- **Loss rule**: a customer is lost in month t when its AUM is below its start
  tier's floor in t and in the k - 1 months after t (k = ``months_below``), or
  when it is below the floor from t until it closes (a closure always counts,
  however few months remain). The loss month is the first month below the floor
  (for a plain closure, the closing month); a customer is lost at most once and
  counts as lost even if its AUM recovers later. The lowest tier's floor is 0,
  so its customers are lost only by closing.
- **Loss reason**: "below floor" when the open months alone meet the rule at the
  loss month (k months below the floor before any closure), else "closed" (the
  account closed, possibly after fewer than k months below the floor).
- **Assets lost**: the AUM of the month before the loss month.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .io import parse_numbers
from .params import Lifecycle, Panel, Tiers

__all__ = [
    "PanelData",
    "check_tier_basis",
    "assign_tiers",
    "tier_floors",
    "read_panel",
    "panel_summary",
    "loss_events",
    "aum_trend",
    "panel_customer_table",
    "monthly_flows",
    "tier_migration",
    "lifecycle_stage",
    "lifecycle_profile",
    "tier_profile",
    "attrition_by_tier",
]


@dataclass(frozen=True)
class PanelData:
    """A monthly panel as customer x month arrays (NaN where a customer has no row)."""

    customers: pd.Index
    months: pd.PeriodIndex
    aum: np.ndarray
    profit: np.ndarray | None
    first: np.ndarray
    last: np.ndarray


def check_tier_basis(values: pd.Series, *, file=None, column=None, rows: pd.Series | None = None) -> None:
    """Tiers cover [0, infinity): a missing, negative or infinite basis value has no tier.

    Raises
    ------
    InputError
        On the first such value, naming the customer, and its file row when ``rows`` (the file row of each
        customer, :attr:`crmlib.io.Measures.rows`) is given.
    """
    x = values.to_numpy(dtype=float)
    bad = np.flatnonzero(~(np.isfinite(x) & (x >= 0)))
    if bad.size:
        position = int(bad[0])
        value = "missing" if np.isnan(x[position]) else f"{x[position]:g}"
        raise InputError(f"customer '{values.index[position]}' has tier basis {value}: tiers need a non-negative "
                         "number (correct the value, or leave the customer out of the file)", file=file,
                         column=column, row=None if rows is None else int(rows[values.index[position]]))


def assign_tiers(values: pd.Series, tiers: Tiers, unit: str | None = None) -> pd.Series:
    """The tier of each value: the last tier whose floor the value reaches (``[lower, upper)``).

    ``unit`` is the unit of ``values`` (the tiers' own unit by default); the bounds are converted to it
    (:meth:`crmlib.params.Tiers.scale_to`). A missing, negative or infinite value is an error
    (:func:`check_tier_basis`), never a tier.
    """
    check_tier_basis(values, column=tiers.basis)
    floors = tier_floors(tiers, unit)
    position = np.searchsorted(floors, values.to_numpy(dtype=float), side="right") - 1
    return pd.Series(np.array([t.id for t in tiers.levels])[position], index=values.index, name="tier")


def tier_floors(tiers: Tiers, unit: str | None = None) -> np.ndarray:
    """The tiers' floors, lowest first, in ``unit`` (the tiers' own unit by default)."""
    return np.array([t.lower for t in tiers.levels], dtype=float) * tiers.scale_to(unit or tiers.unit)


def _tier_floors(tier_ids: np.ndarray, tiers: Tiers, unit: str) -> np.ndarray:
    floor = dict(zip([t.id for t in tiers.levels], tier_floors(tiers, unit)))
    return np.array([floor[t] for t in tier_ids], dtype=float)


def _read_panel_columns(path, panel: Panel) -> pd.DataFrame:
    columns = [panel.id_column, panel.month_column, panel.aum_column]
    if panel.profit_column is not None:
        columns.append(panel.profit_column)
    header = pd.read_csv(path, nrows=0, encoding=panel.encoding).columns
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"column not found (the file has: {', '.join(header)}): write the header as it is in the "
                         "file", file=path, column=missing[0])
    amounts = columns[2:]
    try:  # fast path: plain numbers
        return pd.read_csv(path, usecols=columns, encoding=panel.encoding,
                           dtype={panel.id_column: str, panel.month_column: "category"} | dict.fromkeys(amounts, float))
    except ValueError:  # text amounts (units, separators) or a bad cell: parse as text, naming the cell
        table = pd.read_csv(path, usecols=columns, encoding=panel.encoding, dtype=str, keep_default_na=False)
        for column in amounts:
            table[column] = parse_numbers(table[column], panel.unit, file=path, column=column)
        table[panel.month_column] = table[panel.month_column].astype("category")
        return table


def read_panel(panel: Panel, path, customers: pd.Index) -> PanelData:
    """Read and check a monthly panel (long format) against the customer file's ids.

    Raises
    ------
    InputError
        Naming file, column and row, for: a missing column, an empty or unknown
        customer id, a month that is not a date, a negative or missing AUM, a
        customer-month given twice, a customer with no rows, a gap in a
        customer's months.
    """
    if not path.is_file():
        raise InputError("panel file does not exist: check customer_base.panel.path (relative to the params file)",
                         file=path, key="customer_base.panel.path")
    table = _read_panel_columns(path, panel)
    row_of = lambda position: int(position) + 2  # noqa: E731 - header is file row 1
    ids = table[panel.id_column]
    code = customers.get_indexer(ids)
    if (code < 0).any():
        position = np.flatnonzero(code < 0)[0]
        raise InputError(f"customer '{ids.iloc[position]}' is not in the customer file: add the customer, or remove "
                         "its panel rows", file=path,
                         column=panel.id_column, row=row_of(position))
    labels = table[panel.month_column].cat.categories
    parsed = pd.to_datetime(pd.Series(labels), errors="coerce", format="mixed")
    if parsed.isna().any():
        bad = labels[int(np.flatnonzero(parsed.isna())[0])]
        position = np.flatnonzero((table[panel.month_column] == bad).to_numpy())[0]
        raise InputError(f"'{bad}' is not a month (use YYYY-MM)", file=path, column=panel.month_column,
                         row=row_of(position))
    periods = parsed.dt.to_period("M")
    months = pd.period_range(periods.min(), periods.max(), freq="M")
    month = (periods - months[0]).map(lambda offset: offset.n).to_numpy()[table[panel.month_column].cat.codes]
    aum = table[panel.aum_column].to_numpy(dtype=float)
    bad = np.flatnonzero(~(aum >= 0))
    if bad.size:
        raise InputError("AUM must be a non-negative number: correct the cell (0 for an empty account)", file=path,
                         column=panel.aum_column, row=row_of(bad[0]))
    n, t = len(customers), len(months)
    key = code.astype(np.int64) * t + month
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(np.diff(key[order]) == 0)
    if repeated.size:
        position = order[repeated[0] + 1]
        raise InputError(f"customer '{ids.iloc[position]}' has two rows for {months[month[position]]}: keep one",
                         file=path,
                         row=row_of(position))
    rows = np.bincount(code, minlength=n)
    if (rows == 0).any():
        raise InputError(f"customer '{customers[np.flatnonzero(rows == 0)[0]]}' has no panel rows: add its months, "
                         "or remove the customer from the customer file", file=path,
                         column=panel.id_column)
    first = np.full(n, t, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    np.minimum.at(first, code, month)
    np.maximum.at(last, code, month)
    gap = np.flatnonzero(rows != last - first + 1)
    if gap.size:
        i = gap[0]
        present = set(month[code == i])
        hole = next(m for m in range(first[i], last[i] + 1) if m not in present)
        raise InputError(f"customer '{customers[i]}' has no row for {months[hole]} between its first and last "
                         "month: add that month's row (AUM 0 if the account was empty)", file=path,
                         column=panel.month_column)
    values = np.full((n, t), np.nan)
    values[code, month] = aum
    profit = None
    if panel.profit_column is not None:
        profit = np.full((n, t), np.nan)
        profit[code, month] = table[panel.profit_column].to_numpy(dtype=float)
    return PanelData(customers, months, values, profit, first, last)


def panel_summary(data: PanelData) -> pd.DataFrame:
    """One row describing the panel: months, customers, rows, customers opening and closing within the window."""
    t = len(data.months)
    return pd.DataFrame([{
        "first_month": str(data.months[0]), "last_month": str(data.months[-1]), "months": t,
        "customers": len(data.customers), "rows": int((data.last - data.first + 1).sum()),
        "opened_in_window": int((data.first > 0).sum()), "closed_in_window": int((data.last < t - 1).sum()),
    }])


def _first_run(flags: np.ndarray, k: int, never: int) -> np.ndarray:
    """Per row, the first column where ``k`` consecutive flags start (``never`` if none)."""
    n, t = flags.shape
    if k > t:
        return np.full(n, never)
    cumulative = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(flags, axis=1)], axis=1)
    full_run = (cumulative[:, k:] - cumulative[:, :-k]) == k
    return np.where(full_run.any(axis=1), np.argmax(full_run, axis=1), never)


def loss_events(data: PanelData, floors: np.ndarray, months_below: int) -> pd.DataFrame:
    """Loss month, reason and assets lost of each customer (rule in the module docstring).

    Returns
    -------
    DataFrame
        Indexed by customer: ``lost`` (0/1), ``loss_month_index`` (-1 if not
        lost), ``loss_reason`` ("closed", "below floor" or ""), ``assets_lost``
        (AUM of the month before the loss; 0 if not lost).
    """
    n, t = data.aum.shape
    month = np.arange(t)
    closed = month[None, :] > data.last[:, None]
    below_open = data.aum < floors[:, None]  # NaN (before the first month, after closure) compares False
    below = closed | below_open
    never = t
    run_start = _first_run(below, months_below, never)
    open_run_start = _first_run(below_open, months_below, never)
    closes = data.last < t - 1
    # a closure: the loss starts where the below-floor run that reaches the closure starts
    not_below_before = np.where(~below & (month[None, :] <= data.last[:, None]), month[None, :], -1).max(axis=1)
    closure_start = np.where(closes, not_below_before + 1, never)
    loss = np.minimum(run_start, closure_start)
    lost = loss < never
    previous = np.clip(loss - 1, 0, t - 1)
    assets_lost = np.where(lost, data.aum[np.arange(n), previous], 0.0)
    # the reason is "below floor" when the open months alone meet the rule at the loss month, else "closed"
    reason = np.where(~lost, "", np.where(open_run_start == loss, "below floor", "closed"))
    return pd.DataFrame({"lost": lost.astype(int), "loss_month_index": np.where(lost, loss, -1),
                         "loss_reason": reason, "assets_lost": assets_lost}, index=data.customers)


def aum_trend(data: PanelData, end: np.ndarray, months: int) -> np.ndarray:
    """Relative AUM trend up to month ``end`` of each customer.

    :math:`\\bar A_{[e-m+1, e]} / \\bar A_{[e-2m+1, e-m]} - 1` with m = ``months``:
    the mean AUM of the last m months over the mean of the m months before.
    NaN when the customer has fewer than 2m months up to ``end`` or the
    earlier mean is 0.
    """
    n, t = data.aum.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(np.nan_to_num(data.aum), axis=1)], axis=1)
    rows = np.arange(n)
    start = end - 2 * months + 1
    valid = start >= data.first
    e = np.clip(end + 1, 0, t)
    recent = cumulative[rows, e] - cumulative[rows, np.clip(e - months, 0, t)]
    earlier = cumulative[rows, np.clip(e - months, 0, t)] - cumulative[rows, np.clip(e - 2 * months, 0, t)]
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = recent / earlier - 1.0
    return np.where(valid & (earlier > 0), trend, np.nan)


def panel_customer_table(data: PanelData, tiers: Tiers, panel: Panel, tenure_at_start: pd.Series | None
                         ) -> pd.DataFrame:
    """Per customer: start tier, AUM at start and end, profit, loss, duration, tenure and AUM trend.

    Columns: ``first_month``, ``tier`` (start tier), ``aum_start``, ``aum_end``
    (AUM in the window's last month; 0 after closure), ``profit`` (sum over
    the window, if the panel has profit), ``lost``, ``loss_month``, ``loss_reason``,
    ``assets_lost``, ``duration`` (months from the first month to the loss
    month, or to the end of the window if not lost: the retention time),
    ``tenure`` (months with the bank at the loss month or the window's end:
    ``tenure_at_start`` plus ``duration``), ``aum_trend``
    (:func:`aum_trend` up to the month before the loss, or the last month).
    """
    n, t = data.aum.shape
    rows = np.arange(n)
    aum_start = data.aum[rows, data.first]
    tier = assign_tiers(pd.Series(aum_start, index=data.customers), tiers, panel.unit)
    events = loss_events(data, _tier_floors(tier.to_numpy(), tiers, panel.unit), panel.months_below)
    lost = events["lost"].to_numpy() == 1
    loss = events["loss_month_index"].to_numpy()
    duration = np.where(lost, loss, t) - data.first
    end = np.where(lost, loss - 1, data.last)
    table = pd.DataFrame({
        "first_month": data.months[data.first].astype(str),
        "tier": tier.to_numpy(),
        "aum_start": aum_start,
        "aum_end": np.nan_to_num(data.aum[:, -1]),
    }, index=data.customers)
    if data.profit is not None:
        table["profit"] = np.nansum(data.profit, axis=1)
    table = table.join(events.drop(columns="loss_month_index"))
    table.insert(table.columns.get_loc("loss_reason"), "loss_month",
                 np.where(lost, data.months[np.clip(loss, 0, t - 1)].astype(str), ""))
    start = tenure_at_start.to_numpy(dtype=float) if tenure_at_start is not None else np.zeros(n)
    table["duration"] = duration
    table["tenure"] = start + duration
    table["aum_trend"] = aum_trend(data, end, panel.trend_months)
    return table


def monthly_flows(data: PanelData, customers: pd.DataFrame, tiers: Tiers) -> pd.DataFrame:
    """Customers and assets per start tier and month: the flow of the customer base.

    For month t and tier g (customers' start tiers): ``customers_start`` are
    active at the end of month t-1 (opened before t, not lost by t-1);
    ``new`` opened in t; ``lost`` have loss month t and ``assets_lost`` their
    assets lost; ``loss_rate`` = lost / customers_start; ``net_flow`` = new -
    lost; ``aum`` the AUM in t of customers active in t; ``net_asset_flow`` its
    change from t-1. The first month has no flows (NaN rates).
    """
    n, t = data.aum.shape
    month = np.arange(t)
    lost = customers["lost"].to_numpy() == 1
    loss = np.where(lost, data.first + customers["duration"].to_numpy(), t)
    active = (month[None, :] >= data.first[:, None]) & (month[None, :] < loss[:, None])
    rows = []
    for tier in [level.id for level in tiers.levels]:
        member = customers["tier"].to_numpy() == tier
        in_tier = active[member]
        aum = np.where(in_tier, np.nan_to_num(data.aum[member]), 0.0).sum(axis=0)
        started = in_tier.sum(axis=0)
        new = np.bincount(data.first[member], minlength=t)
        lost_count = np.bincount(loss[member & lost], minlength=t)[:t]
        assets = np.bincount(loss[member & lost], weights=customers["assets_lost"].to_numpy()[member & lost],
                             minlength=t)[:t]
        previous = np.concatenate([[np.nan], started[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = lost_count / previous
        rows.append(pd.DataFrame({
            "tier": tier, "month": data.months.astype(str), "customers_start": previous, "new": new,
            "lost": lost_count, "assets_lost": assets, "loss_rate": rate, "net_flow": new - lost_count,
            "aum": aum, "net_asset_flow": np.concatenate([[np.nan], np.diff(aum)]),
        }))
    table = pd.concat(rows, ignore_index=True)
    first = table["month"] == str(data.months[0])
    table.loc[first, ["new", "lost", "assets_lost", "net_flow"]] = np.nan
    return table


def tier_migration(data: PanelData, tiers: Tiers, start: str | None, end: str | None, unit: str | None = None
                   ) -> pd.DataFrame:
    """Tier migration between two months: counts and row shares.

    Tiers at each date come from that month's AUM (in ``unit``, the panel's). Rows: tier at ``start``, plus
    ``new`` (opened after ``start``); columns: tier at ``end``, plus ``closed``
    (closed by ``end``). A customer opening after ``start`` and closed by
    ``end`` counts in (new, closed).

    Returns
    -------
    DataFrame
        Long table: ``from_tier``, ``to_tier``, ``customers``, ``row_share``
        (share of the from-tier's customers), plus ``from_month``, ``to_month``.
    """
    months = data.months.astype(str)
    for label in (start, end):
        if label is not None and label not in months:
            raise InputError(f"migration month '{label}' is not in the panel ({months[0]} to {months[-1]}): choose "
                             "two months in that range",
                             key="customer_base.panel.migration")
    a = months.get_loc(start) if start is not None else 0
    b = months.get_loc(end) if end is not None else len(months) - 1
    ids = [level.id for level in tiers.levels]
    origin = pd.Series("new", index=data.customers)
    present = ~np.isnan(data.aum[:, a])
    origin[present] = assign_tiers(pd.Series(data.aum[present, a], index=data.customers[present]), tiers, unit)
    target = pd.Series("closed", index=data.customers)
    open_at_end = ~np.isnan(data.aum[:, b])
    target[open_at_end] = assign_tiers(pd.Series(data.aum[open_at_end, b], index=data.customers[open_at_end]), tiers,
                                       unit)
    existed = data.first <= b
    counts = pd.crosstab(origin[existed], target[existed]).reindex(index=ids + ["new"], columns=ids + ["closed"],
                                                                   fill_value=0)
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    table = counts.stack().rename("customers").to_frame().join(shares.stack().rename("row_share"))
    table.index.names = ["from_tier", "to_tier"]
    return table.reset_index().assign(from_month=months[a], to_month=months[b])


def lifecycle_stage(customers: pd.DataFrame, lifecycle: Lifecycle) -> pd.Series:
    """Life-cycle stage of each customer: the first stage, in the params' order, whose conditions all hold.

    Conditions: ``lost`` (the customer's loss flag), ``min_tenure`` <= tenure
    < ``max_tenure``, ``min_trend`` <= trend < ``max_trend``. A missing trend
    (too short a history) fails every trend condition. The last stage has no
    conditions, so every customer gets one.
    """
    tenure = customers[lifecycle.tenure].to_numpy(dtype=float)
    trend = customers[lifecycle.trend].to_numpy(dtype=float)
    lost = customers["lost"].to_numpy() == 1
    stage = np.full(len(customers), None, dtype=object)
    for rule in lifecycle.stages:
        match = stage == None  # noqa: E711 - element-wise on an object array
        if rule.lost is not None:
            match &= lost == rule.lost
        for values, low, high in ((tenure, rule.min_tenure, rule.max_tenure), (trend, rule.min_trend, rule.max_trend)):
            if low is not None:
                match &= values >= low
            if high is not None:
                match &= values < high
        stage[match] = rule.id
    return pd.Series(stage, index=customers.index, name="lifecycle")


def lifecycle_profile(customers: pd.DataFrame, lifecycle: Lifecycle, tiers: Tiers) -> pd.DataFrame:
    """Customers per life-cycle stage and tier.

    Returns
    -------
    DataFrame
        One row per stage, in the params' order: ``stage``, one count column per
        tier, ``customers``, ``share`` (of all customers).
    """
    counts = pd.crosstab(customers["lifecycle"], customers["tier"]).reindex(
        index=[s.id for s in lifecycle.stages], columns=[t.id for t in tiers.levels], fill_value=0)
    counts.columns.name = None
    counts["customers"] = counts.sum(axis=1)
    counts["share"] = counts["customers"] / len(customers)
    return counts.rename_axis("stage").reset_index()


def tier_profile(customers: pd.DataFrame, tiers: Tiers, measures: list[str]) -> pd.DataFrame:
    """Size of each tier and its share of customers and of each measure's total.

    Returns
    -------
    DataFrame
        ``tier``, ``label_en``, ``label_zh``, ``lower``, ``upper``, ``customers``,
        ``customer_share``, then ``<measure>_total`` and ``<measure>_share`` per measure.
    """
    rows = pd.DataFrame([{"tier": t.id, "label_en": t.label_en, "label_zh": t.label_zh, "lower": t.lower,
                          "upper": np.inf if t.upper is None else t.upper} for t in tiers.levels]).set_index("tier")
    groups = customers.groupby("tier", sort=False)
    rows["customers"] = groups.size().reindex(rows.index, fill_value=0)
    rows["customer_share"] = rows["customers"] / len(customers)
    for measure in measures:
        total = groups[measure].sum().reindex(rows.index, fill_value=0.0)
        rows[f"{measure}_total"] = total
        rows[f"{measure}_share"] = total / customers[measure].sum()
    return rows.reset_index()


def attrition_by_tier(customers: pd.DataFrame, tiers: Tiers, assets: str) -> pd.DataFrame:
    """Lost customers and lost assets per tier, with a total row ``all``.

    Returns
    -------
    DataFrame
        ``tier``, ``customers``, ``lost``, ``loss_rate`` (lost / customers),
        ``assets`` (sum of column ``assets``), ``assets_lost``, ``assets_lost_share``
        (assets_lost / assets), ``share_of_all_lost_assets``.
    """
    ids = [t.id for t in tiers.levels]
    groups = customers.groupby("tier", sort=False)
    table = pd.DataFrame({"customers": groups.size(), "lost": groups["lost"].sum(),
                          "assets": groups[assets].sum(), "assets_lost": groups["assets_lost"].sum()}
                         ).reindex(ids, fill_value=0)
    table.loc["all"] = table.sum()
    table["loss_rate"] = table["lost"] / table["customers"]
    table["assets_lost_share"] = table["assets_lost"] / table["assets"]
    table["share_of_all_lost_assets"] = table["assets_lost"] / table.loc["all", "assets_lost"]
    table = table.astype({"customers": int, "lost": int})
    return table.rename_axis("tier").reset_index()[["tier", "customers", "lost", "loss_rate", "assets",
                                                     "assets_lost", "assets_lost_share", "share_of_all_lost_assets"]]
