"""Reading a case's customer file and writing stage tables.

Input: CSV (UTF-8 or GB18030, detected or declared) or Excel (sheet and header
row from the params). Column headers may be Chinese; each indicator names its
source column. Cells may carry an amount unit (元, 万元, ...) and thousands
separators; they are converted to the indicator's declared unit. The raw file is
only ever read.

Output: every table is written to a temporary file in the target directory and
renamed into place, so a reader never sees half a table.
"""
from __future__ import annotations

import gzip
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import spreadsheet
from .errors import InputError
from .schema import UNITS, DataSource

if TYPE_CHECKING:
    from .params import CaseParams

__all__ = [
    "read_customer_file",
    "DataFile",
    "parse_numbers",
    "decode",
    "Measures",
    "read_measures",
    "rows_to_drop",
    "text_cells",
    "SYMMETRY_TOLERANCE",
    "read_matrix",
    "read_indicators",
    "write_bytes",
    "write_table",
    "table_file_row",
    "is_parquet",
    "PARQUET_ROWS",
    "ID_PROBLEMS",
    "TOTAL_CELL",
    "column_not_found",
    "out_of_range",
    "table_file",
    "write_stage_table",
    "read_parquet_table",
    "read_table",
    "engine_source",
    "processed_dir",
    "OUTPUT_DIR_ENV",
]

#: Environment variable that redirects every stage output of a notebook run
#: (``$CRMLIB_OUTPUT_DIR/<case>/``). ``make test`` sets it so that re-executing
#: the committed report notebooks never writes over the committed results.
OUTPUT_DIR_ENV = "CRMLIB_OUTPUT_DIR"

_SEPARATORS = re.compile(r"[\s_']")
#: A number whose commas (or, with a decimal comma, dots) separate thousands: groups of three digits.
_GROUPED = {".": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"), ",": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")}
_UNIT_SUFFIX = re.compile("(" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)) + r")$")


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _read_csv(path: Path, encoding: str, header_row: int, key: str) -> tuple[pd.DataFrame, list[str]]:
    """The data rows of a CSV file below its header row, as text, and the header row's cells as written."""
    encodings = ["utf-8-sig", "gb18030"] if encoding == "auto" else [encoding]
    for candidate in encodings:
        try:
            header = pd.read_csv(path, header=None, skiprows=header_row - 1, nrows=1, dtype=str,
                                 keep_default_na=False, encoding=candidate, skip_blank_lines=False)
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=candidate, header=None,
                                skiprows=header_row, skipinitialspace=True, skip_blank_lines=False,
                                names=range(header.shape[1]))
            return table.fillna(""), [str(cell) for cell in header.iloc[0]]
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"the file has no rows at or below its header row ({key}.header_row = {header_row}); "
                             "check the file, or the header_row", file=path) from None
        except pd.errors.ParserError as exc:
            ragged = _RAGGED.search(str(exc))
            if ragged is None:
                raise InputError(f"cannot be read as CSV ({str(exc).splitlines()[0]}); open it in a spreadsheet and "
                                 "save it again as CSV", file=path) from None
            expected, line, saw = ragged.groups()
            raise InputError(f"the row has {saw} cells where the header has {expected}: a cell probably holds an "
                             "unquoted comma (a thousands separator or a decimal comma); put such cells in quotes, "
                             "or write the numbers without separators", file=path,
                             row=int(line) + header_row - 1) from None
    if encoding == "auto":
        raise InputError(f"text is neither UTF-8 nor GB18030; declare {key}.encoding", file=path)
    raise InputError(f"text is not valid {encoding}, the encoding declared in {key}.encoding: declare the file's "
                     "encoding, or write auto", file=path)


def _read_excel(path: Path, source: DataSource, key: str) -> tuple[str, pd.DataFrame, list[str]]:
    sheet, rows = spreadsheet.read_sheet(path, source.sheet, key=key)
    if len(rows) < source.header_row:
        raise InputError(f"the sheet has {len(rows)} row(s), none at the header row ({key}.header_row = "
                         f"{source.header_row}); check the sheet, or the header_row", file=path, sheet=sheet)
    width = max(len(row) for row in rows)
    cells = [row + [""] * (width - len(row)) for row in rows]
    return sheet, pd.DataFrame(cells[source.header_row:], columns=range(width), dtype=str), cells[source.header_row - 1]


@dataclass(frozen=True)
class DataFile:
    """A data file as text cells (:func:`read_customer_file`).

    Attributes
    ----------
    table : DataFrame
        Every cell below the header row as text (empty string for an empty cell), indexed by file row, headed
        by the header cells (stripped; an empty header reads ``column <letter>``). A Parquet file's numeric
        columns keep their numbers (NaN for an empty value); its rows are numbered from 1.
    path : Path
        The file.
    sheet : str or None
        The sheet's name (Excel), for error messages.
    positions : dict
        0-based column position of each header.
    duplicated : dict
        Headers that head more than one column, with the columns' letters.
    """

    table: pd.DataFrame
    path: Path
    sheet: str | None
    positions: dict
    duplicated: dict

    def where(self, column=None, row=None) -> dict:
        """Keyword arguments of :class:`InputError` that locate a cell of this file."""
        return {"file": self.path, "sheet": self.sheet, "column": column, "row": row}


def read_customer_file(source: DataSource, path: Path, key: str = "data") -> DataFile:
    """Read a data file (a customer file, a questionnaire's responses) as text cells (:class:`DataFile`).

    ``source`` is its params section, ``path`` the file resolved against the params file, ``key`` the section's
    params key (named in errors). CSV files are read with pandas; Excel workbooks with calamine
    (:mod:`crmlib.spreadsheet`); a Parquet file or a directory of Parquet partitions (a warehouse's export) with
    pyarrow, its numeric columns as numbers (no unit or separator to read in them).
    """
    if path.is_dir() and not any(path.rglob("*.parquet")):
        raise InputError(f"is a directory without Parquet files: {key}.path must name a file, or a directory of "
                         "Parquet partitions", file=path, key=f"{key}.path")
    if not path.exists():
        raise InputError(f"data file does not exist: check {key}.path (relative to the params file)", file=path,
                         key=f"{key}.path")
    suffix = path.suffix.lower()
    sheet, first_row = None, source.header_row + 1
    if is_parquet(path):
        table, header = _read_parquet(path)
        first_row = 1
    elif suffix in spreadsheet.EXCEL_SUFFIXES:
        sheet, table, header = _read_excel(path, source, key)
    elif suffix in {".csv", ".txt"}:
        if path.stat().st_size == 0:
            raise InputError("the file is empty: export the data again", file=path)
        table, header = _read_csv(path, source.encoding, source.header_row, key)
    else:
        raise InputError(f"unsupported file type '{suffix}': use .csv, .xlsx, .xls, .ods or .parquet", file=path)
    header = [str(cell).strip() or f"column {spreadsheet.column_letter(n)}" for n, cell in enumerate(header)]
    letters = {}
    for n, name in enumerate(header):
        letters.setdefault(name, []).append(spreadsheet.column_letter(n))
    duplicated = {name: found for name, found in letters.items() if len(found) > 1}
    table.columns = [name if name not in duplicated else f"{name} (column {spreadsheet.column_letter(n)})"
                     for n, name in enumerate(header)]
    table.index = pd.RangeIndex(first_row, first_row + len(table))  # file rows (blank lines kept in CSV)
    positions = {name: n for n, name in enumerate(header) if name not in duplicated}
    return DataFile(table, path, sheet, positions, duplicated)


def _read_parquet(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A Parquet file, or a directory of Parquet partitions: numeric columns keep their numbers (an empty value is
    NaN), the others become text; and the column names. Its rows are numbered from 1 (row n is the n-th record)."""
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow's message names what is wrong with the file
        raise InputError(f"cannot be read as Parquet ({str(error).splitlines()[0]}): write the file again",
                         file=path) from None
    for column in table.columns:
        if not _numeric(table[column]):
            table[column] = table[column].astype(object).where(table[column].notna(), "").astype(str)
    return table, [str(name) for name in table.columns]


def is_parquet(path) -> bool:
    """Whether a data file is Parquet: a ``.parquet`` file or a directory (of Parquet partitions)."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() == ".parquet"


def _numeric(cells: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells)


def parse_numbers(cells: pd.Series, unit: str, *, file=None, column=None, first_row: int = 2,
                  decimal: str = ".", rows=None, sheet=None) -> pd.Series:
    """Turn text cells into numbers in the declared unit.

    Full-width characters (１２３，４５６．７％) are read as their ASCII forms (Unicode NFKC). Spaces, apostrophes
    and underscores between digits are removed. With ``decimal`` ``"."`` a comma is a thousands separator only
    between groups of three digits (``1,234,567.8``); with ``","`` the dot is (``1.234.567,8``) and the comma
    is the decimal mark. A trailing amount unit from :data:`crmlib.params.UNITS` converts the value to ``unit``
    (which must then be an amount unit too); a trailing ``%`` is accepted when the unit is ``%``. Empty cells
    become NaN. Errors name the file row ``rows[position]``, or ``first_row + position`` without ``rows``. The
    result's ``attrs["converted"]`` counts the cells converted from another amount unit.

    Raises
    ------
    InputError
        On the first cell that is not a finite number, or whose separators are ambiguous (``4,5`` or ``7.658,45`` under
        a decimal point), naming file, column and row and what to write instead.
    """
    if _numeric(cells):  # a typed column (Parquet): numbers already, in the declared unit
        values = cells.astype(float)
        infinite = np.isinf(values.to_numpy())
        if infinite.any():
            position = int(np.flatnonzero(infinite)[0])
            raise InputError(f"value {values.iloc[position]} is not a finite number: write the amount, or leave the "
                             "value empty if it is unknown", file=file, sheet=sheet, column=column,
                             row=_file_row(position, first_row, rows))
        values.attrs["converted"] = 0
        return values
    text = cells.astype(str).map(lambda cell: unicodedata.normalize("NFKC", cell)).str.strip()
    text = text.str.replace(_SEPARATORS, "", regex=True)
    suffix = text.str.extract(_UNIT_SUFFIX, expand=False)
    factor = pd.Series(1.0, index=cells.index)
    if suffix.notna().any():
        if unit not in UNITS:
            bad = suffix.first_valid_index()
            raise InputError(f"cell '{cells[bad]}' carries an amount unit but the indicator's unit is '{unit}': "
                             "write the number alone", file=file, sheet=sheet, column=column,
                             row=_file_row(cells.index.get_loc(bad), first_row, rows))
        factor = suffix.map(UNITS).fillna(UNITS[unit]) / UNITS[unit]
        text = text.str.replace(_UNIT_SUFFIX, "", regex=True)
    if unit == "%":
        text = text.str.removesuffix("%")
    grouping, mark = ("," , ".") if decimal == "." else (".", ",")
    separated = text.str.contains(grouping, regex=False)
    ambiguous = separated & ~text.str.match(_GROUPED[decimal])
    if ambiguous.any():
        position = int(np.flatnonzero(ambiguous.to_numpy())[0])
        fix = ("if the file writes decimal commas (4,5 = 4.5), set data.decimal: ','" if decimal == "."
               else "with data.decimal ',' a dot may only separate thousands (1.234,5)")
        raise InputError(f"cell '{cells.iloc[position]}': '{grouping}' does not separate groups of three digits; "
                         f"{fix}", file=file, sheet=sheet, column=column, row=_file_row(position, first_row, rows))
    text = text.str.replace(grouping, "", regex=False)
    if mark == ",":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"cell '{cells.iloc[position]}' is not a number: write a number in the indicator's unit "
                         f"({unit}), or leave the cell empty if it is unknown", file=file, sheet=sheet,
                         column=column, row=_file_row(position, first_row, rows))
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        position = int(np.flatnonzero(infinite)[0])
        raise InputError(f"cell '{cells.iloc[position]}' is not a finite number: write the amount, or leave the cell "
                         "empty if it is unknown", file=file, sheet=sheet, column=column,
                         row=_file_row(position, first_row, rows))
    result = (values * factor).astype(float)
    result.attrs["converted"] = int(((factor != 1.0) & values.notna()).sum())
    return result


def _file_row(position: int, first_row: int, rows) -> int:
    return int(rows[position]) if rows is not None else first_row + position


#: An id as Excel or a CSV export of it writes a number of 16 digits or more: with an exponent.
_EXPONENT_ID = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")

#: What is wrong with a customer id, checked in this order, each at the first row (in file order) where it holds:
#: the message, ``{}`` standing for the id.
ID_PROBLEMS = {
    "empty": "customer id is empty: give every customer an id, or remove the row",
    "exponent": "customer id '{}' was stored as a number with an exponent: a spreadsheet keeps 15 significant "
                "digits, so the id's last digits are lost; export the id column as text (in Excel: format the "
                "column as Text before pasting the ids)",
    "repeated": "customer id '{}' appears more than once: each customer must have one row; merge or remove the "
                "repeated row",
}


def _customer_ids(table: pd.DataFrame, cells: pd.DataFrame, source: DataSource, data: DataFile) -> pd.Series:
    """Customer ids: the id column (stripped; ``cells`` are the table's text columns as :func:`text_cells` gives
    them), or ``row<n>`` for file row n (the table's index)."""
    if source.id_column is None:
        return pd.Series([f"row{row}" for row in table.index])
    ids = _stripped(table, cells, source.id_column)
    for problem, message in (
        (ids == "", ID_PROBLEMS["empty"]),
        (_found(ids, _EXPONENT_ID, lambda cell: "e" in cell or "E" in cell), ID_PROBLEMS["exponent"]),
        (ids.duplicated(), ID_PROBLEMS["repeated"]),
    ):
        found = np.flatnonzero(np.asarray(problem))
        if found.size:
            position = int(found[0])
            raise InputError(message.format(ids.iloc[position]), **data.where(source.id_column,
                                                                               int(table.index[position])))
    return ids


#: A cell that names a total, subtotal or average row: 合计, 小计 (also "城区支行 小计"), 总计, 平均, Total, Sum, ...
TOTAL_CELL = re.compile(r"(?:合计|小计|总计|平均|均值)$|^(?:sub|grand )?totals?$|^(?:sum|average|mean)$|\s(?:sub)?total$",
                         re.IGNORECASE)


#: The last character of every cell :data:`TOTAL_CELL` finds: the last letter of one of its words, in either case
#: (``ſ``, the long s, is an ``s`` to a case-blind regular expression).
_TOTAL_ENDINGS = frozenset("计均值eElLmMnNsSſ")


def _found(cells: pd.Series, pattern: re.Pattern, possible) -> pd.Series:
    """Where ``pattern`` is found in the text ``cells`` (``re.search``), searched only in the cells where
    ``possible(cell)``, a quick test every match passes, holds: a million ids take a tenth of a second, not one."""
    values = cells.to_numpy()
    found = np.zeros(len(values), dtype=bool)
    for position in np.flatnonzero(np.fromiter(map(possible, values), dtype=bool, count=len(values))):
        found[position] = pattern.search(values[position]) is not None
    return pd.Series(found, index=cells.index)


def text_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of a data file that are not typed numbers (a CSV's or workbook's cells, a Parquet file's text
    columns), as text without surrounding whitespace."""
    numbers = [column for column in table.columns if _numeric(table[column])]  # typed (Parquet) columns
    return table.drop(columns=numbers).astype(str).apply(lambda column: column.str.strip())


def _stripped(table: pd.DataFrame, cells: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as text without surrounding whitespace: from ``cells`` (:func:`text_cells`), or a typed
    number column written as text."""
    return cells[column] if column in cells else table[column].astype(str).str.strip()


def rows_to_drop(table: pd.DataFrame, cells: pd.DataFrame | None = None) -> pd.Series:
    """Why each non-customer row of a data file is left out (empty string: a customer's row), from its cells:
    ``blank row`` (every cell empty), ``repeated header row`` (at least half its cells equal their column's
    header), ``total or subtotal row`` (a cell reads 合计, 小计, 总计, 平均, Total, Sum, Average, ...). Rows that
    equal the sum or mean of the others are found on the numbers (:func:`_aggregate_rows`). ``cells`` are the
    table's :func:`text_cells`, when already made."""
    cells = text_cells(table) if cells is None else cells
    numbers = [column for column in table.columns if column not in cells]
    blank = (cells == "").all(axis=1) & table[numbers].isna().all(axis=1)
    header = (cells == pd.Series(cells.columns, index=cells.columns)).sum(axis=1) >= max(1, len(table.columns) / 2)
    total = cells.apply(lambda column: _found(column, TOTAL_CELL, lambda cell: cell[-1:] in _TOTAL_ENDINGS)
                        ).any(axis=1)
    reason = pd.Series("", index=table.index)
    reason[total] = "total or subtotal row"
    reason[header] = "repeated header row"
    reason[blank] = "blank row"
    return reason


def _aggregate_rows(values: pd.DataFrame) -> pd.Series:
    """Rows whose every measure (at least two observed) equals the sum, or the mean, of the other rows': a total or
    average row without a label. Needs at least three rows. The measures are compared one at a time, each only on
    the rows that matched every measure before it (after the first, hardly any)."""
    x = values.to_numpy(dtype=float)
    found = pd.Series("", index=values.index)
    if len(x) < 3 or x.shape[1] < 2:
        return found
    total, count = np.nansum(x, axis=0), (~np.isnan(x)).sum(axis=0)
    matched = {}
    for kind in ("sum", "mean"):
        rows = np.arange(len(x))
        for j in range(x.shape[1]):
            value = x[rows, j]
            observed = ~np.isnan(value)
            others = total[j] - np.where(observed, value, 0.0)
            if kind == "mean":
                others = others / np.maximum(count[j] - observed, 1)
            rows = rows[(np.abs(value - others) <= 1e-9 * np.maximum(1.0, np.abs(value))) | ~observed]
        matched[kind] = rows[(~np.isnan(x[rows])).sum(axis=1) >= 2]
    found.iloc[matched["mean"]] = "row equals the mean of the others"
    found.iloc[matched["sum"]] = "row equals the sum of the others"
    return found


@dataclass(frozen=True)
class Measures:
    """What :func:`read_measures` reads from a data file.

    Attributes
    ----------
    values : DataFrame
        One numeric column per measure, indexed by ``customer_id`` (the id column, or ``row<n>`` for file row n).
    text : DataFrame
        The text columns asked for, same index.
    rows : Series
        The file row of each customer, same index (for errors found later, e.g. a tier basis).
    dropped : DataFrame
        The rows that are not customers: ``row`` (file row), ``reason``.
    converted : Series
        Per measure, the cells whose number was converted to the declared unit: an amount unit in the cell
        (``3万元`` for a 元 indicator) or a percent-formatted Excel cell (0.867 shown as 86.7%).
    """

    values: pd.DataFrame
    text: pd.DataFrame
    rows: pd.Series
    dropped: pd.DataFrame
    converted: pd.Series


def read_measures(source: DataSource, path: Path, measures, text_columns=(), key: str = "data") -> Measures:
    """Numeric measures (indicators or survey items) and text columns of a data file (``source``: its params
    section, ``path``: the file, ``key``: the section's params key), and the rows left out (:class:`Measures`).

    ``measures`` are objects with ``id``, ``source_column``, ``unit`` and ``codes``
    (:class:`~crmlib.params.Indicator`, :class:`~crmlib.params.SurveyItem`);
    ``text_columns`` maps an id to a column read as text (respondent attributes).
    Blank rows, repeated header rows, total, subtotal and average rows (:func:`rows_to_drop`, and rows equal to
    the sum or mean of the others) are not customers: they are left out and listed. In an Excel workbook, a
    percent-formatted cell of a ``%`` measure is read as the percentage it shows, and an error value or a formula
    without a saved result stops the run (:mod:`crmlib.spreadsheet`). Errors name the file, sheet, column and
    file row of the cell.

    Raises
    ------
    InputError
        For a missing or duplicated column, a non-numeric cell, an Excel error or uncalculated formula, an unknown
        coded answer, an empty or duplicated id, an id that lost digits as an Excel number.
    """
    data = read_customer_file(source, path, key)
    cells = text_cells(data.table)
    reasons = rows_to_drop(data.table, cells)
    table, cells = data.table[reasons == ""], cells[reasons == ""]
    if table.empty:
        raise InputError(f"the file has no data rows below its header (row {source.header_row})"
                         + (f"; rows left out: {', '.join(sorted(set(reasons)))}" if len(reasons) else ""),
                         file=path, sheet=data.sheet)
    text_columns = dict(text_columns)
    needed = [m.source_column for m in measures] + list(text_columns.values())
    if source.id_column is not None:
        needed = [source.id_column] + needed
    for column in needed:
        if column in data.duplicated:
            raise InputError(f"{len(data.duplicated[column])} columns have this header (columns "
                             f"{', '.join(data.duplicated[column])}): rename all but the one meant, so that the "
                             "header names one column", **data.where(column))
        if column not in data.positions:
            raise column_not_found(list(data.positions), path, key, **data.where(column))
    percent = _check_excel_cells(data, table, needed, {m.source_column for m in measures if m.unit == "%"})
    columns, converted = {}, {}
    for measure in measures:
        cells = table[measure.source_column]
        if measure.codes is not None:
            cells = decode(cells, measure.codes, file=path, column=measure.source_column, rows=table.index,
                           sheet=data.sheet)
        shown = percent.get(measure.source_column)
        if shown is not None:
            cells = cells.where(~shown, cells[shown].map(lambda cell: str(Decimal(cell) * 100)))
        values = parse_numbers(cells, measure.unit, file=path, column=measure.source_column,
                               decimal=source.decimal, rows=table.index, sheet=data.sheet)
        columns[measure.id] = values.to_numpy()
        converted[measure.id] = int(values.attrs.get("converted", 0) + (0 if shown is None else shown.sum()))
        _check_range(columns[measure.id], getattr(measure, "valid_range", None), cells, data, measure, table.index)
    values = pd.DataFrame(columns, index=table.index)
    aggregate = _aggregate_rows(values)
    table, values, cells = table[aggregate == ""], values[aggregate == ""], cells[aggregate == ""]
    dropped = pd.concat([reasons[reasons != ""], aggregate[aggregate != ""]]).sort_index()
    index = pd.Index(_customer_ids(table, cells, source, data).to_numpy(), name="customer_id")
    text = pd.DataFrame({key: _stripped(table, cells, column).to_numpy() for key, column in text_columns.items()},
                        index=index)
    dropped = pd.DataFrame({"row": dropped.index.astype(int), "reason": dropped.to_numpy()})
    return Measures(values.set_axis(index), text, pd.Series(table.index.to_numpy(), index=index, name="row"), dropped,
                    pd.Series(converted, name="n_converted", dtype=int))


def column_not_found(headers: list[str], path, key: str, **where) -> InputError:
    """The error for a column the params name that the data file (``path``, params section ``key``) lacks; ``where``
    locates it (:class:`InputError`'s keywords)."""
    row = "" if is_parquet(path) else f", or set {key}.header_row to the row that holds the headers"
    return InputError(f"column not found (the file's headers are: {', '.join(headers)}); write the header as it is "
                      f"in the file{row}", **where)


#: Two cells of a matrix that mirror each other agree when they differ by no more than this.
SYMMETRY_TOLERANCE = 1e-12


def read_matrix(source: DataSource, path: Path, indicators) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A published correlation or covariance matrix (``source.matrix``), as a correlation matrix of the
    ``indicators`` (objects with ``id`` and ``source_column``), labelled by their ids in their order, and a log.

    The file's header row and its first column name the indicators (other rows and columns are ignored). A cell
    left empty takes the value of its mirror across the diagonal, so a study's lower (or upper) triangle is enough;
    an empty diagonal cell of a correlation matrix is 1. A covariance matrix is turned into correlations,
    :math:`r_{ij} = s_{ij} / \\sqrt{s_{ii} s_{jj}}`. Errors name the cell: a missing indicator, a cell that is
    not a number, two mirrored cells that differ (by more than :data:`SYMMETRY_TOLERANCE`), a correlation outside
    [-1, 1] or a diagonal other than 1, a matrix that is not positive definite (a typing error, or pairwise
    correlations that no data could give; the factor analysis needs its inverse).

    Returns
    -------
    correlation : DataFrame
        indicator x indicator.
    log : DataFrame
        One row: ``of`` (correlation or covariance), ``n_obs``, ``indicators``, ``cells_from_mirror`` (cells
        filled from across the diagonal), ``smallest_eigenvalue``.
    """
    data = read_customer_file(source, path)
    names = data.table.iloc[:, 0].astype(str).str.strip()
    label = data.table.columns[0]
    rows = {}
    for indicator in indicators:
        column = indicator.source_column
        if column not in data.positions:
            raise InputError(f"indicator '{indicator.id}' is not a column of the matrix (its headers are: "
                             f"{', '.join(list(data.positions)[1:])}): write the header as it is in the file",
                             **data.where(column))
        found = np.flatnonzero(names.to_numpy() == column)
        if found.size != 1:
            raise InputError(f"indicator '{indicator.id}' names {found.size} rows of the matrix (first column): "
                             "give it exactly one row, labelled as its column", **data.where(label))
        rows[indicator.id] = int(found[0])
    columns = [i.source_column for i in indicators]
    cells = data.table.iloc[list(rows.values())][columns]
    values = np.column_stack([parse_numbers(cells[c], "", file=path, column=c, rows=cells.index, sheet=data.sheet)
                              for c in columns])
    empty = np.isnan(values)
    mirrored = empty & ~empty.T
    values = np.where(mirrored, values.T, values)
    p = len(columns)
    diagonal = np.arange(p)
    if source.matrix.of == "correlation":
        values[diagonal, diagonal] = np.where(np.isnan(values[diagonal, diagonal]), 1.0, values[diagonal, diagonal])

    def where(i: int, j: int) -> dict:
        return data.where(columns[j], int(cells.index[i]))

    for i, j in zip(*np.nonzero(np.isnan(values))):
        raise InputError(f"the cell of '{columns[i]}' and '{columns[j]}' is empty on both sides of the diagonal: "
                         "give the value", **where(i, j))
    for i, j in zip(*np.nonzero(np.abs(values - values.T) > SYMMETRY_TOLERANCE * np.maximum(1.0, np.abs(values)))):
        raise InputError(f"the matrix is not symmetric: this cell is {values[i, j]:g}, its mirror ('{columns[j]}' "
                         f"row, '{columns[i]}' column) {values[j, i]:g}: make them equal, or leave one empty",
                         **where(i, j))
    if source.matrix.of == "covariance":
        for i in np.flatnonzero(values[diagonal, diagonal] <= 0):
            raise InputError(f"a variance must be positive, not {values[i, i]:g}", **where(i, i))
        scale = 1.0 / np.sqrt(values[diagonal, diagonal])
        values = values * np.outer(scale, scale)
    else:
        for i in np.flatnonzero(values[diagonal, diagonal] != 1.0):
            raise InputError(f"a correlation matrix has 1 on its diagonal, not {values[i, i]:g}: write 1, or set "
                             "data.matrix.of: covariance", **where(i, i))
        for i, j in zip(*np.nonzero(np.abs(values) > 1.0)):
            raise InputError(f"a correlation lies in [-1, 1], not {values[i, j]:g}", **where(i, j))
    smallest = float(np.linalg.eigvalsh(values)[0])
    if smallest <= 0:
        raise InputError(f"the matrix is not positive definite (smallest eigenvalue {smallest:.3g}): no data give "
                         "such correlations; check the cells for typing errors against the source", file=path,
                         sheet=data.sheet)
    ids = [i.id for i in indicators]
    log = pd.DataFrame([{"of": source.matrix.of, "n_obs": source.matrix.n_obs, "indicators": p,
                         "cells_from_mirror": int(mirrored.sum()), "smallest_eigenvalue": smallest}])
    return pd.DataFrame(values, index=pd.Index(ids, name="indicator"), columns=ids), log


def _check_excel_cells(data: DataFile, table: pd.DataFrame, needed, percent_columns) -> dict:
    """Stop at an Excel error value or a formula without a saved result in a needed column of the kept rows;
    return, for each ``%`` column, which of its cells are percent-formatted (a boolean Series). The workbook's
    cell types are read (:func:`crmlib.spreadsheet.cell_facts`) only when a needed cell is empty or a ``%``
    column is needed: otherwise no error, formula or format can change what is read."""
    empty = (table[needed] == "")
    if data.sheet is None or not (empty.to_numpy().any() or percent_columns):
        return {}
    facts = spreadsheet.cell_facts(data.path, data.sheet)
    for column in needed:
        position = data.positions[column]
        for row in table.index[empty[column].to_numpy()]:
            if (row, position) in facts.errors:
                raise InputError(f"the cell holds the Excel error {facts.errors[(row, position)]}: correct it in the "
                                 "workbook (or clear it if the value is unknown) and save", **data.where(column, row))
            if (row, position) in facts.formulas:
                raise InputError("the cell holds a formula with no saved result (the workbook was written by a "
                                 "program and never calculated, or the formula gives an error): open it in Excel, "
                                 "let it calculate and save it, or paste the values", **data.where(column, row))
    return {column: pd.Series([(row, data.positions[column]) in facts.percent for row in table.index],
                              index=table.index) for column in percent_columns}


def _check_range(values: np.ndarray, bounds, cells: pd.Series, data: DataFile, measure, rows) -> None:
    """Stop at the first value outside the measure's declared plausible range ``[low, high]`` (either may be
    None)."""
    if bounds is None:
        return
    low, high = bounds
    outside = ((values < low) if low is not None else False) | ((values > high) if high is not None else False)
    outside = np.asarray(outside, dtype=bool) & ~np.isnan(values)
    if outside.any():
        position = int(np.flatnonzero(outside)[0])
        raise out_of_range(values[position], cells.iloc[position], measure,
                           **data.where(measure.source_column, int(rows[position])))


def out_of_range(value: float, cell, measure, **where) -> InputError:
    """The error for a value outside its measure's declared plausible range (``valid_range``); ``where`` locates
    the cell (:class:`InputError`'s keywords)."""
    low, high = measure.valid_range
    shown = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
    return InputError(f"value {value:g} (cell '{cell}') is outside the plausible range {shown} declared for "
                      f"indicator '{measure.id}' (valid_range): correct the cell, or widen the range if the value is "
                      "real", **where)


def read_indicators(params: CaseParams) -> pd.DataFrame:
    """The case's indicators as numbers, one row per customer, indexed by customer id (see :func:`read_measures`)."""
    return read_measures(params.data, params.data_path, params.indicators).values


def decode(cells: pd.Series, codes: dict[str, float], *, file=None, column=None, first_row: int = 2,
           rows=None, sheet=None) -> pd.Series:
    """Replace coded text answers by their numbers (as text); empty cells stay empty (missing).

    Raises
    ------
    InputError
        On the first non-empty cell that is not one of the codes.
    """
    text = cells.astype(str).str.strip()
    unknown = np.flatnonzero(((text != "") & ~text.isin(list(codes))).to_numpy())
    if unknown.size:
        position = int(unknown[0])
        raise InputError(f"answer '{text.iloc[position]}' is not one of the declared codes "
                         f"({', '.join(codes)}): correct the answer, or add it to the item's codes", file=file,
                         sheet=sheet, column=column, row=_file_row(position, first_row, rows))
    return text.map(lambda cell: repr(float(codes[cell])) if cell else "")


def write_bytes(data: bytes, path) -> Path:
    """Write a file atomically: a temporary file in the same directory, then a rename, so a reader never
    sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; outputs are meant to be read by others
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_table(table: pd.DataFrame, path, *, bom: bool = False) -> Path:
    """Write a table as UTF-8 CSV atomically (:func:`write_bytes`); with ``bom``, preceded by the UTF-8 byte-order
    mark, so that Excel on Windows opens the Chinese as Chinese (tables for readers; stage tables for programs have
    none).

    The index is written only when it is named (e.g. ``customer_id``). A path
    ending in ``.gz`` is gzip-compressed with no timestamp or file name in the
    header, so the bytes depend on the table only.
    Floats are written in their shortest round-trip form, so equal numbers
    give equal bytes.
    """
    path = Path(path)
    text = table.to_csv(index=table.index.name is not None, lineterminator="\n").encode("utf-8-sig" if bom else "utf-8")
    return write_bytes(gzip.compress(text, compresslevel=9, mtime=0) if path.suffix == ".gz" else text, path)


def table_file_row(path, columns: list[str], match, *, nth: int = 0, encoding: str = "utf-8",
                   blanks: bool = False) -> int | None:
    """The file row (header = row 1) of the ``nth`` row of a text table (CSV; with ``blanks``, columns separated by
    runs of blanks) where ``match(*cells)`` holds, ``cells`` being the ``columns`` as trimmed text; for an error
    found by an engine, which does not keep row numbers: the file is read again only on that error path. A Parquet
    source has no rows to name (None)."""
    if is_parquet(path):
        return None
    table = pd.read_csv(path, sep=r"\s+" if blanks else ",", usecols=columns, encoding=encoding, dtype=str,
                        keep_default_na=False)
    hits = np.flatnonzero(np.asarray(match(*(table[c].str.strip() for c in columns))))
    return int(hits[nth]) + 2 if hits.size > nth else None


#: A stage table of more rows than this is written as Parquet (``<name>.parquet``), not CSV: the per-customer
#: tables of a branch- or bank-scale base, which CSV makes several times slower to write and read (the shipped
#: cases' tables, at most 23,570 rows, stay CSV).
PARQUET_ROWS = 100_000


def table_file(directory, name: str) -> Path:
    """The file of stage table ``name``: ``<name>.parquet`` when there is one, else ``<name>.csv``."""
    parquet = Path(directory) / f"{name}.parquet"
    return parquet if parquet.is_file() else Path(directory) / f"{name}.csv"


def write_stage_table(table: pd.DataFrame, directory, name: str, *, bom: bool = False) -> Path:
    """Write stage table ``name`` into ``directory``: CSV (:func:`write_table`, with ``bom`` for a table readers
    open in Excel), or Parquet when it has more than :data:`PARQUET_ROWS` rows (written atomically too; no
    timestamps, so equal tables give equal bytes). The file of the other format, from an earlier run, is removed;
    returns the path written."""
    directory = Path(directory)
    if len(table) > PARQUET_ROWS:
        path = directory / f"{name}.parquet"
        write_bytes(table.to_parquet(index=table.index.name is not None), path)
        (directory / f"{name}.csv").unlink(missing_ok=True)
        return path
    (directory / f"{name}.parquet").unlink(missing_ok=True)
    return write_table(table, directory / f"{name}.csv", bom=bom)


def read_parquet_table(path) -> pd.DataFrame:
    """A stage table written as Parquet, with its key (``customer_id``) as a column, as in the CSV."""
    table = pd.read_parquet(path)
    return table.reset_index() if table.index.name is not None else table


def read_table(directory, name: str, index: str | None = None) -> pd.DataFrame:
    """Read a stage table written by :func:`write_stage_table` (``<directory>/<name>.csv`` or ``.parquet``);
    customer ids (and the ``index`` column) as text."""
    path = table_file(directory, name)
    if not path.is_file():
        raise InputError(f"stage table '{name}' not found: run the earlier stages first", file=path)
    if path.suffix == ".parquet":
        table = read_parquet_table(path)
    else:
        table = pd.read_csv(path, encoding="utf-8", dtype={"customer_id": str} | ({index: str} if index else {}),
                            float_precision="round_trip")
    return table.set_index(index) if index else table


def engine_source(directory, name: str):
    """Stage table ``name`` of ``directory`` for an engine to register (:meth:`crmlib.engine.Engine.table`): its
    Parquet file as it is, never loaded here (a table above :data:`PARQUET_ROWS` rows), or a CSV, a small table,
    read by :func:`read_table`, which keeps ids as text."""
    path = table_file(directory, name)
    return path if path.suffix == ".parquet" else read_table(directory, name)


def processed_dir(case: str, output_dir) -> Path:
    """Directory of a case's stage tables: ``output_dir``, or ``$CRMLIB_OUTPUT_DIR/<case>`` when that is set."""
    override = os.environ.get(OUTPUT_DIR_ENV)
    return Path(override) / case if override else Path(output_dir)
