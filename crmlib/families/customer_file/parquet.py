"""A Parquet customer file read by the run's engine, its rows checked in SQL, never loaded whole into memory.

A warehouse's export (a Parquet file, or a directory of Parquet partitions) whose indicator columns are typed
numbers has no units, separators or percent formats to read: the engine reads it as it is and checks its rows
as :func:`crmlib.io.read_measures` checks a file in memory, with the same rules and messages:

- rows that are not customers are left out and listed: a *blank row* (every cell empty), a *repeated header row*
  (at least half its cells equal their column's header), a *total or subtotal row* (a text cell reads 合计, 小计,
  Total, ..., :data:`crmlib.io.TOTAL_CELL`), and a row whose every indicator (at least two observed) equals the
  sum, or the mean, of the other rows' (within 1e-9 of the larger of 1 and the value);
- a value outside its indicator's ``valid_range`` stops the run, naming the row;
- customer ids (the id column as trimmed text, or ``row<n>``): an empty id, an id written as a number with an
  exponent, or an id given twice stops the run, naming the first such row.

Rows are numbered from 1 in the order pandas reads the file (a directory's files in the order of their paths).
A file with an indicator given as text (or coded answers) is read in memory instead.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ... import io
from ...engine import Engine, number, quote, text
from ...errors import InputError

__all__ = ["read_customer_file"]

#: The characters Python's ``\s`` most often meets in a customer file (the ideographic space of Chinese text
#: included), written out: Spark's SQL would read a backslash in a literal as an escape.
_BLANKS = " \t\n\r\f\v\u3000\u00a0"


def _total_pattern() -> str:
    """:data:`crmlib.io.TOTAL_CELL` as a case-blind pattern both engines' regular expressions read."""
    return "(?i)" + io.TOTAL_CELL.pattern.replace("\\s", f"[{_BLANKS}]")


def read_customer_file(run: Engine, source, path: Path, indicators) -> pd.DataFrame | None:
    """Register the Parquet customer file ``path`` (params section ``source``) as engine table ``customer_file``:
    ``customer_id``, ``input_row`` (the file row) and one ``DOUBLE`` column per indicator, the rows that are not
    customers left out. Returns those rows (``row``, ``reason``), or None when the file is to be read in memory
    (not Parquet, unreadable, a coded indicator or an indicator column that is not typed numbers).

    Raises
    ------
    InputError
        For a missing column, a value outside its ``valid_range``, an empty, exponent-written or repeated id.
    """
    if not io.is_parquet(path) or not path.exists() or any(i.codes is not None for i in indicators):
        return None
    try:
        run.table("customer_file_source", path, numbered=True)
        types = run.query("SELECT * FROM customer_file_source LIMIT 0").drop(
            columns=["input_file", "input_index", "input_row"]).dtypes
    except InputError:
        raise
    except Exception:  # noqa: BLE001 - the in-memory reader names what is wrong with the file
        return None
    header = [str(c) for c in types.index]
    needed = ([source.id_column] if source.id_column is not None else []) + [i.source_column for i in indicators]
    for column in needed:
        if column not in header:
            raise io.column_not_found(header, path, "data", file=path, column=column)
    numeric = {c for c in header if types[c].kind in "iuf"}
    if any(i.source_column not in numeric for i in indicators):
        return None
    cells = {c: f"TRIM(COALESCE(CAST({quote(c)} AS VARCHAR), ''))" for c in header if c not in numeric}
    blank = " AND ".join([f"{cell} = ''" for cell in cells.values()] + [f"{quote(c)} IS NULL" for c in numeric])
    headers = " + ".join([f"CASE WHEN {cell} = {text(c)} THEN 1 ELSE 0 END" for c, cell in cells.items()] or ["0"])
    total = " OR ".join([f"regexp_matches({cell}, {text(_total_pattern())})" for cell in cells.values()] or ["FALSE"])
    identifier = (f"TRIM(COALESCE(CAST({quote(source.id_column)} AS VARCHAR), ''))" if source.id_column is not None
                  else "'row' || CAST(input_row AS VARCHAR)")
    values = ", ".join(f"CAST({quote(i.source_column)} AS DOUBLE) AS {quote(i.id)}" for i in indicators)
    run.create("customer_rows", f"""
        SELECT input_row, {identifier} AS customer_id, {values},
               CASE WHEN {blank} THEN 'blank row'
                    WHEN {headers} >= {max(1.0, len(header) / 2)} THEN 'repeated header row'
                    WHEN {total} THEN 'total or subtotal row' ELSE '' END AS reason
        FROM customer_file_source""")  # materialized: the checks and the cleaning read it a dozen times
    run.create("customer_candidates", "SELECT * FROM customer_rows WHERE reason = ''", rows=True)
    ranged = {}  # per indicator with a valid range, the condition of a value outside it
    for i in indicators:
        if bounds := [(op, bound) for op, bound in zip("<>", i.valid_range or ()) if bound is not None]:
            ranged[i.id] = " OR ".join(f"{quote(i.id)} {op} {number(bound)}" for op, bound in bounds)
    found = _candidate_sums(run, [i.id for i in indicators], ranged)
    if found["n"] == 0:
        reasons = sorted(run.query("SELECT DISTINCT reason FROM customer_rows")["reason"])
        raise InputError(f"the file has no data rows below its header (row {source.header_row})"
                         + (f"; rows left out: {', '.join(reasons)}" if reasons else ""), file=path)
    for k, indicator in enumerate(i for i in indicators if i.id in ranged):
        if not pd.isna(row := found[f"outside{k}"]):
            value = run.first(f"SELECT {quote(indicator.id)} AS value FROM customer_candidates "
                              f"WHERE input_row = {int(row)}")["value"]
            raise io.out_of_range(value, value, indicator, file=path, column=indicator.source_column, row=int(row))
    aggregate = _aggregate_rows(found, [i.id for i in indicators])
    run.create("aggregate_rows", f"""
        SELECT input_row, CASE WHEN {aggregate['sum']} THEN 'row equals the sum of the others'
                               ELSE 'row equals the mean of the others' END AS reason
        FROM customer_candidates WHERE ({aggregate['sum']}) OR ({aggregate['mean']})""")  # a few rows, if any
    run.create("customer_file", f"SELECT customer_id, input_row, {', '.join(quote(i.id) for i in indicators)} "
                                "FROM customer_candidates WHERE input_row NOT IN (SELECT input_row FROM aggregate_rows)",
               rows=True)  # read from the materialized rows: copying the customers once more cost as much as a read
    if source.id_column is not None:
        _check_ids(run, path, source.id_column)
    dropped = run.query("""
        SELECT input_row AS "row", reason FROM customer_rows WHERE reason <> ''
        UNION ALL
        SELECT input_row, reason FROM aggregate_rows""")
    return dropped.sort_values("row", ignore_index=True).astype({"row": int})


def _candidate_sums(run: Engine, columns: list[str], ranged: dict[str, str]) -> dict:
    """One pass over ``customer_candidates``: its rows ``n``; each column's sum and count (``total<i>``,
    ``count<i>``); and, for each condition of ``ranged`` (a value outside its indicator's valid range), the first
    row that meets it (``outside<k>``, NaN for none)."""
    return run.first("SELECT COUNT(*) AS n, " + ", ".join(
        [f"SUM({quote(c)}) AS total{i}, COUNT({quote(c)}) AS count{i}" for i, c in enumerate(columns)]
        + [f"MIN(CASE WHEN {condition} THEN input_row END) AS outside{k}"
           for k, condition in enumerate(ranged.values())]) + " FROM customer_candidates")


def _aggregate_rows(found: dict, columns: list[str]) -> dict[str, str]:
    """SQL conditions, on ``customer_candidates``, of a row equal to the sum or the mean of the others (every
    observed indicator, at least two observed; with at least three rows and two indicators), from the columns'
    sums and counts (:func:`_candidate_sums`)."""
    if int(found["n"]) < 3 or len(columns) < 2:
        return {"sum": "FALSE", "mean": "FALSE"}
    observed = " + ".join(f"CASE WHEN {quote(c)} IS NULL THEN 0 ELSE 1 END" for c in columns)
    conditions = {}
    for kind in ("sum", "mean"):
        matches = []
        for i, c in enumerate(columns):
            total = 0.0 if pd.isna(found[f"total{i}"]) else float(found[f"total{i}"])
            others = f"({number(total)} - {quote(c)})"
            if kind == "mean":
                others = f"{others} / {max(int(found[f'count{i}']) - 1, 1)}"
            matches.append(f"({quote(c)} IS NULL OR ABS({quote(c)} - {others}) <= "
                           f"1e-9 * GREATEST(1.0, ABS({quote(c)})))")
        conditions[kind] = f"({observed}) >= 2 AND " + " AND ".join(matches)
    return conditions


def _check_ids(run: Engine, path: Path, column: str) -> None:
    """Stop at the first empty id, the first id written with an exponent, then the first repeated id (file order),
    as :func:`crmlib.io.read_measures` does; the three are found in one pass."""
    exponent = "regexp_matches(customer_id, '^[0-9]([.][0-9]+)?[eE][+]?[0-9]+$')"
    found = run.first(f"SELECT MIN(CASE WHEN customer_id = '' THEN input_row END) AS empty, "
                      f"MIN(CASE WHEN {exponent} THEN input_row END) AS exponent, "
                      "COUNT(*) AS n, COUNT(DISTINCT customer_id) AS ids FROM customer_file")
    for problem in ("empty", "exponent"):
        if not pd.isna(row := found[problem]):
            customer = run.first(f"SELECT customer_id FROM customer_file WHERE input_row = {int(row)}")["customer_id"]
            raise InputError(io.ID_PROBLEMS[problem].format(customer), file=path, column=column, row=int(row))
    if found["n"] > found["ids"]:
        found = run.first("SELECT customer_id, input_row FROM (SELECT customer_id, input_row, ROW_NUMBER() OVER "
                          "(PARTITION BY customer_id ORDER BY input_row) AS occurrence FROM customer_file) AS numbered "
                          "WHERE occurrence = 2 ORDER BY input_row LIMIT 1")
        raise InputError(io.ID_PROBLEMS["repeated"].format(found["customer_id"]), file=path, column=column,
                         row=int(found["input_row"]))
