"""A personal-customer base: tiers by assets, the monthly panel, lost customers and assets, migration, life cycle.

Every computation here is SQL run by an engine (:mod:`crmlib.engine`: DuckDB by default, or Spark), on tables the
engine holds: ``panel_rows`` (one row per customer and month), ``indicators`` (the cleaned customer file) and
``customer_base`` (one row per customer, made by :func:`panel_customer_table` or :func:`flag_customer_table`).
Only aggregates come back to Python.

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
  so its customers are lost only by closing. In SQL, for a window of at most
  :data:`MASK_MONTHS` months, the months below each floor are the bits of a
  mask made in the pass that reads the panel, and the first run of k of them is
  the lowest bit of the mask ANDed with its k - 1 shifts; for a longer window,
  the runs are islands of rows (month minus its rank among the customer's months
  below the floor). Either way the loss month is the start of the first run of k
  months, or of the run that reaches the closure.
- **Loss reason**: "below floor" when the open months alone meet the rule at the
  loss month (k months below the floor before any closure), else "closed" (the
  account closed, possibly after fewer than k months below the floor).
- **Assets lost**: the AUM of the month before the loss month.
- **Sums** of amounts are exact (:data:`crmlib.engine.EXACT`: amounts rounded to 1e-6 of their unit), so they do
  not depend on the engine or its threads; rows are ordered by tier, month and customer id.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .engine import EXACT, Engine, EngineTable, quote, text
from .errors import InputError
from .io import is_parquet, parse_numbers, table_file_row
from .params import Lifecycle, Panel, Tiers

__all__ = [
    "PanelMonths",
    "check_tier_basis",
    "tier_case",
    "tier_floors",
    "read_panel",
    "panel_summary",
    "panel_customer_table",
    "flag_customer_table",
    "monthly_flows",
    "tier_migration",
    "lifecycle_case",
    "lifecycle_profile",
    "tier_profile",
    "attrition_by_tier",
    "customer_table",
]


@dataclass(frozen=True)
class PanelMonths:
    """The panel's window: its months, in order (month index m = 0 .. T-1 in ``panel_rows``)."""

    months: pd.PeriodIndex

    @property
    def labels(self) -> list[str]:
        return [str(month) for month in self.months]


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


def tier_floors(tiers: Tiers, unit: str | None = None) -> np.ndarray:
    """The tiers' floors, lowest first, in ``unit`` (the tiers' own unit by default)."""
    return np.array([t.lower for t in tiers.levels], dtype=float) * tiers.scale_to(unit or tiers.unit)


def _number(value: float) -> str:
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def tier_case(column: str, tiers: Tiers, unit: str | None = None, *, floor: bool = False) -> str:
    """SQL: the tier id of ``column`` (the last tier whose floor it reaches, ``[lower, upper)``), or with
    ``floor`` that tier's floor, in ``unit``."""
    pairs = list(zip(tiers.levels, tier_floors(tiers, unit)))[::-1]
    cases = " ".join(f"WHEN {column} >= {_number(low)} THEN {_number(low) if floor else repr(t.id)}"
                     for t, low in pairs)
    return f"CASE {cases} END"


# --- reading the panel -------------------------------------------------------------------------------------------

def _panel_columns(panel: Panel) -> dict[str, str]:
    columns = {"id": panel.id_column, "month": panel.month_column, "aum": panel.aum_column}
    if panel.profit_column is not None:
        columns["profit"] = panel.profit_column
    return columns


def _parsed_panel(path: Path, panel: Panel) -> pd.DataFrame:
    """The panel read by pandas, for a file the engine cannot type by itself: amounts written as text (units,
    separators; in a CSV or a text column of Parquet) or an encoding other than UTF-8. Bad cells stop the run,
    naming the cell."""
    columns = _panel_columns(panel)
    if is_parquet(path):  # text columns of a Parquet file; its rows are numbered from 1
        table = pd.read_parquet(path, columns=list(columns.values()))
        table = table.apply(lambda cells: cells if pd.api.types.is_numeric_dtype(cells)
                            else cells.astype(object).where(cells.notna(), "").astype(str))
        first_row = 1
    else:
        table = pd.read_csv(path, usecols=list(columns.values()), encoding=panel.encoding, dtype=str,
                            keep_default_na=False)
        first_row = 2
    for name in ("aum", "profit"):
        if name in columns:
            table[columns[name]] = parse_numbers(table[columns[name]], panel.unit, file=path, column=columns[name],
                                                 first_row=first_row)
    return table[list(columns.values())].set_axis(list(columns), axis=1)


def _file_row(path: Path, panel: Panel, match, nth: int = 0) -> int | None:
    """The file row of the ``nth`` row of the panel where ``match(ids, months)`` holds
    (:func:`crmlib.io.table_file_row`)."""
    return table_file_row(path, [panel.id_column, panel.month_column], match, nth=nth, encoding=panel.encoding)


def _register_raw(engine: Engine, panel: Panel, path: Path) -> None:
    """Register ``panel_raw`` (``id``, ``month``, ``aum``, ``profit`` as the file has them)."""
    columns = _panel_columns(panel)
    kind_csv = not is_parquet(path)
    if kind_csv and panel.encoding.lower() not in ("utf-8", "utf8"):
        engine.table("panel_raw", _parsed_panel(path, panel))
        return
    engine.table("panel_file", path, text=kind_csv, encoding=panel.encoding)
    engine.require_columns("panel_file", columns.values(), file=path)
    engine.table("panel_raw", path, columns, text=kind_csv, encoding=panel.encoding)


def _type_panel(engine: Engine, panel: Panel) -> None:
    """Make ``panel_typed``: ids and months as trimmed text, amounts as numbers (``unparsed`` = 1 where an amount
    is written as text that is not a plain number, such as 1.5万元 or 20,000)."""
    amounts = ["aum"] + (["profit"] if panel.profit_column is not None else [])
    unparsed = " OR ".join(f"({a} IS NOT NULL AND TRIM(CAST({a} AS VARCHAR)) <> '' AND TRY_CAST({a} AS DOUBLE) IS "
                           "NULL)" for a in amounts)
    profit = "TRY_CAST(profit AS DOUBLE)" if panel.profit_column is not None else "CAST(NULL AS DOUBLE)"
    engine.create("panel_typed", f"SELECT TRIM(CAST(id AS VARCHAR)) AS id, TRIM(CAST(month AS VARCHAR)) AS month, "
                                 f"TRY_CAST(aum AS DOUBLE) AS aum, {profit} AS profit, "
                                 f"CASE WHEN {unparsed} THEN 1 ELSE 0 END AS unparsed FROM panel_raw", rows=True)


def _amounts_as_text(engine: Engine, panel: Panel) -> bool:
    """Whether an amount column of ``panel_raw`` holds text (a CSV's cells, or a text column of Parquet), which may
    carry units or separators to parse; a file's number columns cannot (a pass over them to check would cost 2 s at
    10 million customers)."""
    amounts = ["aum"] + (["profit"] if panel.profit_column is not None else [])
    kinds = engine.first(f"SELECT {', '.join(f'typeof({a}) AS {a}' for a in amounts)} FROM panel_raw LIMIT 1")
    return kinds is None or any(not str(kind).upper().startswith(_NUMBER_TYPES) for kind in kinds.values())


#: How ``typeof`` names a number type on DuckDB and Spark (integers of every width, floats, decimals).
_NUMBER_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "HUGEINT", "BIGINT", "INT", "SMALLINT", "TINYINT", "UBIGINT",
                 "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")


#: Panels of at most this many months apply the loss rule to bit masks of the months below each tier floor (one
#: 62-bit word per customer, made in the pass that reads the panel); longer panels find the runs below the floor
#: as islands of rows, in two more passes.
MASK_MONTHS = 62


def read_panel(engine: Engine, panel: Panel, path, customers: str = "indicators", *, check: bool = True,
               tiers: Tiers | None = None) -> PanelMonths:
    """Read and check a monthly panel (long format: a CSV, ``.csv.gz``, Parquet file or directory of Parquet
    files) against the customer ids of engine table ``customers``; registers ``panel_rows`` (``id``, ``m``,
    ``aum``, ``profit``) and ``panel_spans`` (per customer: first and last month, rows, AUM in the first and the
    last month of the window, exact profit sum) in the engine. With ``check`` false, only the checks the reading
    needs are made (the months must be dates): for a later stage of a run whose stage 01 checked the same file
    (the stage records say when it changed since, :mod:`crmlib.stages`). With ``tiers`` (and a window of at most
    :data:`MASK_MONTHS` months), ``panel_spans`` also holds, per tier floor f > 0, the months below f as the bits of
    ``below_<j>`` and the last month at or above f as ``last_above_<j>`` (j: the tier's position), from which
    :func:`panel_customer_table` applies the loss rule without reading the rows again.

    Raises
    ------
    InputError
        Naming file, column and row (CSV), for: a missing column, an empty or unknown
        customer id, a month that is not a date, a negative or missing AUM, a
        customer-month given twice, a customer with no rows, a gap in a
        customer's months.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("panel file does not exist: check customer_base.panel.path (relative to the params file)",
                         file=path, key="customer_base.panel.path")
    _register_raw(engine, panel, path)
    _type_panel(engine, panel)
    if _amounts_as_text(engine, panel) and engine.query("SELECT MAX(unparsed) AS n FROM panel_typed")["n"].iloc[0] == 1:
        engine.table("panel_raw", _parsed_panel(path, panel))  # amounts with units or separators: parse each cell
        _type_panel(engine, panel)
    labels = engine.query("SELECT DISTINCT month FROM panel_typed ORDER BY month")["month"]
    parsed = pd.to_datetime(labels.fillna(""), errors="coerce", format="mixed")
    if parsed.isna().any():
        label = labels[parsed.isna()].iloc[0]
        raise InputError(f"'{label}' is not a month (use YYYY-MM)", file=path, column=panel.month_column,
                         row=_file_row(path, panel, lambda ids, months: months == (label or "")))
    periods = parsed.dt.to_period("M")
    months = pd.period_range(periods.min(), periods.max(), freq="M")
    index = pd.DataFrame({"month": labels.to_numpy(), "m": [(p - months[0]).n for p in periods]})
    engine.table("panel_month_labels", index)
    engine.table("panel_months", pd.DataFrame({"m": np.arange(len(months)), "label": months.astype(str)}))
    engine.create("panel_rows", "SELECT p.id, l.m, p.aum, p.profit FROM panel_typed p "
                                "JOIN panel_month_labels l ON p.month = l.month", rows=True)
    t = len(months)
    profit = f"SUM({_exact('profit')})" if panel.profit_column is not None else "NULL"
    masks = "".join(f"BIT_OR(CASE WHEN aum < {_number(floor)} THEN CAST(1 AS BIGINT) << m ELSE 0 END) AS below_{j}, "
                    f"MAX(CASE WHEN aum >= {_number(floor)} THEN m END) AS last_above_{j}, "
                    for j, floor in _floors(tiers, panel, t))
    engine.create("panel_spans", f"""
        SELECT id, MIN(m) AS first_m, MAX(m) AS last_m, COUNT(*) AS n, {_distinct_months(t)} AS months_present,
               ARG_MIN(aum, m) AS aum_start, SUM(CASE WHEN m = {t - 1} THEN aum ELSE 0 END) AS aum_end,
               {masks}{profit} AS profit,
               SUM(CASE WHEN aum IS NULL OR isnan(aum) OR aum < 0 THEN 1 ELSE 0 END) AS bad_aum
        FROM panel_rows GROUP BY id""")
    if check:
        _check_spans(engine, panel, path, months, customers)
    return PanelMonths(months)


def _floors(tiers: Tiers | None, panel: Panel, t: int) -> list[tuple[int, float]]:
    """(position, floor in the panel's unit) of each tier with a floor above 0, when the loss rule is applied to
    bit masks (:data:`MASK_MONTHS`); none otherwise."""
    if tiers is None or t > MASK_MONTHS:
        return []
    return [(j, floor) for j, floor in enumerate(tier_floors(tiers, panel.unit)) if floor > 0]


def _distinct_months(t: int) -> str:
    """SQL aggregate: the number of distinct months m (0 .. t-1) among a customer's rows, as the bits set in
    62-month words (one pass, no sort; BIT_OR and BIT_COUNT exist on every engine)."""
    words = [f"BIT_COUNT(BIT_OR(CASE WHEN m >= {w} AND m < {w + 62} THEN CAST(1 AS BIGINT) << (m - {w}) ELSE 0 END))"
             for w in range(0, t, 62)]
    return " + ".join(words)


def _check_spans(engine: Engine, panel: Panel, path: Path, months: pd.PeriodIndex, customers: str) -> None:
    """The panel checks, in one pass over the per-customer table ``panel_spans`` joined to the customer ids, each
    finding its first customer by id; the panel's rows are read again only to name the offending cell."""
    found = engine.first(f"""
        SELECT MAX(CASE WHEN p.n IS NOT NULL AND (p.id IS NULL OR p.id = '') THEN 1 ELSE 0 END) AS empty,
               MIN(CASE WHEN c.customer_id IS NULL THEN p.id END) AS unknown,
               MIN(CASE WHEN p.bad_aum > 0 THEN p.id END) AS bad_aum,
               MIN(CASE WHEN p.n <> p.months_present THEN p.id END) AS twice,
               MIN(CASE WHEN p.n IS NULL THEN c.customer_id END) AS no_rows,
               MIN(CASE WHEN p.months_present <> p.last_m - p.first_m + 1 THEN p.id END) AS gap
        FROM panel_spans p FULL OUTER JOIN {customers} c ON p.id = c.customer_id""")
    first = {check: None if value is None or pd.isna(value) else value for check, value in found.items()}
    if first["empty"] == 1:
        raise InputError("empty customer id: fill it in, or remove the row", file=path, column=panel.id_column,
                         row=_file_row(path, panel, lambda ids, months: ids == ""))
    if (customer := first["unknown"]) is not None:
        raise InputError(f"customer '{customer}' is not in the customer file: add the customer, or remove its panel "
                         "rows", file=path, column=panel.id_column,
                         row=_file_row(path, panel, lambda ids, months: ids == customer))
    if (customer := first["bad_aum"]) is not None:
        bad = engine.first(f"SELECT id, month, aum FROM panel_typed WHERE id = {text(customer)} AND "
                             "(aum IS NULL OR isnan(aum) OR aum < 0) ORDER BY month LIMIT 1")
        raise InputError(f"AUM must be a non-negative number (customer '{bad['id']}', {bad['month']}): correct the "
                         "cell (0 for an empty account)", file=path, column=panel.aum_column,
                         row=_file_row(path, panel,
                                       lambda ids, months: (ids == bad["id"]) & (months == bad["month"])))
    if (customer := first["twice"]) is not None:
        month = months[int(engine.query(f"SELECT m FROM panel_rows WHERE id = {text(customer)} GROUP BY m "
                                        "HAVING COUNT(*) > 1 ORDER BY m LIMIT 1")["m"].iloc[0])]
        raise InputError(f"customer '{customer}' has two rows for {month}: keep one", file=path,
                         row=_file_row(path, panel, lambda ids, months: (ids == customer) & (
                             pd.to_datetime(months, errors="coerce", format="mixed").dt.to_period("M") == month),
                             nth=1))
    if (customer := first["no_rows"]) is not None:
        raise InputError(f"customer '{customer}' has no panel rows: add its months, or remove the customer "
                         "from the customer file", file=path, column=panel.id_column)
    if (customer := first["gap"]) is not None:
        span = engine.first(f"SELECT first_m, last_m FROM panel_spans WHERE id = {text(customer)}")
        present = set(engine.query(f"SELECT m FROM panel_rows WHERE id = {text(customer)}")["m"])
        hole = next(m for m in range(int(span["first_m"]), int(span["last_m"]) + 1) if m not in present)
        raise InputError(f"customer '{customer}' has no row for {months[hole]} between its first and last month: "
                         "add that month's row (AUM 0 if the account was empty)", file=path,
                         column=panel.month_column)


def panel_summary(engine: Engine, months: PanelMonths) -> pd.DataFrame:
    """One row describing the panel: months, customers, rows, customers opening and closing within the window."""
    t = len(months.months)
    counts = engine.query(
        "SELECT COUNT(*) AS customers, SUM(n) AS rows, SUM(CASE WHEN first_m > 0 THEN 1 ELSE 0 END) AS opened, "
        f"SUM(CASE WHEN last_m < {t - 1} THEN 1 ELSE 0 END) AS closed FROM panel_spans").iloc[0]
    return pd.DataFrame([{
        "first_month": months.labels[0], "last_month": months.labels[-1], "months": t,
        "customers": int(counts["customers"]), "rows": int(counts["rows"]),
        "opened_in_window": int(counts["opened"]), "closed_in_window": int(counts["closed"]),
    }])


# --- the customer table -----------------------------------------------------------------------------------------

def lifecycle_case(lifecycle: Lifecycle) -> str:
    """SQL: the life-cycle stage of each customer, the first stage in the params' order whose conditions all hold.

    Conditions: ``lost`` (the customer's loss flag), ``min_tenure`` <= tenure < ``max_tenure``, ``min_trend`` <=
    trend < ``max_trend``. A missing trend (too short a history) fails every trend condition. The last stage has
    no conditions, so every customer gets one.
    """
    tenure, trend = f"CAST({quote(lifecycle.tenure)} AS DOUBLE)", f"CAST({quote(lifecycle.trend)} AS DOUBLE)"
    cases = []
    for rule in lifecycle.stages:
        conditions = []
        if rule.lost is not None:
            conditions.append(f"lost = {int(rule.lost)}")
        for column, low, high in ((tenure, rule.min_tenure, rule.max_tenure), (trend, rule.min_trend, rule.max_trend)):
            if low is not None:
                conditions.append(f"{column} >= {_number(low)}")
            if high is not None:
                conditions.append(f"{column} < {_number(high)}")
        if not conditions:
            cases.append(f"ELSE {text(rule.id)}")
            break
        cases.append(f"WHEN {' AND '.join(conditions)} THEN {text(rule.id)}")
    return f"CASE {' '.join(cases)} END"


def _exact(expression: str) -> str:
    return f"CAST({expression} AS {EXACT})"


def panel_customer_table(engine: Engine, months: PanelMonths, tiers: Tiers, panel: Panel,
                         lifecycle: Lifecycle, tenure_indicator: str | None) -> None:
    """Make engine table ``customer_base``: the columns of ``indicators``, then per customer
    ``first_month``, ``tier`` (start tier), ``aum_start``, ``aum_end`` (AUM in the window's last month; 0 after
    closure), ``profit`` (sum over the window, if the panel has profit), ``lost``, ``loss_month``,
    ``loss_reason``, ``assets_lost``, ``duration`` (months from the first month to the loss month, or to the end
    of the window if not lost: the retention time), ``tenure`` (months with the bank at the loss month or the
    window's end: the indicator ``tenure_indicator`` at the start plus ``duration``), ``aum_trend`` and
    ``lifecycle`` (:func:`lifecycle_case`); and ``tier_month_aum`` (``tier``, ``m``, ``aum``: AUM of the tier's
    active customers in month m).

    ``aum_trend`` is :math:`\\bar A_{[e-m+1, e]} / \\bar A_{[e-2m+1, e-m]} - 1` with m = ``trend_months`` and e
    the month before the loss, or the last month: the mean AUM of the last m months over the mean of the m months
    before; missing when the customer has fewer than 2m months up to e or the earlier mean is 0.
    """
    t, k, m = len(months.months), panel.months_below, panel.trend_months
    engine.create("panel_starts", f"""
        SELECT *, {tier_case('aum_start', tiers, panel.unit)} AS tier,
               {tier_case('aum_start', tiers, panel.unit, floor=True)} AS floor
        FROM panel_spans""")
    if t <= MASK_MONTHS:
        _losses_from_masks(engine, tiers, panel, t, k)
    else:
        _losses_from_islands(engine, t, k)
    # two passes over the rows, each joined to the losses: one GROUPING SETS pass took twice as long on DuckDB
    engine.create("panel_sums", f"""
        SELECT p.id,
               SUM(CASE WHEN c.loss < {t} AND p.m = c.loss - 1 THEN p.aum ELSE 0 END) AS assets_lost,
               SUM(CASE WHEN p.m BETWEEN c.trend_end - {m - 1} AND c.trend_end THEN {_exact('p.aum')} ELSE 0 END)
                   AS recent,
               SUM(CASE WHEN p.m BETWEEN c.trend_end - {2 * m - 1} AND c.trend_end - {m} THEN {_exact('p.aum')}
                   ELSE 0 END) AS earlier
        FROM panel_rows p
        JOIN (SELECT id, loss, CASE WHEN loss < {t} THEN loss - 1 ELSE last_m END AS trend_end
              FROM panel_losses) c ON p.id = c.id
        GROUP BY p.id""")
    engine.create("tier_month_aum", f"""
        SELECT c.tier, p.m, CAST(SUM(CASE WHEN p.m < c.loss THEN {_exact('p.aum')} ELSE 0 END) AS DOUBLE) AS aum
        FROM panel_rows p JOIN panel_losses c ON p.id = c.id
        GROUP BY c.tier, p.m""")  # a CASE, not a WHERE: DuckDB would join the losses to the months first
    tenure = (f"CAST(i.{quote(tenure_indicator)} AS DOUBLE)" if tenure_indicator is not None else "0.0")
    columns = ", ".join(f"i.{quote(c)}" for c in engine.columns("indicators"))
    profit_column = "CAST(c.profit AS DOUBLE) AS profit, " if panel.profit_column is not None else ""
    engine.create("customer_base", f"""
        SELECT *, {lifecycle_case(lifecycle)} AS lifecycle FROM (
        SELECT {columns}, f.label AS first_month, c.tier, c.aum_start, c.aum_end, {profit_column}
               CASE WHEN c.loss < {t} THEN 1 ELSE 0 END AS lost,
               COALESCE(l.label, '') AS loss_month,
               CASE WHEN c.loss >= {t} THEN '' WHEN c.open_run_start = c.loss THEN 'below floor' ELSE 'closed' END
                   AS loss_reason,
               CASE WHEN c.loss < {t} THEN s.assets_lost ELSE 0.0 END AS assets_lost,
               c.loss - c.first_m AS duration,
               {tenure} + (c.loss - c.first_m) AS tenure,
               CASE WHEN c.trend_end - {2 * m - 1} >= c.first_m AND s.earlier > 0
                    THEN CAST(s.recent AS DOUBLE) / CAST(s.earlier AS DOUBLE) - 1 END AS aum_trend
        FROM indicators i
        JOIN (SELECT *, CASE WHEN loss < {t} THEN loss - 1 ELSE last_m END AS trend_end FROM panel_losses) c
          ON i.customer_id = c.id
        JOIN panel_sums s ON s.id = c.id
        JOIN panel_months f ON f.m = c.first_m
        LEFT JOIN panel_months l ON l.m = c.loss) customers""")


#: The columns of ``panel_starts`` that ``panel_losses`` carries on.
_STARTS = ["id", "first_m", "last_m", "aum_start", "aum_end", "profit", "tier", "floor"]


def _losses_from_islands(engine: Engine, t: int, k: int) -> None:
    """Engine table ``panel_losses`` (the loss rule, :func:`panel_customer_table`) from the rows: the runs of months
    below the start tier's floor are islands (month minus its rank among the customer's months below the floor)."""
    engine.create("panel_losses", f"""
        WITH below AS (
            SELECT p.id, p.m, p.m - ROW_NUMBER() OVER (PARTITION BY p.id ORDER BY p.m) AS island
            FROM panel_rows p JOIN panel_starts s ON p.id = s.id WHERE p.aum < s.floor),
        runs AS (
            SELECT id, MIN(m) AS run_start, MAX(m) AS run_end, COUNT(*) AS run_length FROM below GROUP BY id, island),
        starts AS (
            SELECT r.id, MIN(CASE WHEN r.run_length >= {k} THEN r.run_start END) AS open_run_start,
                   MIN(CASE WHEN r.run_end = s.last_m THEN r.run_start END) AS closing_run_start
            FROM runs r JOIN panel_starts s ON r.id = s.id GROUP BY r.id),
        events AS (
            SELECT {', '.join('s.' + c for c in _STARTS)},
                   COALESCE(r.open_run_start, {t}) AS open_run_start,
                   CASE WHEN s.last_m < {t - 1} THEN COALESCE(r.closing_run_start, s.last_m + 1) ELSE {t} END
                       AS closure_start
            FROM panel_starts s LEFT JOIN starts r ON s.id = r.id)
        SELECT *, LEAST(open_run_start, closure_start) AS loss FROM events""")


def _losses_from_masks(engine: Engine, tiers: Tiers, panel: Panel, t: int, k: int) -> None:
    """Engine table ``panel_losses`` from the bit masks of ``panel_spans`` (:func:`read_panel` with ``tiers``): the
    months below the start tier's floor are the bits of ``below``; a run of k of them starts at the lowest bit of
    ``below & (below >> 1) & ... & (below >> (k - 1))`` (its position: the bits below it, counted); the run that
    reaches a closure starts after the last month at or above the floor."""
    floors = _floors(tiers, panel, t)
    if not floors:
        raise ValueError("panel_spans has no bit masks: read the panel with its tiers (read_panel(..., tiers=...))")
    ids = [level.id for level in tiers.levels]
    below = " ".join(f"WHEN {text(ids[j])} THEN below_{j}" for j, _ in floors)
    above = " ".join(f"WHEN {text(ids[j])} THEN last_above_{j}" for j, _ in floors)
    runs = " & ".join(["below"] + [f"(below >> {shift})" for shift in range(1, k)])
    engine.create("panel_losses", f"""
        WITH masks AS (
            SELECT {', '.join(_STARTS)}, CASE tier {below} ELSE CAST(0 AS BIGINT) END AS below,
                   CASE tier {above} ELSE last_m END AS last_above
            FROM panel_starts),
        events AS (
            SELECT {', '.join(_STARTS)},
                   CASE WHEN ({runs}) = 0 THEN {t} ELSE BIT_COUNT((({runs}) & -({runs})) - 1) END AS open_run_start,
                   CASE WHEN last_m >= {t - 1} THEN {t} WHEN last_above IS NULL THEN first_m
                        ELSE last_above + 1 END AS closure_start
            FROM masks)
        SELECT *, LEAST(open_run_start, closure_start) AS loss FROM events""")


def flag_customer_table(engine: Engine, tiers: Tiers, basis_unit: str, lost_assets: str, duration: str,
                        lifecycle: Lifecycle) -> None:
    """Make engine table ``customer_base`` from ``indicators`` and ``churn_flags`` (a customer file with a loss
    flag, no panel): the indicators, then ``tier`` (of the indicator ``tiers.basis``, in ``basis_unit``),
    ``lost``, ``assets_lost`` (indicator ``lost_assets`` of a lost customer, else 0), ``duration`` (indicator
    ``duration``) and ``lifecycle``."""
    columns = ", ".join(f"i.{quote(c)}" for c in engine.columns("indicators"))
    engine.create("flag_customers", f"""
        SELECT {columns}, {tier_case('i.' + quote(tiers.basis), tiers, basis_unit)} AS tier, f.lost,
               CASE WHEN f.lost = 1 THEN CAST(i.{quote(lost_assets)} AS DOUBLE) ELSE 0.0 END AS assets_lost,
               i.{quote(duration)} AS duration
        FROM indicators i JOIN churn_flags f ON i.customer_id = f.customer_id""")
    engine.create("customer_base", f"SELECT *, {lifecycle_case(lifecycle)} AS lifecycle FROM flag_customers")


def customer_table(engine: Engine) -> EngineTable:
    """Engine table ``customer_base`` as a stage table that stays on the engine, ordered by customer id."""
    return EngineTable(engine, "SELECT * FROM customer_base", "customer_id")


# --- flows and migration ----------------------------------------------------------------------------------------

def monthly_flows(engine: Engine, months: PanelMonths, tiers: Tiers) -> pd.DataFrame:
    """Customers and assets per start tier and month: the flow of the customer base.

    For month t and tier g (customers' start tiers): ``customers_start`` are
    active at the end of month t-1 (opened before t, not lost by t-1);
    ``new`` opened in t; ``lost`` have loss month t and ``assets_lost`` their
    assets lost; ``loss_rate`` = lost / customers_start; ``net_flow`` = new -
    lost; ``aum`` the AUM in t of customers active in t; ``net_asset_flow`` its
    change from t-1. The first month has no flows (NaN rates).
    """
    t = len(months.months)
    events = engine.query(f"""
        SELECT tier, m, SUM(new) AS new, SUM(lost) AS lost, CAST(SUM(assets_lost) AS DOUBLE) AS assets_lost
        FROM (SELECT tier, first_m AS m, 1 AS new, 0 AS lost, {_exact('0')} AS assets_lost FROM panel_losses
              UNION ALL
              SELECT p.tier, p.loss AS m, 0, 1, {_exact('c.assets_lost')} FROM panel_losses p
              JOIN customer_base c ON c.customer_id = p.id WHERE p.loss < {t}) e
        GROUP BY tier, m""")
    aum = engine.query("SELECT tier, m, aum FROM tier_month_aum")
    ids = [level.id for level in tiers.levels]
    grid = pd.MultiIndex.from_product([ids, range(t)], names=["tier", "m"])
    events = events.set_index(["tier", "m"]).reindex(grid, fill_value=0)
    aum = aum.set_index(["tier", "m"])["aum"].reindex(grid, fill_value=0.0)
    rows = []
    for tier in ids:
        new, lost = events.loc[tier, "new"].to_numpy(), events.loc[tier, "lost"].to_numpy()
        active = np.cumsum(new) - np.cumsum(lost)
        previous = np.concatenate([[np.nan], active[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = lost / previous
        level = aum.loc[tier].to_numpy()
        rows.append(pd.DataFrame({
            "tier": tier, "month": months.labels, "customers_start": previous, "new": new.astype(float),
            "lost": lost.astype(float), "assets_lost": events.loc[tier, "assets_lost"].to_numpy(dtype=float),
            "loss_rate": rate, "net_flow": (new - lost).astype(float), "aum": level,
            "net_asset_flow": np.concatenate([[np.nan], np.diff(level)]),
        }))
    table = pd.concat(rows, ignore_index=True)
    first = table["month"] == months.labels[0]
    table.loc[first, ["new", "lost", "assets_lost", "net_flow"]] = np.nan
    return table


def tier_migration(engine: Engine, months: PanelMonths, tiers: Tiers, start: str | None, end: str | None,
                   unit: str | None = None) -> pd.DataFrame:
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
    labels = months.labels
    for label in (start, end):
        if label is not None and label not in labels:
            raise InputError(f"migration month '{label}' is not in the panel ({labels[0]} to {labels[-1]}): choose "
                             "two months in that range", key="customer_base.panel.migration")
    a = labels.index(start) if start is not None else 0
    b = labels.index(end) if end is not None else len(labels) - 1
    if (a, b) == (0, len(labels) - 1):  # the window's first and last month: the AUM panel_spans holds
        amounts = (f"SELECT id, CASE WHEN first_m = 0 THEN aum_start END AS aum_a, CASE WHEN last_m = {b} THEN "
                   "aum_end END AS aum_b FROM panel_spans")
    else:
        amounts = (f"SELECT id, MAX(CASE WHEN m = {a} THEN aum END) AS aum_a, MAX(CASE WHEN m = {b} THEN aum END) "
                   f"AS aum_b FROM panel_rows WHERE m IN ({a}, {b}) GROUP BY id")
    counts = engine.query(f"""
        SELECT COALESCE({tier_case('aum_a', tiers, unit)}, 'new') AS from_tier,
               COALESCE({tier_case('aum_b', tiers, unit)}, 'closed') AS to_tier, COUNT(*) AS customers
        FROM panel_spans s LEFT JOIN ({amounts}) r ON s.id = r.id
        WHERE s.first_m <= {b} GROUP BY 1, 2""")
    ids = [level.id for level in tiers.levels]
    matrix = counts.pivot(index="from_tier", columns="to_tier", values="customers").reindex(
        index=ids + ["new"], columns=ids + ["closed"]).fillna(0).astype(int)
    shares = matrix.div(matrix.sum(axis=1).replace(0, np.nan), axis=0)
    table = matrix.stack(future_stack=True).rename("customers").to_frame().join(
        shares.stack(future_stack=True).rename("row_share"))
    table.index.names = ["from_tier", "to_tier"]
    return table.reset_index().assign(from_month=labels[a], to_month=labels[b])


# --- tables per tier and stage ----------------------------------------------------------------------------------

def lifecycle_profile(engine: Engine, lifecycle: Lifecycle, tiers: Tiers) -> pd.DataFrame:
    """Customers per life-cycle stage and tier.

    Returns
    -------
    DataFrame
        One row per stage, in the params' order: ``stage``, one count column per
        tier, ``customers``, ``share`` (of all customers).
    """
    counts = engine.query("SELECT lifecycle, tier, COUNT(*) AS n FROM customer_base GROUP BY lifecycle, tier")
    table = counts.pivot(index="lifecycle", columns="tier", values="n").reindex(
        index=[s.id for s in lifecycle.stages], columns=[t.id for t in tiers.levels]).fillna(0).astype(int)
    table.columns.name = None
    table["customers"] = table.sum(axis=1)
    table["share"] = table["customers"] / counts["n"].sum()
    return table.rename_axis("stage").reset_index()


def tier_profile(engine: Engine, tiers: Tiers, measures: list[str]) -> pd.DataFrame:
    """Size of each tier and its share of customers and of each measure's total (exact sums).

    Returns
    -------
    DataFrame
        ``tier``, ``label_en``, ``label_zh``, ``lower``, ``upper``, ``customers``,
        ``customer_share``, then ``<measure>_total`` and ``<measure>_share`` per measure.
    """
    sums = "".join(f", SUM({_exact(quote(m))}) AS {quote(m)}" for m in measures)
    totals = engine.query(f"SELECT tier, COUNT(*) AS customers{sums} FROM customer_base GROUP BY tier")
    totals = totals.set_index("tier").astype(float)
    rows = pd.DataFrame([{"tier": t.id, "label_en": t.label_en, "label_zh": t.label_zh, "lower": t.lower,
                          "upper": np.inf if t.upper is None else t.upper} for t in tiers.levels]).set_index("tier")
    totals = totals.reindex(rows.index, fill_value=0.0)
    rows["customers"] = totals["customers"].astype(int)
    rows["customer_share"] = rows["customers"] / rows["customers"].sum()
    for measure in measures:
        rows[f"{measure}_total"] = totals[measure]
        rows[f"{measure}_share"] = totals[measure] / totals[measure].sum()
    return rows.reset_index()


def attrition_by_tier(engine: Engine, tiers: Tiers, assets: str) -> pd.DataFrame:
    """Lost customers and lost assets per tier, with a total row ``all`` (exact sums).

    Returns
    -------
    DataFrame
        ``tier``, ``customers``, ``lost``, ``loss_rate`` (lost / customers),
        ``assets`` (sum of column ``assets``), ``assets_lost``, ``assets_lost_share``
        (assets_lost / assets), ``share_of_all_lost_assets``.
    """
    table = engine.query(f"""
        SELECT COALESCE(tier, 'all') AS tier, COUNT(*) AS customers, SUM(lost) AS lost,
               CAST(SUM({_exact(quote(assets))}) AS DOUBLE) AS assets,
               CAST(SUM({_exact('assets_lost')}) AS DOUBLE) AS assets_lost
        FROM customer_base GROUP BY GROUPING SETS ((tier), ())""").set_index("tier")
    ids = [t.id for t in tiers.levels]
    table = table.reindex(ids + ["all"], fill_value=0).astype({"customers": int, "lost": int})
    table["loss_rate"] = table["lost"] / table["customers"]
    table["assets_lost_share"] = table["assets_lost"] / table["assets"]
    table["share_of_all_lost_assets"] = table["assets_lost"] / table.loc["all", "assets_lost"]
    return table.rename_axis("tier").reset_index()[["tier", "customers", "lost", "loss_rate", "assets",
                                                     "assets_lost", "assets_lost_share", "share_of_all_lost_assets"]]
