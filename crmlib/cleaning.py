"""Cleaning stage: outliers, missing values, and checks that factor analysis can run.

Order of operations (stated once, used everywhere):

1. winsorize each indicator at the quantiles of its *observed* values;
2. handle missing values: listwise deletion, or imputation with the median or
   mean of the observed, winsorized values;
3. check the result: no indicator missing for more than ``max_missing_share`` of the customers, no constant
   indicator, more customers than indicators.

The cleaning runs on an engine (:mod:`crmlib.engine`: the run's, or DuckDB in this process for a table in
memory), with exact quantiles and exact sums, so it gives the same values on every engine and every run.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import engine, indicators
from .engine import number, quote
from .errors import InputError
from .params import CleaningRules

__all__ = ["handle_missing", "check_missing_share", "check_analysable", "CleaningResult", "clean_indicators",
           "clean_on_engine"]


def handle_missing(data: pd.DataFrame, policy: str, fill: pd.Series | None = None) -> pd.DataFrame:
    """Apply the missing-value policy to a table in memory (questionnaire answers, :mod:`crmlib.survey`).

    ``drop`` removes every row with a missing value (listwise deletion, SPSS's default); ``median`` and ``mean``
    replace a missing value with that statistic of the column's observed values (``fill``, when computed
    already); ``pairwise`` keeps the missing values, for statistics that use every pair of observed values
    (psych's default).
    """
    if policy == "drop":
        return data.dropna(axis=0, how="any")
    if policy == "pairwise":
        return data
    if fill is None:
        fill = data.median() if policy == "median" else data.mean()
    return data.fillna(fill)


def check_missing_share(missing: pd.Series, n: int, largest: float, *, file=None,
                        declared: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
    """Raise :class:`InputError` for the first indicator missing for more than ``largest`` of the ``n``
    customers (``missing``: the missing cells per indicator)."""
    share = missing / n
    over = share[share > largest]
    if not over.empty:
        column = over.index[0]
        where = f" (declared in {declared[column]})" if column in (declared or {}) else ""
        raise InputError(f"indicator '{column}' is missing for {share[column]:.0%} of the customers ({int(missing[column])} "
                         f"of {n}), more than cleaning.max_missing_share = {largest:g}: imputing it would make "
                         f"it a near-constant; remove it from the indicators, or raise the share if that is "
                         f"meant{where}", file=file, column=(headers or {}).get(column, column))


def check_analysable(summary: pd.DataFrame, n: int, *, file=None, declared: dict[str, str] | None = None,
                     headers: dict[str, str] | None = None) -> None:
    """Raise :class:`InputError` when the cleaned indicators cannot be analysed.

    ``summary`` has one row per indicator (its index): ``count`` (observed values), ``min`` and ``max``; ``n``
    counts the customers. Checks that no indicator is entirely missing, too large for a variance in floating
    point (the largest magnitude squared, times the count, overflows) or constant (zero variance: no
    correlation, z-score, min-max normalization or entropy weight is defined), and that there are more
    customers than indicators (otherwise the correlation matrix is singular). ``declared`` maps an indicator to
    where the params declare it, ``headers`` to its column header in the data file, for the message.
    """
    declared, headers = declared or {}, headers or {}
    for column, row in summary.iterrows():
        where = f" (declared in {declared[column]})" if column in declared else ""
        if row["count"] == 0:
            raise InputError(f"indicator '{column}' has no values after cleaning: check its column, or remove it "
                             f"from the indicators{where}", file=file,
                             column=headers.get(column, column))
        largest = max(abs(row["min"]), abs(row["max"]))
        with np.errstate(over="ignore"):
            finite = np.isfinite(np.float64(largest) * np.float64(largest) * np.float64(row["count"]))
        if not finite:
            raise InputError(f"indicator '{column}''s values are too large to compute a variance (largest: {largest:g}):"
                             f" a cell is wrong or in the wrong unit; correct it, or declare the indicator's valid_range "
                             f"so that such cells are named{where}", file=file, column=headers.get(column, column))
        if row["min"] == row["max"]:
            raise InputError(f"indicator '{column}' is constant ({float(row['min']):g} for every customer): zero variance, so it "
                             f"carries no information and cannot be standardized or weighted; remove it from the "
                             f"indicators{where}",
                             file=file, column=headers.get(column, column))
    if n <= len(summary):
        raise InputError(f"{n} customers with complete data but {len(summary)} indicators: "
                         "factor analysis needs more customers than indicators: give more customers (or impute "
                         "missing values: cleaning.missing: median), or fewer indicators", file=file)


@dataclass(frozen=True)
class CleaningResult:
    """Output of :func:`clean_indicators`.

    Attributes
    ----------
    data : DataFrame
        Cleaned indicators in their own units, indexed as the input, in its order.
    log : DataFrame
        One row per indicator: ``indicator``, ``n_missing``, ``fill_value`` (NaN under listwise or pairwise
        deletion), ``lower_bound``, ``upper_bound`` (NaN without winsorizing), ``n_clipped_low``,
        ``n_clipped_high``, plus ``n_customers_in``, ``n_customers_out``.
    """

    data: pd.DataFrame
    log: pd.DataFrame


def _values(row: dict, key: str, count: int) -> np.ndarray:
    return np.array([np.nan if row[f"{key}{i}"] is None or pd.isna(row[f"{key}{i}"]) else float(row[f"{key}{i}"])
                     for i in range(count)])


def clean_indicators(data: pd.DataFrame, rules: CleaningRules, *, file=None, declared: dict[str, str] | None = None,
                     headers: dict[str, str] | None = None) -> CleaningResult:
    """:func:`clean_on_engine` of a table in memory (indicators as columns), on DuckDB in this process; the cleaned
    indicators come back indexed as ``data``, in its order."""
    run = engine.DuckDBEngine(threads=1)
    run.table("raw_indicators", pd.DataFrame(data.to_numpy(dtype=float), columns=data.columns), numbered=True)
    log = clean_on_engine(run, "raw_indicators", list(data.columns), rules, file=file, declared=declared,
                          headers=headers)
    cleaned = run.query("SELECT * FROM clean_indicators ORDER BY input_row")
    return CleaningResult(data=cleaned[list(data.columns)].astype(float)
                          .set_axis(data.index[cleaned["input_row"].to_numpy() - 1]), log=log)


def clean_on_engine(run: engine.Engine, table: str, columns: list[str], rules: CleaningRules, *, file=None,
                    declared: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """Winsorize, handle missing values and check the result (see module notes for the order) on engine table
    ``table``, whose other columns (the customer id, ``input_row``) are kept as they are; the result is engine
    table ``clean_indicators``. Returns the cleaning log (:class:`CleaningResult`).

    - **Winsorizing** clips each indicator at the quantiles ``rules.winsorize`` of its observed values, by linear
      interpolation between order statistics (R's ``quantile(type = 7)``, ``numpy.quantile(method="linear")``):
      the engine's exact ``quantile_cont`` (Spark: ``percentile``; :func:`crmlib.engine.exact_quantiles`).
    - **Imputation** replaces a missing value with the median (exact quantile) or the mean (exact sums,
      :func:`crmlib.indicators.exact_moments`) of the observed, winsorized values; ``drop`` removes every customer
      with a missing indicator (listwise deletion, SPSS's default); ``pairwise`` keeps the missing values (psych's
      default).
    - **Checks** (:func:`check_missing_share` on the values read, :func:`check_analysable` on the result).
    """
    others = [c for c in run.columns(table) if c not in columns]
    kept_columns = ", ".join(quote(c) for c in others)
    value = {c: f"CAST({quote(c)} AS DOUBLE)" for c in columns}
    read = run.first("SELECT COUNT(*) AS n, "
                     + ", ".join(f"COUNT({value[c]}) AS count{i}" for i, c in enumerate(columns)) + f" FROM {table}")
    n_in = int(read["n"])
    missing = pd.Series(n_in - _values(read, "count", len(columns)), index=columns)
    check_missing_share(missing, n_in, rules.max_missing_share, file=file, declared=declared, headers=headers)
    nan = np.full(len(columns), np.nan)
    low, high = (nan, nan) if rules.winsorize is None else engine.exact_quantiles(run, table, columns,
                                                                                  list(rules.winsorize)).T
    clipped, counted = [], []
    for i, c in enumerate(columns):
        cases = "".join(f" WHEN {value[c]} {op} {number(bound[i])} THEN {number(bound[i])}"
                        for op, bound in (("<", low), (">", high)) if np.isfinite(bound[i]))
        clipped.append(f"CASE{cases} ELSE {value[c]} END AS {quote(c)}" if cases else f"{value[c]} AS {quote(c)}")
        counted += [f"SUM(CASE WHEN {value[c]} {op} {number(bound[i])} THEN 1 ELSE 0 END) AS {name}{i}"
                    for op, bound, name in (("<", low, "below"), (">", high, "above")) if np.isfinite(bound[i])]
    run.create("clipped_indicators", f"SELECT {kept_columns}, {', '.join(clipped)} FROM {table}", rows=True)
    clips = run.first(f"SELECT {', '.join(counted)} FROM {table}") if counted else {}

    def clip_count(name: str, i: int) -> int:
        found = clips.get(f"{name}{i}")
        return 0 if found is None or pd.isna(found) else int(found)

    if rules.missing == "median":
        fill = engine.exact_quantiles(run, "clipped_indicators", columns, [0.5], rows=n_in)[:, 0]
    elif rules.missing == "mean":
        fill = indicators.exact_moments(run, "clipped_indicators", columns)["mean"].to_numpy()
    else:
        fill = nan
    kept = [f"COALESCE({quote(c)}, {number(fill[i])}) AS {quote(c)}" if np.isfinite(fill[i]) else quote(c)
            for i, c in enumerate(columns)]
    complete = (" WHERE " + " AND ".join(f"{quote(c)} IS NOT NULL" for c in columns)) if rules.missing == "drop" else ""
    run.create("clean_indicators", f"SELECT {kept_columns}, {', '.join(kept)} FROM clipped_indicators{complete}",
               rows=True)
    found = run.first("SELECT COUNT(*) AS n, " + ", ".join(
        f"COUNT({quote(c)}) AS count{i}, MIN({quote(c)}) AS min{i}, MAX({quote(c)}) AS max{i}"
        for i, c in enumerate(columns)) + " FROM clean_indicators")
    n_out = int(found["n"])
    summary = pd.DataFrame({key: _values(found, key, len(columns)) for key in ("count", "min", "max")}, index=columns)
    check_analysable(summary, n_out, file=file, declared=declared, headers=headers)
    return pd.DataFrame({
        "indicator": columns,
        "n_missing": missing.to_numpy().astype(int),
        "fill_value": fill,
        "lower_bound": low,
        "upper_bound": high,
        "n_clipped_low": [clip_count("below", i) for i in range(len(columns))],
        "n_clipped_high": [clip_count("above", i) for i in range(len(columns))],
        "n_customers_in": n_in,
        "n_customers_out": n_out,
    })
