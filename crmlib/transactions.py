"""Customer indicators built from a transactions table: recency, frequency, monetary value, trend, products.

A transactions table has one row per transaction: the customer, the date, the amount and, where the data have
it, a type or product. Every computation here is SQL run by an engine (:mod:`crmlib.engine`: DuckDB by default,
or Spark) on the engine tables ``transactions_typed`` (every row, typed) and ``transaction_lines`` (the rows
before the observation's end); only one row per customer, or per month, comes back to Python.

Conventions (all stated once here):

- **Observation end** ``as_of`` (exclusive): the params' ``as_of``, or the day after the last transaction.
  Transactions on or after it are left out, and counted (:func:`transaction_summary`).
- **Frequency** is the number of distinct days with a transaction (several rows on one day are one purchase
  occasion, as in the RFM and buy-till-you-die literature); **monetary** the exact sum of the amounts (a refund
  written as a negative amount lowers it); **average amount** = monetary / frequency.
- **Recency** = days from the last transaction day to ``as_of``; **tenure** = days from the first.
- **Amount trend** = A(recent) / A(earlier) - 1, with A the sum of the amounts in the ``trend_months`` months
  before ``as_of`` (recent) and in the ``trend_months`` months before those (earlier); missing when the customer's
  first transaction falls after the earlier period's start (too short a history) or A(earlier) <= 0.
- **Products** = distinct transaction types or products (with a ``type_column``).
- **Sums** are exact (:data:`crmlib.engine.EXACT`), so they do not depend on the engine or its threads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from .engine import EXACT, Engine, quote
from .errors import InputError
from .io import Measures, is_parquet, table_file_row
from .schema import DataSource, Transactions

__all__ = ["INDICATORS", "read_transactions", "observation_end", "customer_indicators", "transaction_summary",
           "monthly_activity", "build_customer_file", "read_measures"]

#: The indicators built per customer, and their meaning (the column a case's indicator names).
INDICATORS = {
    "recency_days": "days from the last transaction day to the observation end",
    "frequency": "distinct days with a transaction",
    "monetary": "sum of the amounts",
    "average_amount": "monetary / frequency",
    "tenure_days": "days from the first transaction day to the observation end",
    "amount_trend": "amount of the last trend_months months over the trend_months before them, minus 1",
    "products": "distinct transaction types or products (with a type_column)",
}


def _date(day: date) -> str:
    return f"CAST('{day.isoformat()}' AS DATE)"


def _day(column: str, date_format: str) -> str:
    """SQL: the date of a text cell (``iso``: its first 10 characters; ``yyyymmdd``: rewritten as ISO), NULL
    when it is not a date."""
    text = f"TRIM(CAST({column} AS VARCHAR))"
    if date_format == "yyyymmdd":
        text = (f"CASE WHEN LENGTH({text}) = 8 THEN SUBSTR({text}, 1, 4) || '-' || SUBSTR({text}, 5, 2) || '-' || "
                f"SUBSTR({text}, 7, 2) END")
    else:
        text = f"SUBSTR({text}, 1, 10)"
    return f"TRY_CAST({text} AS DATE)"


def _columns(source: DataSource) -> dict[str, str]:
    spec = source.transactions
    columns = {"id": source.id_column, "day": spec.date_column, "amount": spec.amount_column}
    if spec.type_column is not None:
        columns["type"] = spec.type_column
    return columns


def _file_row(path: Path, spec: Transactions, column: str, value: str) -> int | None:
    """The file row of the first row whose ``column`` holds ``value`` (:func:`crmlib.io.table_file_row`)."""
    return table_file_row(path, [column], lambda cells: cells == value, blanks=spec.separator == "whitespace")


def read_transactions(engine: Engine, source: DataSource, path) -> None:
    """Register and check a transactions table (CSV, ``.csv.gz``, a blank-separated text file, Parquet file or
    directory): engine table ``transactions_typed`` (``id``, ``day`` as a date, ``amount``, ``type``).

    Raises
    ------
    InputError
        Naming file, column and row (text files), for: a missing column, an empty customer id, a date that is
        not a date in the declared format, an amount that is not a number.
    """
    spec, path = source.transactions, Path(path)
    if not path.exists():
        raise InputError("transactions file does not exist: check data.path (relative to the params file)",
                         file=path, key="data.path")
    columns = _columns(source)
    text = not is_parquet(path)
    if spec.separator == "whitespace":  # small exports; a large table comes as CSV or Parquet
        engine.table("transactions_file", pd.read_csv(path, sep=r"\s+", dtype=str, keep_default_na=False))
    else:
        engine.table("transactions_file", path, text=text)
    engine.require_columns("transactions_file", columns.values(), file=path)
    selection = ", ".join(f"{quote(header)} AS {name}" for name, header in columns.items())
    engine.create("transactions_raw", f"SELECT {selection} FROM transactions_file", rows=True)
    kind = "TRIM(CAST(type AS VARCHAR))" if spec.type_column is not None else "CAST(NULL AS VARCHAR)"
    engine.create("transactions_typed", f"""
        SELECT TRIM(CAST(id AS VARCHAR)) AS id, {_day('day', spec.date_format)} AS day,
               TRY_CAST(amount AS DOUBLE) AS amount, {kind} AS type,
               TRIM(CAST(day AS VARCHAR)) AS day_text, TRIM(CAST(amount AS VARCHAR)) AS amount_text
        FROM transactions_raw""", rows=True)
    bad = engine.first("SELECT id FROM transactions_typed WHERE id IS NULL OR id = '' LIMIT 1")
    if bad is not None:
        raise InputError("empty customer id: fill it in, or remove the row", file=path, column=source.id_column,
                         row=_file_row(path, spec, source.id_column, ""))
    bad = engine.first("SELECT day_text FROM transactions_typed WHERE day IS NULL ORDER BY day_text LIMIT 1")
    if bad is not None:
        shown = "an empty cell" if not bad["day_text"] else f"'{bad['day_text']}'"
        form = "YYYY-MM-DD" if spec.date_format == "iso" else "YYYYMMDD"
        raise InputError(f"{shown} is not a date written {form}: correct the cell, or set "
                         "data.transactions.date_format", file=path, column=spec.date_column,
                         row=_file_row(path, spec, spec.date_column, bad["day_text"] or ""))
    bad = engine.first("SELECT amount_text FROM transactions_typed WHERE amount IS NULL OR isnan(amount) "
                         "ORDER BY amount_text LIMIT 1")
    if bad is not None:
        shown = "an empty cell" if not bad["amount_text"] else f"'{bad['amount_text']}'"
        raise InputError(f"the amount is {shown}, not a number: write a plain number (a refund as a negative one)",
                         file=path, column=spec.amount_column,
                         row=_file_row(path, spec, spec.amount_column, bad["amount_text"] or ""))


def observation_end(engine: Engine, spec: Transactions) -> date:
    """``as_of`` of the params, or the day after the last transaction."""
    if spec.as_of is not None:
        return spec.as_of
    last = engine.query("SELECT MAX(day) AS last FROM transactions_typed")["last"].iloc[0]
    return (pd.Timestamp(last) + pd.Timedelta(days=1)).date()


def _months_before(day: date, months: int) -> date:
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


def customer_indicators(engine: Engine, spec: Transactions, as_of: date) -> None:
    """Make engine table ``transaction_customers``: per customer (``customer_id``) the indicators of
    :data:`INDICATORS` (``products`` only with a type column) and ``first_day``, from the transactions before
    ``as_of`` (the module's conventions)."""
    engine.create("transaction_lines", f"SELECT id, day, amount, type FROM transactions_typed "
                                       f"WHERE day < {_date(as_of)}", rows=True)
    recent, earlier = _months_before(as_of, spec.trend_months), _months_before(as_of, 2 * spec.trend_months)
    exact = f"CAST(amount AS {EXACT})"
    products = ", COUNT(DISTINCT type) AS products" if spec.type_column is not None else ""
    products_column = ", products" if spec.type_column is not None else ""
    engine.create("transaction_customers", f"""
        SELECT customer_id, first_day, recency_days, frequency, CAST(total AS DOUBLE) AS monetary,
               CAST(total AS DOUBLE) / frequency AS average_amount, tenure_days,
               CASE WHEN first_day <= {_date(earlier)} AND earlier_amount > 0
                    THEN CAST(recent_amount AS DOUBLE) / CAST(earlier_amount AS DOUBLE) - 1 END AS amount_trend{products_column}
        FROM (SELECT id AS customer_id, MIN(day) AS first_day,
                     DATE_DIFF('day', MAX(day), {_date(as_of)}) AS recency_days,
                     COUNT(DISTINCT day) AS frequency, SUM({exact}) AS total,
                     DATE_DIFF('day', MIN(day), {_date(as_of)}) AS tenure_days,
                     SUM(CASE WHEN day >= {_date(recent)} THEN {exact} ELSE 0 END) AS recent_amount,
                     SUM(CASE WHEN day < {_date(recent)} AND day >= {_date(earlier)} THEN {exact} ELSE 0 END)
                         AS earlier_amount{products}
              FROM transaction_lines GROUP BY id) AS sums""")


def transaction_summary(engine: Engine, as_of: date) -> pd.DataFrame:
    """One row: ``rows`` read, ``rows_used`` (before ``as_of``), ``rows_after_end`` (left out), ``customers``,
    ``first_day``, ``last_day`` (of the rows used), ``as_of``, ``amount`` (exact sum of the rows used)."""
    row = engine.query(f"""
        SELECT COUNT(*) AS n_rows, SUM(CASE WHEN day < {_date(as_of)} THEN 1 ELSE 0 END) AS rows_used,
               COUNT(DISTINCT CASE WHEN day < {_date(as_of)} THEN id END) AS customers,
               MIN(day) AS first_day, MAX(CASE WHEN day < {_date(as_of)} THEN day END) AS last_day,
               CAST(SUM(CASE WHEN day < {_date(as_of)} THEN CAST(amount AS {EXACT}) ELSE 0 END) AS DOUBLE) AS amount
        FROM transactions_typed""").iloc[0]
    return pd.DataFrame([{
        "rows": int(row["n_rows"]), "rows_used": int(row["rows_used"]),
        "rows_after_end": int(row["n_rows"]) - int(row["rows_used"]), "customers": int(row["customers"]),
        "first_day": pd.Timestamp(row["first_day"]).date().isoformat(),
        "last_day": pd.Timestamp(row["last_day"]).date().isoformat(), "as_of": as_of.isoformat(),
        "amount": float(row["amount"]),
    }])


def monthly_activity(engine: Engine) -> pd.DataFrame:
    """Per calendar month of the rows used: ``month`` (YYYY-MM), ``customers`` (with a transaction that month),
    ``new_customers`` (their first transaction), ``transactions`` (rows), ``amount`` (exact sum)."""
    table = engine.query(f"""
        SELECT a.month, a.customers, COALESCE(n.new_customers, 0) AS new_customers, a.transactions, a.amount
        FROM (SELECT DATE_TRUNC('month', day) AS month, COUNT(DISTINCT id) AS customers, COUNT(*) AS transactions,
                     CAST(SUM(CAST(amount AS {EXACT})) AS DOUBLE) AS amount
              FROM transaction_lines GROUP BY DATE_TRUNC('month', day)) a
        LEFT JOIN (SELECT DATE_TRUNC('month', first_day) AS month, COUNT(*) AS new_customers
                   FROM transaction_customers GROUP BY DATE_TRUNC('month', first_day)) n ON a.month = n.month
        ORDER BY a.month""")
    table["month"] = pd.to_datetime(table["month"]).dt.strftime("%Y-%m")
    return table.astype({"customers": int, "new_customers": int, "transactions": int})


@dataclass(frozen=True)
class Built:
    """What :func:`read_measures` builds: the customer file's :class:`~crmlib.io.Measures`, and the transactions'
    summary and monthly activity."""

    measures: Measures
    summary: pd.DataFrame
    months: pd.DataFrame


def build_customer_file(engine: Engine, source: DataSource, path, indicators) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the customer file of a case whose ``data`` is a transactions table as engine table ``customer_file``:
    ``customer_id``, ``input_row`` (the customer's place in id order) and the indicators the case names (by their
    ``column``, one of :data:`INDICATORS`), as doubles. Returns the transactions' summary and monthly activity.

    Raises
    ------
    InputError
        For an indicator whose column is not one the transactions give, and as :func:`read_transactions`.
    """
    spec = source.transactions
    available = [name for name in INDICATORS if name != "products" or spec.type_column is not None]
    for number, indicator in enumerate(indicators):
        if indicator.source_column not in available:
            raise InputError(f"indicator '{indicator.id}' names column '{indicator.source_column}', which a "
                             f"transactions table does not give: choose one of {', '.join(available)}",
                             key=f"indicators.{number}.column")
    read_transactions(engine, source, path)
    as_of = observation_end(engine, spec)
    customer_indicators(engine, spec, as_of)
    names = ", ".join(f"CAST({i.source_column} AS DOUBLE) AS {quote(i.id)}" for i in indicators)
    engine.create("customer_file", f"SELECT customer_id, ROW_NUMBER() OVER (ORDER BY customer_id) AS input_row, "
                                   f"{names} FROM transaction_customers")
    return transaction_summary(engine, as_of), monthly_activity(engine)


def read_measures(engine: Engine, source: DataSource, path, indicators) -> Built:
    """:func:`build_customer_file`, its table read into memory as :func:`crmlib.io.read_measures` gives a customer
    file's: one row per customer in id order (no rows are dropped and no cell is converted; a customer's file row
    is not defined: NA)."""
    summary, months = build_customer_file(engine, source, path, indicators)
    values = engine.query("SELECT * FROM customer_file ORDER BY input_row").drop(columns="input_row")
    values = values.set_index("customer_id")
    measures = Measures(values, pd.DataFrame(index=values.index),
                        pd.Series(pd.NA, index=values.index, name="row", dtype="Int64"),
                        pd.DataFrame({"row": pd.Series(dtype=int), "reason": pd.Series(dtype=str)}),
                        pd.Series(0, index=[i.id for i in indicators], name="n_converted", dtype=int))
    return Built(measures, summary, months)
